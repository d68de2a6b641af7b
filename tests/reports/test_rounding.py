"""Report rounding: once, half up, from exact integers; the same digits in every form."""

from __future__ import annotations

from decimal import Decimal

import pytest

from reports import rounding

HOUR = rounding.HOUR
HALF_HUNDREDTH = HOUR // 200  # 18 seconds: 0.005 h


@pytest.mark.parametrize(
    ("microseconds", "expected"),
    [
        (0, "0.00"),
        (HALF_HUNDREDTH - 1, "0.00"),
        (HALF_HUNDREDTH, "0.01"),  # half up
        (HOUR, "1.00"),
        (HOUR * 7 // 4, "1.75"),
        (HOUR * 1000 + HALF_HUNDREDTH, "1000.01"),
    ],
)
def test_hours_round_half_up_in_every_form(microseconds, expected):
    assert rounding.hours(microseconds) == Decimal(expected)
    assert str(rounding.hours(microseconds)) == expected
    hundredths = rounding.hundredths_of_hours(microseconds)
    assert rounding.fixed2(hundredths) == expected
    assert rounding.fixed2(hundredths, decimal_comma=True) == expected.replace(".", ",")
    assert rounding.hours_number(microseconds) == float(expected)


@pytest.mark.parametrize(
    ("units", "expected"),
    [
        (0, "0.00"),
        (HOUR // 2 - 1, "0.00"),
        (HOUR // 2, "0.01"),  # half a cent, up
        (HOUR * 3050 * 3 // 2, "45.75"),  # 1.5 h at 30.50 €/h
    ],
)
def test_euros_round_half_up(units, expected):
    assert str(rounding.euros(units)) == expected
    assert rounding.fixed2(rounding.cents(units)) == expected
    assert rounding.euros_number(units) == float(expected)


@pytest.mark.parametrize(
    ("part", "whole", "expected"),
    [
        (0, 0, "0.0000"),  # no open hours
        (5, 0, "0.0000"),
        (1, 3, "0.3333"),
        (2, 3, "0.6667"),
        (1, 20_000, "0.0001"),  # half up
        (7, 5, "1.0000"),  # booked outside opening hours: capped
    ],
)
def test_ratio_has_four_decimals_between_0_and_1(part, whole, expected):
    assert str(rounding.ratio(part, whole)) == expected
