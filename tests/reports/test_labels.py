"""What people read of a report: numbers and months in the page's language, column names
in words."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from reports.labels import column_header, figure_text, group_label, month_label

NBSP = "\N{NO-BREAK SPACE}"


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "fr",
            {
                "amount": f"15{NBSP}965,00{NBSP}€",
                "booked_hours": f"1{NBSP}234,50",
                "reservations": f"12{NBSP}345",
                "utilisation": f"42,5{NBSP}%",
            },
        ),
        (
            "en",
            {
                "amount": f"15,965.00{NBSP}€",
                "booked_hours": "1,234.50",
                "reservations": "12,345",
                "utilisation": f"42.5{NBSP}%",
            },
        ),
    ],
)
def test_figures_in_the_language_of_the_page(language, expected):
    values = {
        "amount": Decimal("15965.00"),
        "booked_hours": Decimal("1234.50"),
        "reservations": 12345,
        "utilisation": Decimal("0.4250"),
    }
    with translation.override(language):
        assert {name: figure_text(name, value) for name, value in values.items()} == expected


def test_months_in_words():
    with translation.override("fr"):
        assert month_label("2027-03") == "mars 2027"
        assert group_label("month", "2026-12") == "décembre 2026"
    with translation.override("en"):
        assert month_label("2027-03") == "March 2027"
    assert month_label("not a month") == "not a month"


def test_group_labels():
    with translation.override("en"):
        assert group_label("project_kind", "pedagogical") == "Pedagogical"
        assert group_label("equipment", {"id": 1, "code": "WL-1", "name": "HPLC"}) == "WL-1"
        assert group_label("partner", {"id": 2, "name": "Servier"}) == "Servier"


def test_column_headers_are_words():
    with translation.override("fr"):
        assert column_header("booked_hours") == "Heures réservées"
        assert column_header("amount") == "Montant (€)"
    with translation.override("en"):
        assert column_header("booked_hours") == "Booked hours"
        assert column_header("equipment_code") == "Equipment code"
    assert column_header("unknown_column") == "unknown_column"
