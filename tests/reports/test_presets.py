"""The report page's preset windows: local dates [start, end), across year boundaries."""

from __future__ import annotations

from datetime import date

import pytest

from reports.presets import presets


def windows(today):
    return {p.key: (p.start.isoformat(), p.end.isoformat()) for p in presets(today)}


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (
            date(2026, 11, 15),
            {
                "this_month": ("2026-11-01", "2026-12-01"),
                "last_month": ("2026-10-01", "2026-11-01"),
                "this_year": ("2026-01-01", "2027-01-01"),
                "last_academic_year": ("2025-09-01", "2026-09-01"),
            },
        ),
        # January: last month is December of the year before.
        (
            date(2027, 1, 15),
            {
                "this_month": ("2027-01-01", "2027-02-01"),
                "last_month": ("2026-12-01", "2027-01-01"),
                "this_year": ("2027-01-01", "2028-01-01"),
                "last_academic_year": ("2025-09-01", "2026-09-01"),
            },
        ),
        # December: this month ends in January of the next year.
        (
            date(2026, 12, 31),
            {
                "this_month": ("2026-12-01", "2027-01-01"),
                "last_month": ("2026-11-01", "2026-12-01"),
                "this_year": ("2026-01-01", "2027-01-01"),
                "last_academic_year": ("2025-09-01", "2026-09-01"),
            },
        ),
        # The academic year turns on 1 September: on 31 August 2026 the year 2025-2026
        # is still running, so the last one is 2024-2025.
        (
            date(2026, 8, 31),
            {
                "this_month": ("2026-08-01", "2026-09-01"),
                "last_month": ("2026-07-01", "2026-08-01"),
                "this_year": ("2026-01-01", "2027-01-01"),
                "last_academic_year": ("2024-09-01", "2025-09-01"),
            },
        ),
        (
            date(2026, 9, 1),
            {
                "this_month": ("2026-09-01", "2026-10-01"),
                "last_month": ("2026-08-01", "2026-09-01"),
                "this_year": ("2026-01-01", "2027-01-01"),
                "last_academic_year": ("2025-09-01", "2026-09-01"),
            },
        ),
    ],
)
def test_preset_windows(today, expected):
    assert windows(today) == expected


def test_presets_in_order_with_labels():
    with_labels = [(p.key, str(p.label)) for p in presets(date(2026, 11, 15))]
    assert [key for key, _label in with_labels] == [
        "this_month",
        "last_month",
        "this_year",
        "last_academic_year",
    ]
    assert all(label for _key, label in with_labels)
