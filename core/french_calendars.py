"""French public holidays and zone B school holidays, known without network access."""

from __future__ import annotations

from datetime import date, timedelta
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


# How far ahead a term preset looks for the holidays that end it.
TERM_LOOKAHEAD = timedelta(days=400)


def holiday_starts(first: date, last: date) -> list[tuple[date, str]]:
    """First days of the zone B school holidays between two dates, with their names."""
    days = school_holidays(first - timedelta(days=1), last)
    return [
        (day, school_holiday_names(day.year).get(day, ""))
        for day in sorted(days)
        if day >= first and day - timedelta(days=1) not in days
    ]


def is_summer(holiday_name: str) -> bool:
    """Whether a zone B holiday (named in French by the calendar) ends the school year."""
    return "été" in holiday_name.lower()


def term_end(preset: str, day: date) -> date | None:
    """The last day of a term preset from `day`: the eve of the next school holidays, or of
    the summer holidays. None when the zone B calendar does not cover the way there."""
    last = day + TERM_LOOKAHEAD
    for start, name in holiday_starts(day + timedelta(days=1), last):
        if preset == "next_holidays" or (preset == "school_year_end" and is_summer(name)):
            end = start - timedelta(days=1)
            years = range(day.year, start.year + 1)
            return end if all(school_years_covered(y) for y in years) else None
    return None


def school_calendar_end(year: int) -> date | None:
    """The last day the zone B school calendar is known, looking from `year` on: the end of
    the last summer holidays published (the calendar years are only partly covered)."""
    covered = school_years_covered
    for back in range(10):  # a year beyond the data: the last one published before it
        if covered(year - back):
            year -= back
            break
    else:
        return None
    while covered(year + 1):
        year += 1
    return max(school_holiday_names(year))
