"""Closures from an uploaded .ics file (SPEC §4): all or nothing, bounded, with a clear error.

Reading rules (where RFC 5545 and real exports leave a choice):
- Instants: a time with a TZID (IANA or a Windows name such as Outlook's
  `Romance Standard Time`, with or without its VTIMEZONE) or in UTC is that instant; a
  floating time is read in Europe/Paris (the first of two readings when the wall clock is
  ambiguous); Google's `X-WR-TIMEZONE` is honoured. An all-day event covers whole local
  days: [00:00 of its first day, 00:00 of the day after its last).
- Recurrences (RRULE, RDATE, EXDATE, RECURRENCE-ID) are expanded by recurring-ical-events
  within a window of one year back and five years ahead of now; occurrences outside it are
  not imported (a single event outside it is listed in `skipped`, `outside_window`).
- Limits: 2 MB (`file_too_large`), 5,000 occurrences (`too_many_occurrences`). A series
  whose rule would have to be stepped more than 100,000 times (every minute without end,
  or every day since 1700) is refused before expanding: dateutil steps from DTSTART, so
  such a rule costs minutes even when few of its occurrences fall in the window.
- Every bad entry (no DTSTART, an unreadable date or rule, an unknown time zone, an end
  not after its start) is reported with its UID, SUMMARY, index and line; nothing is
  written when any entry is bad.
- Reason: the SUMMARY (255 characters at most). Kind `holiday` when CATEGORIES or the
  SUMMARY contain one of HOLIDAY_WORDS (accents and case ignored), else `event`.
- Source: `ics:<UID>` for a single event, `ics:<UID>:<original start>` for an occurrence of
  a recurring one (its RECURRENCE-ID, in UTC, or the date of an all-day one). A closure of
  the same source and scope (equipment, site or every site) is not created again
  (`skipped`, `already_imported`), so importing a file twice creates nothing the second time.
- Cancelled occurrences (STATUS:CANCELLED) are listed in `skipped` (`cancelled`).
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import recurring_ical_events
import x_wr_timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Component, Event

from core.errors import DomainError
from core.timezones import local_tz
from equipment.models import Equipment, Site
from reservations.exceptions import BookingError
from reservations.models import Closure, Reservation
from reservations.services.access import can_manage_closure
from reservations.services.closures import ClosureSpec, closures_create
from reservations.services.transactions import run_in_transaction

UTC = ZoneInfo("UTC")
MAX_BYTES = 2 * 1024 * 1024
MAX_OCCURRENCES = 5000
# Upper bound of the steps dateutil may take over all rules (see the module docstring).
MAX_RULE_STEPS = 100_000
WINDOW_BACK = timedelta(days=366)
WINDOW_AHEAD = timedelta(days=5 * 366)
HOLIDAY_WORDS = ("vacances", "holiday", "ferie", "conge")
SOURCE_MAX = 255
REASON_MAX = 255

_FREQ_SECONDS = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 28 * 86400,
    "YEARLY": 365 * 86400,
}
# The values each BY part may take (RFC 5545 §3.3.10); 0 is refused where the RFC does.
_BY_RANGES = {
    "BYSECOND": (0, 60, True),
    "BYMINUTE": (0, 59, True),
    "BYHOUR": (0, 23, True),
    "BYMONTH": (1, 12, False),
    "BYMONTHDAY": (-31, 31, False),
    "BYYEARDAY": (-366, 366, False),
    "BYWEEKNO": (-53, 53, False),
    "BYSETPOS": (-366, 366, False),
}
_MONTH_DAYS = dict(enumerate((31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31), start=1))


def _rule_problem(rule: Any) -> str | None:
    """What makes a rule unusable, checked before expanding it.

    dateutil only stops at UNTIL or COUNT when an occurrence matches: a rule that can
    never match (30 February) would make it step to the year 9999, seconds per event.
    """
    for name, (low, high, zero) in _BY_RANGES.items():
        for value in rule.get(name) or []:
            if not isinstance(value, int) or not low <= value <= high or (value == 0 and not zero):
                return _("%(part)s=%(value)s is out of range.") % {"part": name, "value": value}
    count = rule.get("COUNT") or []
    if count and (not isinstance(count[0], int) or count[0] < 1):
        return _("COUNT must be a positive number.")
    if count and rule.get("UNTIL"):
        return _("COUNT and UNTIL cannot be used together.")
    days = rule.get("BYMONTHDAY") or []
    months = rule.get("BYMONTH") or list(_MONTH_DAYS)
    if days and not any(abs(d) <= _MONTH_DAYS[m] for m in months for d in days):
        return _("The rule never occurs (no such day in these months).")
    return None


_BY_PARTS = (
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
)
_DATE_PROPERTIES = ("DTSTART", "DTEND", "DURATION", "RECURRENCE-ID", "RRULE", "RDATE", "EXDATE")


class IcsImportError(DomainError):
    """A refused import: nothing was written. `errors` lists the bad entries."""

    def __init__(
        self,
        key: str,
        *,
        message: str | None = None,
        params: dict[str, Any] | None = None,
        errors: Sequence[dict[str, Any]] = (),
    ):
        super().__init__(key, message, params=params, errors=list(errors), created=[], skipped=[])
        self.errors = list(errors)


@dataclass(frozen=True)
class ImportedClosure:
    """One closure to create: an event or one occurrence of a recurring event."""

    uid: str
    summary: str
    start: datetime  # UTC
    end: datetime  # UTC
    kind: str
    source: str

    def describe(self, reason: str) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "summary": self.summary,
            "start": self.start,
            "end": self.end,
            "source": self.source,
            "reason": reason,
        }


@dataclass
class ParsedFile:
    closures: list[ImportedClosure]
    skipped: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ImportOutcome:
    created: list[Closure]
    skipped: list[dict[str, Any]]
    displaced: list[Reservation]


@dataclass
class _Entry:
    """A VEVENT of the file, with what we need to name it in an error."""

    index: int
    line: int | None
    uid: str
    summary: str
    component: Event

    def error(self, message: str) -> dict[str, Any]:
        return {
            "uid": self.uid,
            "summary": self.summary,
            "index": self.index,
            "line": self.line,
            "message": message,
        }


# --- reading -------------------------------------------------------------------------------


def _fold(text: str) -> str:
    """Lower case without accents: "Férié" and "FERIE" match the same word."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _kind(summary: str, categories: Iterable[str]) -> str:
    words = _fold(" ".join([summary, *categories]))
    return Closure.Kind.HOLIDAY if any(w in words for w in HOLIDAY_WORDS) else Closure.Kind.EVENT


def _instant(value: date | datetime, tz: ZoneInfo) -> datetime:
    """The UTC instant of an iCalendar date or time (floating and all-day read in `tz`)."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=tz).astimezone(UTC)
    if value.tzinfo is None or value.utcoffset() is None:
        # Floating: local wall clock. fold=0 keeps the first reading of an ambiguous time.
        return value.replace(tzinfo=tz).astimezone(UTC)
    return value.astimezone(UTC)


def _printable(error: Exception) -> str:
    """The parser's message without the binary it may quote, short enough to show."""
    text = "".join(c for c in str(error) if c.isprintable() and c != "\ufffd")
    return text[:160]


def _begin_lines(data: bytes) -> list[int]:
    """Line numbers (1-based) of each BEGIN:VEVENT, in document order."""
    lines = data.decode("utf-8", errors="replace").splitlines()
    # A line starting with a space continues the previous one (folding): not a BEGIN.
    return [n for n, line in enumerate(lines, start=1) if line.rstrip().upper() == "BEGIN:VEVENT"]


def _text(component: Component, name: str) -> str:
    value = component.get(name)
    if value is None:
        return ""
    if isinstance(value, list):
        value = value[0] if value else ""
    # One line of printable text: a NUL byte cannot even be stored by PostgreSQL.
    return "".join(c for c in " ".join(str(value).split()) if c.isprintable())


def _categories(component: Any) -> list[str]:
    try:
        return [str(c) for c in component.categories]
    except (ValueError, TypeError, AttributeError):
        return []


def _load(data: bytes) -> Calendar:
    if len(data) > MAX_BYTES:
        raise IcsImportError("file_too_large", params={"size": MAX_BYTES // (1024 * 1024)})
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        # Older Outlook exports are Windows-1252 (a superset of Latin-1), not UTF-8.
        data = data.decode("cp1252", errors="replace").encode("utf-8")
    try:
        calendar = Calendar.from_ical(data)
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
        # The parser answers garbage with ValueError mostly, but not only.
        raise IcsImportError("invalid_ics", params={"error": _printable(error)}) from None
    if not isinstance(calendar, Calendar) or calendar.name != "VCALENDAR":
        raise IcsImportError("invalid_ics.no_calendar")
    return calendar


def _entries(calendar: Calendar, data: bytes) -> list[_Entry]:
    lines = _begin_lines(data)
    entries = []
    for index, component in enumerate(calendar.walk("VEVENT"), start=1):
        assert isinstance(component, Event)  # icalendar builds every VEVENT as an Event
        uid = _text(component, "UID")
        if not uid:
            # RFC 5545 requires a UID; one derived from the content keeps re-imports idempotent.
            digest = hashlib.sha256(component.to_ical()).hexdigest()[:32]
            uid = f"nouid-{digest}"
            component["UID"] = uid
        entries.append(
            _Entry(
                index=index,
                line=lines[index - 1] if index <= len(lines) else None,
                uid=uid,
                summary=_text(component, "SUMMARY"),
                component=component,
            )
        )
    return entries


def _rule_steps(rule: Any, start: datetime, window_end: datetime, tz: ZoneInfo) -> int:
    """An upper bound of the steps dateutil takes for this rule up to the window's end."""
    freq = (rule.get("FREQ") or [None])[0]
    interval = (rule.get("INTERVAL") or [1])[0]
    stop = window_end
    for until in rule.get("UNTIL") or []:
        stop = min(stop, _instant(until, tz))
    if stop <= start:
        return 1
    periods = math.floor((stop - start).total_seconds() / (_FREQ_SECONDS[freq] * interval)) + 1
    by_parts = [rule[name] for name in _BY_PARTS if rule.get(name)]
    count = (rule.get("COUNT") or [None])[0]
    if count is not None and not by_parts:
        periods = min(periods, count)
    factor = math.prod(len(values) for values in by_parts)
    return periods * factor


def _check(entry: _Entry, window_end: datetime, tz: ZoneInfo) -> tuple[list[str], int]:
    """The problems of one VEVENT, and the steps its rules would take."""
    event = entry.component
    broken = [
        f"{name}: {str(message).rstrip('.')}"
        for name, message in event.errors
        if name in _DATE_PROPERTIES
    ]
    if broken:
        return [_("Unreadable %(what)s.") % {"what": "; ".join(broken)}], 0
    if "DTSTART" not in event:
        return [_("The event has no start (DTSTART).")], 0
    try:
        start_value = event.start
        end_value = event.end
        rules = list(event.rrules)
        rdates = list(event.rdates)
        list(event.exdates)
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        return [_("Unreadable dates: %(error)s") % {"error": _printable(error)}], 0
    for name in ("DTSTART", "DTEND"):
        prop = event.get(name)
        tzid = prop.params.get("TZID") if prop is not None else None
        value = getattr(prop, "dt", None)
        if tzid and isinstance(value, datetime) and value.tzinfo is None:
            return [_("Unknown time zone %(tzid)s.") % {"tzid": tzid}], 0
    if isinstance(start_value, datetime) != isinstance(end_value, datetime):
        return [_("The event mixes a date and a date with time.")], 0
    start = _instant(start_value, tz)
    if _instant(end_value, tz) <= start:
        return [_("The event does not end after it starts.")], 0
    steps = len(rdates)
    for rule in rules:
        freq = rule.get("FREQ") or []
        interval = rule.get("INTERVAL") or [1]
        if len(freq) != 1 or freq[0] not in _FREQ_SECONDS:
            return [_("Unreadable recurrence rule (RRULE): no known FREQ.")], 0
        if interval[0] < 1:
            return [_("Unreadable recurrence rule (RRULE): INTERVAL must be positive.")], 0
        problem = _rule_problem(rule)
        if problem:
            return [_("Unreadable recurrence rule (RRULE): %(problem)s") % {"problem": problem}], 0
        steps += _rule_steps(rule, start, window_end, tz)
    return [], steps


def parse_ics(data: bytes, *, now: datetime) -> ParsedFile:
    """Read an .ics file into closures to create, or raise IcsImportError (nothing written)."""
    tz = local_tz()
    calendar = _load(data)
    entries = _entries(calendar, data)
    if not entries:
        raise IcsImportError("invalid_ics.no_event")
    window_start = (now - WINDOW_BACK).astimezone(tz)
    window_end = (now + WINDOW_AHEAD).astimezone(tz)
    _check_entries(entries, window_end, tz)

    recurring = {
        entry.uid
        for entry in entries
        if any(name in entry.component for name in ("RRULE", "RDATE", "RECURRENCE-ID"))
    }
    # Single events are counted before building the expansion, the costly part of a big file.
    singles = [entry for entry in entries if entry.uid not in recurring]
    spans = {
        e.uid: (_instant(e.component.start, tz), _instant(e.component.end, tz)) for e in singles
    }
    if sum(1 for s, e in spans.values() if e > window_start and s < window_end) > MAX_OCCURRENCES:
        raise IcsImportError("too_many_occurrences", params={"max": MAX_OCCURRENCES})

    closures, skipped = _expand(calendar, recurring, window_start, window_end, tz)
    skipped += _outside_window(singles, spans, window_start, window_end)
    closures.sort(key=lambda c: (c.start, c.source))
    return ParsedFile(closures=closures, skipped=skipped)


def _check_entries(entries: Sequence[_Entry], window_end: datetime, tz: ZoneInfo) -> None:
    """Refuse the file if an entry is bad or its rules would be too long to expand."""
    errors: list[dict[str, Any]] = []
    steps: list[tuple[int, _Entry]] = []
    for entry in entries:
        problems, entry_steps = _check(entry, window_end, tz)
        errors += [entry.error(p) for p in problems]
        steps.append((entry_steps, entry))
    if errors:
        raise IcsImportError("invalid_ics.entries", params={"count": len(errors)}, errors=errors)
    if sum(s for s, _e in steps) > MAX_RULE_STEPS:
        heavy = sorted((s for s in steps if s[0] > MAX_OCCURRENCES), key=lambda s: -s[0])
        raise IcsImportError(
            "too_many_occurrences.repeats",
            params={"max": MAX_OCCURRENCES},
            errors=[
                e.error(_("This event repeats too often or from too long ago."))
                for _s, e in heavy or sorted(steps, key=lambda s: -s[0])[:1]
            ],
        )


def _expand(
    calendar: Calendar,
    recurring: set[str],
    window_start: datetime,
    window_end: datetime,
    tz: ZoneInfo,
) -> tuple[list[ImportedClosure], list[dict[str, Any]]]:
    """Expand every event within the window: the closures, and the occurrences skipped."""
    closures: list[ImportedClosure] = []
    skipped: list[dict[str, Any]] = []
    try:
        query = recurring_ical_events.CalendarQuery(x_wr_timezone.to_standard(calendar))
        for series in query.series:
            for occurrence in series.between(window_start, window_end):
                if len(closures) + len(skipped) >= MAX_OCCURRENCES:
                    raise IcsImportError("too_many_occurrences", params={"max": MAX_OCCURRENCES})
                item, cancelled = _occurrence(occurrence, recurring, tz)
                if cancelled:
                    skipped.append(item.describe("cancelled"))
                elif item.end <= item.start:
                    # Inside the spring daylight-saving gap both ends fall on 03:00.
                    skipped.append(item.describe("empty_period"))
                else:
                    closures.append(item)
    except IcsImportError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as error:
        # Every entry passed _check_entries; name the file rather than guess the event.
        raise IcsImportError(
            "invalid_ics.recurrences", params={"error": _printable(error)}
        ) from None
    return closures, skipped


def _outside_window(
    singles: Sequence[_Entry],
    spans: dict[str, tuple[datetime, datetime]],
    window_start: datetime,
    window_end: datetime,
) -> list[dict[str, Any]]:
    """List the single events wholly outside the window: said so, not silently dropped."""
    skipped = []
    for entry in singles:
        start, end = spans[entry.uid]
        if end <= window_start or start >= window_end:
            item = ImportedClosure(
                uid=entry.uid,
                summary=entry.summary,
                start=start,
                end=end,
                kind=_kind(entry.summary, _categories(entry.component)),
                source=_source(entry.uid, None),
            )
            skipped.append(item.describe("outside_window"))
    return skipped


def _source(uid: str, original: date | datetime | None) -> str:
    if len(uid) > SOURCE_MAX - 40:
        uid = "sha256-" + hashlib.sha256(uid.encode()).hexdigest()
    if original is None:
        return f"ics:{uid}"
    if isinstance(original, datetime):
        return f"ics:{uid}:{_instant(original, local_tz()).strftime('%Y%m%dT%H%M%SZ')}"
    return f"ics:{uid}:{original.strftime('%Y%m%d')}"


def _occurrence(occurrence: Any, recurring: set[str], tz: ZoneInfo) -> tuple[ImportedClosure, bool]:
    component = occurrence.as_component(False)
    uid = _text(component, "UID")
    summary = _text(component, "SUMMARY")
    original = None
    if uid in recurring:
        recurrence_id = component.get("RECURRENCE-ID")
        original = recurrence_id.dt if recurrence_id is not None else occurrence.start
    item = ImportedClosure(
        uid=uid,
        summary=summary,
        start=_instant(occurrence.start, tz),
        end=_instant(occurrence.end, tz),
        kind=_kind(summary, _categories(component)),
        source=_source(uid, original),
    )
    return item, _text(component, "STATUS").upper() == "CANCELLED"


# --- writing -------------------------------------------------------------------------------


def write_closures(
    items: Sequence[ImportedClosure],
    *,
    user: Any,
    now: datetime,
    equipment: Equipment | None = None,
    site: Site | None = None,
    skipped: Sequence[dict[str, Any]] = (),
) -> ImportOutcome:
    """Create the closures in one transaction (displacing what they cover), skipping known ones.

    A closure of the same source and scope is already there: it is listed in `skipped`.
    The scope and the permission are checked by `closures_create`, before it writes.
    """

    def work() -> ImportOutcome:
        known = set(
            Closure.objects.filter(equipment=equipment, site=site)
            .exclude(source="")
            .values_list("source", flat=True)
        )
        passed = list(skipped)
        fresh: list[ImportedClosure] = []
        for item in items:
            if item.source in known:
                passed.append(item.describe("already_imported"))
                continue
            known.add(item.source)
            fresh.append(item)
        specs = [
            ClosureSpec(
                start=item.start,
                end=item.end,
                reason=(item.summary or _("Imported closure"))[:REASON_MAX],
                kind=item.kind,
                source=item.source,
            )
            for item in fresh
        ]
        try:
            created, displaced = closures_create(
                user=user, specs=specs, now=now, equipment=equipment, site=site
            )
        except BookingError as error:
            if error.status == 403 or "index" not in error.extra:
                raise
            item = fresh[error.extra["index"]]
            raise IcsImportError(
                "invalid_ics.refused",
                errors=[
                    {
                        "uid": item.uid,
                        "summary": item.summary,
                        "index": None,
                        "line": None,
                        "message": str(error.message),
                    }
                ],
            ) from None
        return ImportOutcome(created=created, skipped=passed, displaced=displaced)

    return run_in_transaction(work)


def import_ics(
    *,
    data: bytes,
    user: Any,
    now: datetime,
    equipment: Equipment | None = None,
    site: Site | None = None,
) -> ImportOutcome:
    """Import the closures of an .ics file for an equipment, a site or (neither) every site."""
    if not can_manage_closure(user, equipment=equipment, site=site):
        raise BookingError("permission_denied.close")
    parsed = parse_ics(data, now=now)
    return write_closures(
        parsed.closures,
        user=user,
        now=now,
        equipment=equipment,
        site=site,
        skipped=parsed.skipped,
    )
