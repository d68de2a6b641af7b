"""Read .ics bytes with three independent parsers and check that they agree."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import vobject
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar


def _moment(value: Any) -> datetime | date:
    if isinstance(value, datetime):
        assert value.tzinfo is not None, "floating time in a feed"
        return value.astimezone(UTC)
    assert isinstance(value, date)
    return value


def _with_icalendar(body: bytes) -> dict[str, dict[str, Any]]:
    cal = Calendar.from_ical(body)
    return {
        str(event["UID"]): {
            "start": _moment(event.start),
            "end": _moment(event.end),
            "status": str(event["STATUS"]),
            "sequence": int(event["SEQUENCE"]),
            "summary": str(event["SUMMARY"]),
        }
        for event in cal.walk("VEVENT")
    }


def _with_ical(body: bytes) -> dict[str, dict[str, Any]]:
    cal = IcsCalendarStream.calendar_from_ics(body.decode())
    return {
        event.uid: {
            "start": _moment(event.dtstart),
            "end": _moment(event.dtend),
            "status": event.status.value if event.status else None,
            "sequence": event.sequence,
            "summary": event.summary,
        }
        for event in cal.events
    }


def _with_vobject(body: bytes) -> dict[str, dict[str, Any]]:
    # vobject reads the VTIMEZONE of the file itself (through dateutil), not a zone
    # database: it checks the VTIMEZONE we write.
    cal = vobject.readOne(body.decode())
    return {
        event.uid.value: {
            "start": _moment(event.dtstart.value),
            "end": _moment(event.dtend.value),
            "status": event.status.value,
            "sequence": int(event.sequence.value),
            "summary": event.summary.value,
        }
        for event in getattr(cal, "vevent_list", [])
    }


def parse_all(body: bytes) -> dict[str, dict[str, Any]]:
    """Events by UID; fails unless icalendar, ical and vobject read the same thing."""
    first = _with_icalendar(body)
    assert _with_ical(body) == first
    assert _with_vobject(body) == first
    return first


def calendar_property(body: bytes, name: str) -> str:
    return str(Calendar.from_ical(body)[name])
