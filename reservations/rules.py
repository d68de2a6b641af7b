"""The booking rules of SPEC §3 as pure functions over plain values.

No ORM, no HTTP: the service gathers the facts (policy, busy intervals, closures,
membership, quotas, `now`) into a `BookingFacts`, and `check_booking` answers the
violations in the order of the spec's table, plus what a pedagogical request would
displace. Local notions (days, opening hours, teaching windows, weeks) are computed in
the platform time zone, then compared as aware instants.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

from core.errors import code_of, words
from core.timezones import FIRST_YEAR, LAST_YEAR
from equipment.policy import WEEKDAYS, Policy, to_minutes
from partners.models import ProjectKind

UTC = ZoneInfo("UTC")
# The priority kinds, from their one definition (pedagogical > research > industrial).
PEDAGOGICAL, RESEARCH, INDUSTRIAL = ProjectKind.values

# The table order of SPEC §3: when a request breaks several rules, the first answers.
ORDER = (
    "invalid",
    "ambiguous_time",
    "in_past",
    "bad_granularity",
    "too_short",
    "too_long",
    "outside_opening_hours",
    "closed",
    "equipment_unavailable",
    "beyond_horizon",
    "too_late",
    "not_project_member",
    "project_inactive",
    "not_qualified",
    "teaching_window",
    "quota_exceeded",
    "conflict",
)
# What a manager may override explicitly. Never the shape of the request, the past, or
# an overlap: the database refuses overlaps anyway.
OVERRIDABLE = frozenset(ORDER) - {"invalid", "ambiguous_time", "in_past", "conflict"}


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True)
class Busy:
    """A live reservation of the same equipment, with the slot it holds (buffer included)."""

    id: int
    start: datetime
    end: datetime
    blocked_until: datetime
    priority: str


@dataclass(frozen=True)
class Violation:
    code: str
    message: str

    @classmethod
    def of(cls, key: str, **params: Any) -> Violation:
        """The violation of a catalogue entry (core.errors), its words translated now."""
        return cls(code_of(key), words(key, params))

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass(frozen=True)
class BookingFacts:
    start: datetime
    end: datetime
    now: datetime
    tz: ZoneInfo
    policy: Policy
    kind: str
    equipment_active: bool = True
    closures: tuple[Interval, ...] = ()
    is_member: bool = True
    project_active: bool = True
    qualification_required: bool = False
    qualified: bool = True
    school_holidays: frozenset[date] = frozenset()
    # Hours the partner already books on this equipment for this kind, per local week
    # (keyed by the Monday), not counting the reservation being moved.
    quota_used: dict[date, float] = field(default_factory=dict)
    busy: tuple[Busy, ...] = ()


@dataclass(frozen=True)
class Verdict:
    violations: tuple[Violation, ...]
    displace: tuple[int, ...]
    conflicts: tuple[Busy, ...]

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def first(self) -> Violation | None:
        return self.violations[0] if self.violations else None


def _local_at(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The instant (in UTC) of a local wall-clock time (minutes since midnight, 1440 = next day).

    Instants are kept in UTC: Python compares and subtracts two datetimes sharing one
    tzinfo by their wall clocks, which is wrong across a daylight-saving change.
    """
    if minutes >= 24 * 60:
        return datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz).astimezone(UTC)
    return datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=tz).astimezone(UTC)


def days_after(moment: datetime, days: int, tz: ZoneInfo) -> datetime:
    """The same local wall-clock time `days` local days later, in UTC.

    Horizons, notices and releases count days as the calendar does: across a
    daylight-saving change a day is 23 or 25 hours, never a fixed 24.
    """
    return (moment.astimezone(tz) + timedelta(days=days)).astimezone(UTC)


def _days(start: datetime, end: datetime, tz: ZoneInfo) -> list[date]:
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """The union of intervals, as sorted disjoint intervals."""
    merged: list[Interval] = []
    for item in sorted(intervals, key=lambda i: i.start):
        if merged and item.start <= merged[-1].end:
            if item.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, item.end)
        else:
            merged.append(item)
    return merged


def subtract(intervals: Sequence[Interval], holes: Iterable[Interval]) -> list[Interval]:
    """The parts of `intervals` (sorted, disjoint) outside `holes` (any order), in one sweep."""
    return [
        Interval(start, end)
        for start, end in subtract_pairs(
            [(i.start, i.end) for i in intervals], [(h.start, h.end) for h in holes]
        )
    ]


Pair = tuple[datetime, datetime]


def subtract_pairs(intervals: Sequence[Pair], holes: Iterable[Pair]) -> list[Pair]:
    """`subtract` over (start, end) pairs: the availability of 20 equipment subtracts a
    few hundred holes, and building an `Interval` (a frozen dataclass) for each merged
    hole and each part cost more than the sweep itself."""
    gaps: list[Pair] = []  # the holes merged, as in `merge`
    for hole in sorted(holes, key=itemgetter(0)):
        if gaps and hole[0] <= gaps[-1][1]:
            if hole[1] > gaps[-1][1]:
                gaps[-1] = (gaps[-1][0], hole[1])
        else:
            gaps.append(hole)
    result: list[Pair] = []
    first, count = 0, len(gaps)
    for start, end in intervals:
        cursor = start
        while first < count and gaps[first][1] <= cursor:
            first += 1
        index = first
        while index < count and gaps[index][0] < end:
            gap_start, gap_end = gaps[index]
            if gap_start > cursor:
                result.append((cursor, gap_start))
            if gap_end > cursor:
                cursor = gap_end
            index += 1
        if cursor < end:
            result.append((cursor, end))
    return result


def opening_intervals(
    policy: Policy, start: datetime, end: datetime, tz: ZoneInfo
) -> list[Interval]:
    """The equipment's open time over the local days that [start, end) touches, merged."""
    intervals = []
    for day in _days(start, end, tz):
        for open_min, close_min in policy.opening_minutes(day.weekday()):
            intervals.append(Interval(_local_at(day, open_min, tz), _local_at(day, close_min, tz)))
    return merge(intervals)


def teaching_intervals(
    policy: Policy, start: datetime, end: datetime, tz: ZoneInfo, school_holidays: frozenset[date]
) -> list[Interval]:
    """Teaching windows over [start, end): in force on school days only."""
    if not policy.teaching_windows:
        return []
    request = Interval(start, end)
    result = []
    for day in _days(start, end, tz):
        if day in school_holidays:
            continue
        weekday = WEEKDAYS[day.weekday()]
        for window in policy.teaching_windows:
            if window["weekday"] == weekday:
                interval = Interval(
                    _local_at(day, to_minutes(window["start"]), tz),
                    _local_at(day, to_minutes(window["end"]), tz),
                )
                if interval.overlaps(request):
                    result.append(interval)
    return result


def week_hours(start: datetime, end: datetime, tz: ZoneInfo) -> dict[date, float]:
    """Split [start, end) into hours per local week, keyed by the week's Monday."""
    hours: dict[date, float] = {}
    cursor, end = start.astimezone(UTC), end.astimezone(UTC)
    while cursor < end:
        local = cursor.astimezone(tz).date()
        monday = local - timedelta(days=local.weekday())
        next_monday = _local_at(monday + timedelta(days=7), 0, tz)
        piece_end = min(end, next_monday)
        hours[monday] = hours.get(monday, 0.0) + (piece_end - cursor).total_seconds() / 3600
        cursor = piece_end
    return hours


def _minutes_of_day(moment: datetime, tz: ZoneInfo) -> tuple[int, int]:
    local = moment.astimezone(tz)
    return local.hour * 60 + local.minute, local.second * 1_000_000 + local.microsecond


# Bookings, closures and reports live between these years; near the ends of the calendar
# local-time arithmetic would overflow.


def check_shape(start: datetime, end: datetime) -> Violation | None:
    if start.tzinfo is None or end.tzinfo is None:
        return Violation.of("invalid.timezone")
    if not all(FIRST_YEAR <= moment.year <= LAST_YEAR for moment in (start, end)):
        return Violation.of("invalid.years", first=FIRST_YEAR, last=LAST_YEAR)
    if start >= end:
        return Violation.of("invalid.order")
    return None


def check_booking(facts: BookingFacts) -> Verdict:
    """Apply every rule of SPEC §3 to one request; answer violations in the table's order."""
    shape = check_shape(facts.start, facts.end)
    if shape:
        return Verdict((shape,), (), ())
    found: list[Violation] = []
    # In UTC from here on: real durations and comparisons across daylight-saving changes.
    policy, tz = facts.policy, facts.tz
    start, end = facts.start.astimezone(UTC), facts.end.astimezone(UTC)
    now = facts.now.astimezone(UTC)

    def add(key: str, **params: Any) -> None:
        found.append(Violation.of(key, **params))

    if start < now:
        add("in_past")

    grid = policy.granularity_minutes
    for moment in (start, end):
        minutes, rest = _minutes_of_day(moment, tz)
        if rest or minutes % grid:
            add("bad_granularity", n=grid)
            break

    duration = (end - start).total_seconds() / 60
    if duration < policy.min_duration_minutes:
        add("too_short", n=policy.min_duration_minutes)
    elif duration > policy.max_duration_minutes:
        add("too_long", n=policy.max_duration_minutes)

    request = Interval(start, end)
    opening = opening_intervals(policy, start, end, tz)
    if not any(o.start <= start and end <= o.end for o in opening):
        add("outside_opening_hours")

    if any(c.overlaps(request) for c in facts.closures):
        add("closed")

    if not facts.equipment_active:
        add("equipment_unavailable")

    horizon = policy.horizon_days[facts.kind]
    if start > days_after(now, horizon, tz):
        add("beyond_horizon", n=horizon)

    if now <= start < now + timedelta(minutes=policy.min_notice_minutes):
        add("too_late", n=policy.min_notice_minutes)

    if not facts.is_member:
        add("not_project_member")
    elif not facts.project_active:
        add("project_inactive")

    if facts.qualification_required and not facts.qualified:
        add("not_qualified")

    if facts.kind != PEDAGOGICAL:
        released_until = days_after(now, policy.teaching_release_days, tz)
        for window in teaching_intervals(policy, start, end, tz, facts.school_holidays):
            if window.start > released_until:
                add("teaching_window", days=policy.teaching_release_days)
                break

    quota = policy.weekly_quota_hours.get(facts.kind) if facts.kind != PEDAGOGICAL else None
    if quota is not None:
        for monday, hours in week_hours(start, end, tz).items():
            if facts.quota_used.get(monday, 0.0) + hours > quota + 1e-9:
                add("quota_exceeded", q=f"{quota:g}")
                break

    displace, conflicts = resolve_overlaps(facts)
    if conflicts:
        add("conflict")

    found.sort(key=lambda v: ORDER.index(v.code))
    return Verdict(tuple(found), tuple(b.id for b in displace), tuple(conflicts))


def apply_override(
    violations: Iterable[Violation], override: bool
) -> tuple[list[Violation], list[str]]:
    """Split the violations a manager's explicit override lifts from those that remain.

    Answer the remaining violations and the codes of the overridden ones (for the audit).
    """
    remaining = list(violations)
    if not override:
        return remaining, []
    lifted = [v.code for v in remaining if v.code in OVERRIDABLE]
    return [v for v in remaining if v.code not in OVERRIDABLE], lifted


def resolve_overlaps(facts: BookingFacts) -> tuple[list[Busy], list[Busy]]:
    """Split the overlapping live reservations into those displaced and those in conflict.

    A pedagogical request displaces research and industrial reservations that start at
    least the preemption notice ahead; it displaces nothing if any overlap is another
    pedagogical reservation or too close. Everything else is a plain conflict.
    """
    end = facts.end.astimezone(UTC)
    blocked = Interval(facts.start, end + timedelta(minutes=facts.policy.buffer_minutes))
    overlapping = [b for b in facts.busy if Interval(b.start, b.blocked_until).overlaps(blocked)]
    if not overlapping:
        return [], []
    if facts.kind == PEDAGOGICAL:
        notice = days_after(facts.now, facts.policy.preemption_notice_days, facts.tz)
        if all(b.priority != PEDAGOGICAL and b.start >= notice for b in overlapping):
            return overlapping, []
    return [], overlapping
