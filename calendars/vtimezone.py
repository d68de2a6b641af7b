"""The VTIMEZONE of the local time zone, written as yearly rules.

icalendar's `add_missing_timezones()` describes a zone by listing every transition from
1970 to 2038 in RDATE properties. That is valid RFC 5545, but Outlook is known to
misread RDATE-based VTIMEZONEs, and vobject (through dateutil) keeps only the first
date of a multi-valued RDATE, so it reads Paris as UTC+1 all year. Calendar servers
(Google, Exchange) publish the rule form instead: one DAYLIGHT and one STANDARD
observance with `RRULE:FREQ=YEARLY;BYMONTH=..;BYDAY=-1SU`. This module derives those
rules from zoneinfo, checks that they reproduce every transition since they started
(for Paris: since 1996) up to 2037, and otherwise falls back to icalendar's own form.
"""

from __future__ import annotations

import calendar as month_calendar
import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vRecur

FIRST_YEAR = 1970
LAST_YEAR = 2037
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Transition:
    onset: datetime  # local wall time before the change (RFC 5545: relative to TZOFFSETFROM)
    offset_from: timedelta
    offset_to: timedelta
    name: str
    dst: bool


def transitions(tz: ZoneInfo, first_year: int, last_year: int) -> list[Transition]:
    """Every change of UTC offset in [first_year, last_year], to the minute."""
    found = []
    day, minute = timedelta(days=1), timedelta(minutes=1)
    moment = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    while moment < end:
        following = moment + day
        before = moment.astimezone(tz).utcoffset()
        if following.astimezone(tz).utcoffset() != before:
            low, high = moment, following
            while high - low > minute:
                middle = low + (high - low) // 2
                middle -= timedelta(seconds=middle.second, microseconds=middle.microsecond)
                if middle <= low:
                    middle = low + minute
                if middle.astimezone(tz).utcoffset() == before:
                    low = middle
                else:
                    high = middle
            after = high.astimezone(tz)
            assert before is not None and after.utcoffset() is not None
            found.append(
                Transition(
                    onset=(high + before).replace(tzinfo=None),
                    offset_from=before,
                    offset_to=after.utcoffset(),  # type: ignore[arg-type]
                    name=after.tzname() or "",
                    dst=bool(after.dst()),
                )
            )
        moment = following
    return found


def _position(moment: datetime) -> int:
    """-1 for the last such weekday of its month, else 1 to 4."""
    if moment.day + 7 > month_calendar.monthrange(moment.year, moment.month)[1]:
        return -1
    return (moment.day - 1) // 7 + 1


def _same_rule(a: datetime, b: datetime) -> bool:
    return (
        a.month == b.month
        and a.weekday() == b.weekday()
        and a.time() == b.time()
        and _position(a) == _position(b)
    )


def rule_form(tzid: str) -> Timezone | None:
    """The VTIMEZONE as yearly rules, or None when the zone has no regular recent rules."""
    tz = ZoneInfo(tzid)
    changes = transitions(tz, FIRST_YEAR, LAST_YEAR)
    if not changes:  # no transition at all: one standard observance
        probe = datetime(LAST_YEAR, 1, 1, tzinfo=tz)
        only = TimezoneStandard()
        only.add("TZNAME", probe.tzname() or tzid)
        only.TZOFFSETFROM = probe.utcoffset()
        only.TZOFFSETTO = probe.utcoffset()
        # Observance onsets are local wall times (RFC 5545 §3.6.5), hence naive.
        only.DTSTART = datetime(FIRST_YEAR, 1, 1)  # noqa: DTZ001
        result = Timezone()
        result.add("TZID", tzid)
        result.add_component(only)
        return result
    # The last two transitions (one into DST, one out) define the current rules; walk
    # back while every earlier year follows them.
    last = changes[-2:]
    if len(last) != 2 or last[0].dst == last[1].dst:
        return None
    if last[0].onset.year != LAST_YEAR or last[1].onset.year != LAST_YEAR:
        return None  # the rules stopped (e.g. a zone that dropped DST): no yearly rule
    start = len(changes)
    while start > 0:
        candidate = changes[start - 1]
        model = last[(start - 1 - (len(changes) - 2)) % 2]
        if (
            candidate.dst != model.dst
            or candidate.offset_from != model.offset_from
            or candidate.offset_to != model.offset_to
            or candidate.name != model.name
            or not _same_rule(candidate.onset, model.onset)
        ):
            break
        start -= 1
    regular = changes[start:]
    if len(regular) < 4:  # fewer than two years of the current rules: keep the long form
        return None
    result = Timezone()
    result.add("TZID", tzid)
    for first in regular[:2]:
        observance = TimezoneDaylight() if first.dst else TimezoneStandard()
        observance.add("TZNAME", first.name)
        observance.TZOFFSETFROM = first.offset_from
        observance.TZOFFSETTO = first.offset_to
        observance.DTSTART = first.onset
        observance.add(
            "RRULE",
            vRecur(
                freq="YEARLY",
                bymonth=first.onset.month,
                byday=f"{_position(first.onset)}{WEEKDAYS[first.onset.weekday()]}",
            ),
        )
        result.add_component(observance)
    return result


def icalendar_form(tzid: str) -> Timezone:
    """What `Calendar.add_missing_timezones()` writes for the zone (every transition)."""
    probe = Calendar.new(prodid="-//probe//", uid="probe")
    probe.add_component(
        Event.new(
            uid="probe",
            stamp=datetime(2000, 1, 1, tzinfo=UTC),
            start=datetime(2000, 1, 1, tzinfo=ZoneInfo(tzid)),
        )
    )
    probe.add_missing_timezones()
    return probe.timezones[0]


@functools.cache
def local_vtimezone(tzid: str) -> Timezone:
    """The VTIMEZONE to publish for `tzid` (computed once per process)."""
    return rule_form(tzid) or icalendar_form(tzid)
