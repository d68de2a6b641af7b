"""Report rounding, in one place: each figure is rounded once, half up, from exact integers.

The database sums durations in microseconds and amounts in microseconds × cents per hour
(see `reports.sql`); only here do they become hours with 2 decimals, euros with 2
decimals and ratios with 4. Reports, the page and every export (JSON, CSV, XLSX, grouped
or one row per reservation) go through these functions, so they always show the same
digits.
"""

from __future__ import annotations

from decimal import Decimal

HOUR = 3_600_000_000  # microseconds


def hundredths_of_hours(microseconds: int) -> int:
    """Microseconds as whole hundredths of an hour, rounded half up."""
    return (microseconds * 100 + HOUR // 2) // HOUR


def cents(units: int) -> int:
    """Microseconds × cents per hour as whole cents, rounded half up."""
    return (units + HOUR // 2) // HOUR


def hours(microseconds: int) -> Decimal:
    """Microseconds as hours with 2 decimals, rounded half up."""
    return Decimal(hundredths_of_hours(microseconds)).scaleb(-2)


def euros(units: int) -> Decimal:
    """Microseconds × cents per hour as euros with 2 decimals, rounded half up."""
    return Decimal(cents(units)).scaleb(-2)


def ratio(part: int, whole: int) -> Decimal:
    """part ÷ whole between 0 and 1 with 4 decimals, rounded half up (0 when whole is 0)."""
    if whole <= 0:
        return Decimal("0.0000")
    return Decimal(min(10_000, (part * 10_000 + whole // 2) // whole)).scaleb(-4)


def fixed2(hundredths: int, *, decimal_comma: bool = False) -> str:
    """Whole hundredths as text with 2 decimals: 1234 is `12.34` (or `12,34`)."""
    whole, part = divmod(hundredths, 100)
    return f"{whole}{',' if decimal_comma else '.'}{part:02d}"


def hours_number(microseconds: int) -> float:
    """Microseconds as a number of hours, rounded as `hours()` (for XLSX and JSON)."""
    return hundredths_of_hours(microseconds) / 100


def euros_number(units: int) -> float:
    """Microseconds × cents per hour as a number of euros, rounded as `euros()`."""
    return cents(units) / 100
