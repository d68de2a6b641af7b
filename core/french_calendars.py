"""French public holidays and zone B school holidays, known without network access."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import holidays
from vacances_scolaires_france import SchoolHolidayDates, UnsupportedYearException

ZONE = "B"  # Centre-Val de Loire (Orléans-Tours academy)


@lru_cache(maxsize=32)
def school_holiday_names(year: int) -> dict[date, str]:
    """Zone B school holiday dates of a calendar year with the holiday's name; empty for
    a year the package does not cover."""
    try:
        data = SchoolHolidayDates().holidays_for_year_and_zone(year, ZONE)
    except UnsupportedYearException:
        # Years the package does not cover have no known school holidays: teaching
        # windows then apply every week, the strict reading for a teacher's priority.
        return {}
    return {day: str(info.get("nom_vacances") or "") for day, info in data.items()}


def _school_year(year: int) -> frozenset[date]:
    return frozenset(school_holiday_names(year))


def school_holidays(first: date, last: date) -> frozenset[date]:
    """Zone B school holiday dates between two local dates, both included."""
    days: set[date] = set()
    for year in range(first.year, last.year + 1):
        days.update(d for d in _school_year(year) if first <= d <= last)
    return frozenset(days)


def school_years_covered(year: int) -> bool:
    return bool(_school_year(year))


@lru_cache(maxsize=32)
def _public_year(year: int) -> dict[date, str]:
    return dict(holidays.country_holidays("FR", years=year, language="fr"))


def public_holidays(first: date, last: date) -> dict[date, str]:
    """French public holidays (name in French) between two dates, both included."""
    found: dict[date, str] = {}
    for year in range(first.year, last.year + 1):
        found.update({d: n for d, n in _public_year(year).items() if first <= d <= last})
    return found
