"""Recurring reservations: the RRULE subset of SPEC §3, expanded in local time.

A 09:00 class stays at 09:00 local across daylight-saving changes: occurrences are
computed on the local wall clock, then turned into instants.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule as du
from django.utils.translation import gettext as _

MAX_OCCURRENCES = 200
_FREQS = {"DAILY": du.DAILY, "WEEKLY": du.WEEKLY}
_DAYS = {"MO": du.MO, "TU": du.TU, "WE": du.WE, "TH": du.TH, "FR": du.FR, "SA": du.SA, "SU": du.SU}


class RecurrenceError(ValueError):
    pass


def _parse_until(value: str, tz: ZoneInfo) -> datetime:
    try:
        if len(value) == 8:  # a date: the whole local day is included
            day = datetime.strptime(value, "%Y%m%d").date()  # noqa: DTZ007 (a local date)
            return datetime.combine(day, time(23, 59, 59))
        if value.endswith("Z"):
            moment = datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=ZoneInfo("UTC"))
            return moment.astimezone(tz).replace(tzinfo=None)
        return datetime.strptime(value, "%Y%m%dT%H%M%S")  # noqa: DTZ007 (floating local time)
    except ValueError:
        raise RecurrenceError(
            _("UNTIL must be a date (YYYYMMDD) or a time (YYYYMMDDTHHMMSSZ).")
        ) from None


def expand(
    rule: str, start: datetime, end: datetime, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    """Expand an RRULE from the first occurrence [start, end); raise RecurrenceError."""
    text = rule.strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    parts: dict[str, str] = {}
    for chunk in filter(None, text.split(";")):
        key, sep, value = chunk.partition("=")
        if not sep or not value:
            raise RecurrenceError(_("Malformed RRULE part: %(part)s.") % {"part": chunk})
        key = key.strip().upper()
        if key in parts:
            raise RecurrenceError(_("RRULE part given twice: %(part)s.") % {"part": key})
        parts[key] = value.strip().upper() if key != "UNTIL" else value.strip()
    unknown = set(parts) - {"FREQ", "INTERVAL", "BYDAY", "UNTIL", "COUNT"}
    if unknown:
        raise RecurrenceError(
            _("Unsupported RRULE parts: %(parts)s.") % {"parts": ", ".join(sorted(unknown))}
        )
    if parts.get("FREQ") not in _FREQS:
        raise RecurrenceError(_("FREQ must be DAILY or WEEKLY."))
    if ("UNTIL" in parts) == ("COUNT" in parts):
        raise RecurrenceError(_("Give either UNTIL or COUNT."))
    kwargs: dict = {}
    try:
        interval = int(parts.get("INTERVAL", "1"))
        count = int(parts["COUNT"]) if "COUNT" in parts else None
    except ValueError:
        raise RecurrenceError(_("INTERVAL and COUNT must be whole numbers.")) from None
    if not 1 <= interval <= 52:
        raise RecurrenceError(_("INTERVAL must be between 1 and 52."))
    if count is not None:
        if not 1 <= count <= MAX_OCCURRENCES:
            raise RecurrenceError(
                _("A series has at most %(n)d occurrences.") % {"n": MAX_OCCURRENCES}
            )
        kwargs["count"] = count
    local_start = start.astimezone(tz).replace(tzinfo=None)
    local_end = end.astimezone(tz).replace(tzinfo=None)
    if "UNTIL" in parts:
        until = _parse_until(parts["UNTIL"], tz)
        if until < local_start:
            raise RecurrenceError(_("UNTIL is before the first occurrence."))
        kwargs["until"] = until
    if "BYDAY" in parts:
        try:
            kwargs["byweekday"] = [_DAYS[d] for d in parts["BYDAY"].split(",")]
        except KeyError:
            raise RecurrenceError(_("BYDAY takes MO, TU, WE, TH, FR, SA, SU.")) from None
    rule_obj = du.rrule(_FREQS[parts["FREQ"]], dtstart=local_start, interval=interval, **kwargs)
    duration = local_end - local_start
    occurrences: list[tuple[datetime, datetime]] = []
    for index, local in enumerate(rule_obj):
        if index >= MAX_OCCURRENCES:
            raise RecurrenceError(
                _("A series has at most %(n)d occurrences.") % {"n": MAX_OCCURRENCES}
            )
        occurrences.append(_occurrence(local, duration, tz))
    if not occurrences:
        raise RecurrenceError(_("The rule gives no occurrence."))
    return occurrences


def _instant(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(ZoneInfo("UTC"))


def _occurrence(local: datetime, duration: timedelta, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """One occurrence in UTC: the same wall times every time (a 09:00 class stays at 09:00
    across the clock changes).

    A start that the spring change skips (02:00-03:00 on the last Sunday of March) does
    not exist: the whole occurrence moves forward with the clocks and keeps its length
    (02:30-03:30 becomes 03:30-04:30), rather than shrinking or becoming empty.
    """
    start = _instant(local, tz)
    if start.astimezone(tz).replace(tzinfo=None) != local:
        return start, start + duration
    return start, _instant(local + duration, tz)
