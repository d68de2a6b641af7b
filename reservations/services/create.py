"""Booking: one equipment, a session of several, or a recurring series, every rule applied.

The request is checked and expanded first; then, in one transaction, the equipment rows
are locked, the facts read in a fixed number of queries, every occurrence checked by
`reservations.rules`, and the accepted ones written together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.errors import words
from core.french_calendars import school_calendar_end
from core.timezones import local_tz
from equipment.models import Equipment
from partners.models import Project, ProjectKind
from reservations import permissions, rules
from reservations.exceptions import BookingError
from reservations.facts import Facts, gather, is_member, load_equipment, managed_ids
from reservations.models import LIVE_STATUSES, Reservation, ReservationStatus, Series, Session
from reservations.recurrence import RecurrenceError, expand

from .announce import reservations_did
from .noshows import record_no_shows_locked
from .records import audit_entry, displace, insert_rows
from .refusals import conflict, occurrence_payload, refusal, with_alternatives
from .transactions import is_overlap_violation, run_in_transaction


@dataclass
class BookingOutcome:
    reservations: list[Reservation]
    displaced: list[Reservation]
    skipped: list[dict[str, Any]] = field(default_factory=list)
    series: Series | None = None
    session: Session | None = None


@dataclass(frozen=True)
class _Request:
    """A booking request once checked: its occurrences in UTC and how to treat them."""

    user: Any
    project: Project
    equipment_ids: list[int]
    occurrences: list[tuple[datetime, datetime]]
    title: str
    expected_participants: int
    rrule: str | None
    skip_school_holidays: bool
    skip_conflicts: bool
    override: bool

    @property
    def grouped(self) -> bool:
        """A series or a session: refused occurrences are listed one by one."""
        return bool(self.rrule) or len(self.equipment_ids) > 1


@dataclass
class _Checked:
    """What checking every occurrence found."""

    accepted: list[tuple[datetime, datetime]] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    violations: list[rules.Violation] = field(default_factory=list)
    displace: set[int] = field(default_factory=set)
    overridden: set[str] = field(default_factory=set)
    conflicts: list[rules.Busy] = field(default_factory=list)


def reservation_create(
    *,
    user: Any,
    project: Project,
    equipment: Iterable[Equipment | int],
    start: datetime,
    end: datetime,
    title: str,
    now: datetime,
    expected_participants: int = 1,
    rrule: str | None = None,
    skip_school_holidays: bool | None = None,
    skip_conflicts: bool = False,
    override: bool = False,
    alternatives: bool = True,
) -> BookingOutcome:
    """Book one equipment, a session of several, or a recurring series, all rules applied.

    A series skips the zone B school holidays when `skip_school_holidays` says so; left
    None, it follows the project's kind: a class (pedagogical project) skips them, research
    and industry do not. Skipping is refused (`school_calendar_unknown`) for a series that
    goes beyond the published school calendar, rather than skipping only the known holidays.

    `equipment` gives the equipment or only their ids: the rows are read (and locked) in
    the transaction either way, so the API reads them once; an unknown id is refused
    (`invalid`, field `equipment`).

    `alternatives=False` leaves a conflict without its suggested slots: the waitlist's
    promotion tries many candidates and needs only to know that one does not fit.
    """
    items = list(equipment)  # read once: it may be any iterable
    request = _checked_request(
        user=user,
        project=project,
        equipment_ids=[e if isinstance(e, int) else e.pk for e in items],
        start=start,
        end=end,
        title=title,
        expected_participants=expected_participants,
        rrule=rrule,
        skip_school_holidays=skip_school_holidays,
        skip_conflicts=skip_conflicts,
        override=override,
    )
    try:
        return run_in_transaction(lambda: _book(request, now))
    except IntegrityError as error:
        if not is_overlap_violation(error):
            raise
        # Another booking won the race between our checks and our insert.
        refused = _lost_race(request, _rows(request.equipment_ids, items))
    except BookingError as error:
        refused = error
    if not alternatives:
        raise refused
    raise with_alternatives(
        refused, user=user, project=project, now=now, override_by=user if override else None
    )


def _rows(ids: list[int], items: list[Equipment | int]) -> list[Equipment]:
    """The equipment of the request as rows, read only if the caller gave ids."""
    rows = [e for e in items if isinstance(e, Equipment)]
    if len(rows) == len(items):
        return rows
    found = Equipment.objects.in_bulk(ids)
    return [found[pk] for pk in ids]


def _lost_race(request: _Request, equipment: list[Equipment]) -> BookingError:
    """The conflict of a request the database refused: the first occurrence and equipment
    that the winning reservation now holds (the first of the request if it is gone)."""
    buffers = {e.pk: timedelta(minutes=e.policy.buffer_minutes) for e in equipment}
    rows = list(
        Reservation.objects.overlapping(
            min(start for start, _e in request.occurrences),
            max(end + buffers[pk] for _s, end in request.occurrences for pk in buffers),
            buffers=True,
        )
        .filter(equipment_id__in=request.equipment_ids, status__in=LIVE_STATUSES)
        .values_list("equipment_id", "pk", "start", "end", "blocked_until", "priority")
    )
    for occ_start, occ_end in request.occurrences:
        for item in equipment:
            held = [
                rules.Busy(*row[1:])
                for row in rows
                if row[0] == item.pk and row[2] < occ_end + buffers[item.pk] and row[4] > occ_start
            ]
            if held:
                return conflict(item, occ_start, occ_end, conflicts=held)
    first_start, first_end = request.occurrences[0]
    return conflict(equipment[0], first_start, first_end)


def _checked_request(*, user: Any, equipment_ids: list[int], **fields: Any) -> _Request:
    """Refuse a malformed request before any lock; expand a series in local time."""
    if not equipment_ids:
        raise BookingError("no_equipment")
    if len(set(equipment_ids)) != len(equipment_ids):
        raise BookingError("equipment_repeated")
    shape = rules.check_shape(fields["start"], fields["end"])
    if shape:
        raise BookingError(shape.code, shape.message)
    # UTC from here on: adding a buffer to a local time would use the wall clock.
    start, end = fields.pop("start").astimezone(rules.UTC), fields.pop("end").astimezone(rules.UTC)
    if not fields["title"].strip():
        raise BookingError("invalid.title", fields={"title": [words("required")]})
    if fields["expected_participants"] < 1:
        raise BookingError("invalid.participants")
    rrule = fields["rrule"]
    if fields["skip_school_holidays"] is None:
        fields["skip_school_holidays"] = fields["project"].kind == ProjectKind.PEDAGOGICAL
    fields["skip_school_holidays"] = bool(rrule) and fields["skip_school_holidays"]
    occurrences = _occurrences(rrule, start, end, fields["skip_school_holidays"], local_tz())
    return _Request(user=user, equipment_ids=equipment_ids, occurrences=occurrences, **fields)


def _occurrences(
    rrule: str | None, start: datetime, end: datetime, skip_school_holidays: bool, tz: ZoneInfo
) -> list[tuple[datetime, datetime]]:
    if not rrule:
        return [(start, end)]
    try:
        occurrences = expand(rrule, start, end, tz)
    except RecurrenceError as error:
        raise BookingError(
            "invalid", str(error), fields={"recurrence.rrule": [str(error)]}
        ) from None
    if skip_school_holidays:
        _check_school_calendar(occurrences, tz)
    return occurrences


def _check_school_calendar(occurrences: list[tuple[datetime, datetime]], tz: ZoneInfo) -> None:
    """Refuse to skip school holidays past the published zone B calendar: skipping only the
    known ones would book classes in holidays nobody can see yet."""
    first = occurrences[0][0].astimezone(tz).date()
    last = occurrences[-1][0].astimezone(tz).date()
    known_until = school_calendar_end(first.year)
    if known_until is None:
        years = range(first.year, last.year + 1)
        raise BookingError(
            "school_holidays_unknown",
            params={"years": ", ".join(str(y) for y in years)},
            fields={"recurrence.skip_school_holidays": [_("Unknown school holidays.")]},
        )
    if last > known_until:
        day = date_format(known_until, "j F Y")
        raise BookingError(
            "school_calendar_unknown",
            params={"day": day},
            known_until=known_until.isoformat(),
            fields={
                "recurrence.skip_school_holidays": [
                    _("The zone B school holidays after %(day)s are not published yet.")
                    % {"day": day}
                ]
            },
        )


def _book(request: _Request, now: datetime) -> BookingOutcome:
    """The transaction: lock, read the facts, check every occurrence, write."""
    tz = local_tz()
    ids = request.equipment_ids
    locked = {e.pk: e for e in load_equipment(ids, user=request.user, project=request.project)}
    if len(locked) != len(ids):
        raise BookingError("invalid", fields={"equipment": [_("Unknown equipment.")]})
    items = [locked[pk] for pk in ids]
    record_no_shows_locked(now=now, equipment_ids=[e.pk for e in items if e.requires_check_in])
    managed = managed_ids(items, request.user)
    if request.override and not permissions.may_override(ids, managed):
        raise BookingError("permission_denied.override")
    buffer = max(e.policy.buffer_minutes for e in items)
    facts = gather(
        equipment=items,
        project=request.project,
        span_start=min(s for s, _e in request.occurrences),
        span_end=max(e for _s, e in request.occurrences) + timedelta(minutes=buffer),
        exclude_id=None,
        tz=tz,
    )
    member = is_member(request.project, request.user, items)
    checked = _Checked()
    for occ_start, occ_end in request.occurrences:
        _check_occurrence(request, items, facts, member, occ_start, occ_end, now, tz, checked)
    if checked.failures:
        raise refusal(
            checked.failures,
            checked.violations,
            checked.conflicts,
            grouped=request.grouped,
            items=items,
            start=request.occurrences[0][0],
            end=request.occurrences[0][1],
        )
    if not checked.accepted:
        raise BookingError("no_occurrence", occurrences=checked.skipped)
    return _write(request, items, checked, managed, now)


def _check_occurrence(
    request: _Request,
    items: list[Equipment],
    facts: Facts,
    member: bool,
    occ_start: datetime,
    occ_end: datetime,
    now: datetime,
    tz: ZoneInfo,
    checked: _Checked,
) -> None:
    """Check one occurrence on every equipment; accept it, skip it, or record why not."""
    series = bool(request.rrule)
    local_day = occ_start.astimezone(tz).date()
    if series and local_day in facts.holidays:
        checked.skipped.append(occurrence_payload(None, occ_start, occ_end, "closed"))
        return
    if series and request.skip_school_holidays and local_day in facts.school:
        checked.skipped.append(occurrence_payload(None, occ_start, occ_end, "school_holiday"))
        return
    kind = request.project.kind
    failures: list[tuple[int, rules.Violation]] = []
    displaced: set[int] = set()
    overridden: set[str] = set()
    for item in items:
        verdict = rules.check_booking(
            facts.for_request(
                item=item,
                policy=item.policy,
                project=request.project,
                kind=kind,
                is_member=member,
                start=occ_start,
                end=occ_end,
                now=now,
                tz=tz,
            )
        )
        violations, lifted = rules.apply_override(verdict.violations, request.override)
        overridden |= set(lifted)
        if violations:
            failures.append((item.pk, violations[0]))
            if violations[0].code == "conflict":
                checked.conflicts.extend(verdict.conflicts)
        displaced |= set(verdict.displace)
    if not failures:
        checked.accepted.append((occ_start, occ_end))
        checked.displace |= displaced
        checked.overridden |= overridden
        # Later occurrences see this one: as busy time and in the quota.
        for item in items:
            blocked = occ_end + timedelta(minutes=item.policy.buffer_minutes)
            facts.busy[item.pk].append(rules.Busy(0, occ_start, occ_end, blocked, kind))
            for monday, hours in rules.week_hours(occ_start, occ_end, tz).items():
                facts.quota_used[item.pk][monday] += hours
        return
    first_code = failures[0][1].code
    if series and first_code == "closed":
        checked.skipped.append(occurrence_payload(None, occ_start, occ_end, "closed"))
    elif request.skip_conflicts and request.grouped:
        checked.skipped.append(occurrence_payload(None, occ_start, occ_end, first_code))
    else:
        session = len(items) > 1
        for eq_id, violation in failures:
            checked.failures.append(
                occurrence_payload(eq_id if session else None, occ_start, occ_end, violation.code)
            )
            checked.violations.append(violation)


def _write(
    request: _Request,
    items: list[Equipment],
    checked: _Checked,
    managed: set[int],
    now: datetime,
) -> BookingOutcome:
    """Displace what a pedagogical booking preempts, then insert every reservation."""
    user, project = request.user, request.project
    displaced = displace(
        checked.displace, by=user, now=now, reason=_("Displaced by a teaching booking.")
    )
    series = (
        Series.objects.create(
            rrule=request.rrule,
            skip_school_holidays=request.skip_school_holidays,
            created_by=user,
        )
        if request.rrule
        else None
    )
    session = Session.objects.create(created_by=user) if len(items) > 1 else None
    new: list[Reservation] = []
    for occ_start, occ_end in checked.accepted:
        for item in items:
            policy = item.policy
            needs_approval = project.kind in policy.approval_required_for
            new.append(
                Reservation(
                    equipment=item,
                    project=project,
                    booked_by=user,
                    start=occ_start,
                    end=occ_end,
                    blocked_until=occ_end + timedelta(minutes=policy.buffer_minutes),
                    title=request.title.strip(),
                    expected_participants=request.expected_participants,
                    status=ReservationStatus.PENDING
                    if needs_approval and item.pk not in managed
                    else ReservationStatus.CONFIRMED,
                    priority=project.kind,
                    series=series,
                    session=session,
                    revision=0,
                    status_changed_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
    created = insert_rows(new)
    overridden = sorted(checked.overridden)
    insert_rows(
        [audit_entry(r, by=user, action="create", at=now, overridden=overridden) for r in created]
    )
    reservations_did("created", created, actor=user, now=now)
    reservations_did("displaced", displaced, actor=user, now=now)
    return BookingOutcome(created, displaced, checked.skipped, series, session)
