"""The published VTIMEZONE: yearly rules that agree with zoneinfo (no database needed)."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil import tz as dateutil_tz
from icalendar import Timezone

from calendars.vtimezone import icalendar_form, local_vtimezone, rule_form, transitions

PARIS_RULES = (
    "BEGIN:VTIMEZONE\r\n"
    "TZID:Europe/Paris\r\n"
    "BEGIN:DAYLIGHT\r\n"
    "DTSTART:19960331T020000\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n"
    "TZNAME:CEST\r\n"
    "TZOFFSETFROM:+0100\r\n"
    "TZOFFSETTO:+0200\r\n"
    "END:DAYLIGHT\r\n"
    "BEGIN:STANDARD\r\n"
    "DTSTART:19961027T030000\r\n"
    "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n"
    "TZNAME:CET\r\n"
    "TZOFFSETFROM:+0200\r\n"
    "TZOFFSETTO:+0100\r\n"
    "END:STANDARD\r\n"
    "END:VTIMEZONE\r\n"
)


def test_paris_is_published_as_the_two_eu_rules():
    assert local_vtimezone("Europe/Paris").to_ical().decode() == PARIS_RULES


def test_paris_transitions_of_2026_are_the_last_sundays():
    found = transitions(ZoneInfo("Europe/Paris"), 2026, 2026)
    # Onsets are local wall times before the change (02:00 CET, 03:00 CEST).
    assert [(t.onset.isoformat(), t.name) for t in found] == [
        ("2026-03-29T02:00:00", "CEST"),
        ("2026-10-25T03:00:00", "CET"),
    ]


def probes(tzid: str, first_year: int) -> list[datetime]:
    """Instants around every transition from first_year to 2037, and mid-season ones."""
    zone = ZoneInfo(tzid)
    instants = []
    for change in transitions(zone, first_year, 2037):
        at = (change.onset - change.offset_from).replace(tzinfo=UTC)
        for delta in (-60, -1, 0, 1, 60):
            instants.append(at + timedelta(minutes=delta))
    for year in range(first_year, 2038):
        instants += [datetime(year, 1, 15, 12, tzinfo=UTC), datetime(year, 7, 15, 12, tzinfo=UTC)]
    return instants


@pytest.mark.parametrize(
    ("tzid", "since"),
    [
        ("Europe/Paris", 1996),
        ("Europe/London", 1996),
        ("America/New_York", 2007),
        ("Australia/Sydney", 2008),
    ],
)
def test_rules_agree_with_zoneinfo_in_two_independent_readers(tzid, since):
    component = rule_form(tzid)
    assert component is not None
    text = component.to_ical().decode()
    assert "RDATE" not in text
    zone = ZoneInfo(tzid)
    # dateutil (what vobject uses) and icalendar, both from the text, not from the name.
    by_dateutil = dateutil_tz.tzical(io.StringIO(text)).get()
    by_icalendar = Timezone.from_ical(text).to_tz(lookup_tzid=False)
    # From the year after the rules start: before their first onset a VTIMEZONE says nothing.
    for instant in probes(tzid, since + 1):
        expected = instant.astimezone(zone).utcoffset()
        assert instant.astimezone(by_dateutil).utcoffset() == expected, instant
        assert instant.astimezone(by_icalendar).utcoffset() == expected, instant


def test_zones_without_current_rules_fall_back_to_icalendar():
    # Shanghai observed DST in 1986-1991 only, Sao Paulo until 2019: no yearly rule today.
    assert rule_form("Asia/Shanghai") is None
    assert rule_form("America/Sao_Paulo") is None
    assert (
        local_vtimezone("America/Sao_Paulo").to_ical()
        == icalendar_form("America/Sao_Paulo").to_ical()
    )
    # No change at all since 1970: one standard observance.
    tokyo = rule_form("Asia/Tokyo")
    assert tokyo is not None
    assert "TZOFFSETTO:+0900" in tokyo.to_ical().decode()
    assert "RRULE" not in tokyo.to_ical().decode()
