"""French public holidays as closures, and the zone B school holidays we know (SPEC §4).

Both come from packages that ship their data (`holidays`, `vacances-scolaires-france`,
wrapped by core.french_calendars): no network. A public holiday closes whole local
days, [00:00, 00:00 the next day) in Europe/Paris, kind `holiday`, source
`holiday:<YYYY-MM-DD>`; creating them again for the same scope creates nothing.
School holidays are not closures (teaching windows and series use them); managers may list
the periods known, and a year the package does not cover is an error, not a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from core import timezones
from core.errors import DomainError
from core.french_calendars import (
    ZONE,
    public_holidays,
    school_calendar_end,
    school_holiday_names,
    school_years_covered,
)
from core.timezones import day_bounds, local_tz
from equipment.models import Equipment, Site
from reservations.models import Closure

from .ics_import import UTC, ImportedClosure, ImportOutcome, write_closures

FIRST_YEAR, LAST_YEAR = timezones.FIRST_YEAR, timezones.LAST_YEAR


@dataclass(frozen=True)
class SchoolHolidayPeriod:
    first: date
    last: date  # included
    name: str


class UnknownSchoolHolidays(DomainError):
    """The package has no zone B school holidays for these years."""

    def __init__(self, years: list[int]):
        super().__init__(
            "school_holidays_unknown",
            _(
                "Zone %(zone)s school holidays are not known for %(years)s: the "
                "vacances-scolaires-france package has no data for them (update it)."
            )
            % {"zone": ZONE, "years": ", ".join(str(y) for y in years)},
            years=years,
        )
        self.years = years


def _check_years(years: Iterable[int]) -> list[int]:
    wanted = sorted(set(years))
    bad = [y for y in wanted if not FIRST_YEAR <= y <= LAST_YEAR]
    if not wanted or bad:
        raise DomainError("bad_years", params={"first": FIRST_YEAR, "last": LAST_YEAR})
    return wanted


def public_holiday_closures(years: Iterable[int]) -> list[ImportedClosure]:
    """One whole-local-day closure per French public holiday of these years."""
    tz = local_tz()
    items = []
    for year in _check_years(years):
        for day, name in sorted(public_holidays(date(year, 1, 1), date(year, 12, 31)).items()):
            items.append(
                ImportedClosure(
                    uid=day.isoformat(),
                    summary=name,
                    start=day_bounds(day, tz)[0].astimezone(UTC),
                    end=day_bounds(day, tz)[1].astimezone(UTC),
                    kind=Closure.Kind.HOLIDAY,
                    source=f"holiday:{day.isoformat()}",
                )
            )
    return items


def import_public_holidays(
    *,
    years: Iterable[int],
    user: Any,
    now: datetime,
    equipment: Equipment | None = None,
    site: Site | None = None,
) -> ImportOutcome:
    """Close an equipment, a site or (neither) every site on the public holidays of `years`.

    Covered reservations are displaced like under any closure; all in one transaction.
    """
    return write_closures(
        public_holiday_closures(years), user=user, now=now, equipment=equipment, site=site
    )


def school_holiday_periods(years: Iterable[int]) -> list[SchoolHolidayPeriod]:
    """The zone B school holiday periods of these calendar years, or UnknownSchoolHolidays."""
    wanted = _check_years(years)
    unknown = [y for y in wanted if not school_years_covered(y)]
    if unknown:
        raise UnknownSchoolHolidays(unknown)
    days: dict[date, str] = {}
    for year in wanted:
        days.update(school_holiday_names(year))
    periods: list[SchoolHolidayPeriod] = []
    for day in sorted(days):
        name = days[day]
        last = periods[-1] if periods else None
        if last is not None and last.name == name and last.last + timedelta(days=1) == day:
            periods[-1] = SchoolHolidayPeriod(last.first, day, name)
        else:
            periods.append(SchoolHolidayPeriod(day, day, name))
    return periods


def school_holidays_known_until(years: Iterable[int]) -> date | None:
    """The last day of data when the last of these years is only partly covered."""
    last_year = max(_check_years(years))
    if not school_years_covered(last_year):
        return None
    # core.french_calendars knows where the calendar ends; here only whether that is
    # within the last year asked (data beyond it, or to its very end: nothing to say).
    end = school_calendar_end(last_year)
    return (
        end if end is not None and end.year == last_year and end < date(last_year, 12, 31) else None
    )
