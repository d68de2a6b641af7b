"""The report page's preset windows, as local dates `[start, end)` (pure: no clock read).

The academic year runs from 1 September to 31 August; "last academic year" is the last
one that has ended: on 6 December 2026 (or 15 January 2027) it is 2025-09-01 to
2026-09-01, and on 15 June 2027 as well, since 2026-2027 is still running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACADEMIC_YEAR_START_MONTH = 9


@dataclass(frozen=True)
class Preset:
    key: str
    label: Promise
    start: date
    end: date  # excluded


def _month_start(year: int, month: int) -> date:
    """The first day of a month given by a year and a month that may run past 1 to 12."""
    year, index = divmod(year * 12 + month - 1, 12)
    return date(year, index + 1, 1)


def presets(today: date) -> list[Preset]:
    """This month, last month, this year and last academic year, seen from `today` (local)."""
    this_month = _month_start(today.year, today.month)
    # The academic year under way began on the last 1 September on or before today.
    current_academic = today.year if today.month >= ACADEMIC_YEAR_START_MONTH else today.year - 1
    return [
        Preset(
            "this_month",
            _("This month"),
            this_month,
            _month_start(today.year, today.month + 1),
        ),
        Preset(
            "last_month",
            _("Last month"),
            _month_start(today.year, today.month - 1),
            this_month,
        ),
        Preset("this_year", _("This year"), date(today.year, 1, 1), date(today.year + 1, 1, 1)),
        Preset(
            "last_academic_year",
            _("Last academic year"),
            date(current_academic - 1, ACADEMIC_YEAR_START_MONTH, 1),
            date(current_academic, ACADEMIC_YEAR_START_MONTH, 1),
        ),
    ]
