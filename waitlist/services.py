"""Every write of the waitlist (SPEC §10): join, cancel, expire, and the promotion that books
freed time for whoever waits for it.

Promotion runs inside the transaction that freed the time (the receivers of
waitlist.receivers are called there): the freed time is booked, or not, atomically with the
change that freed it, so nobody sees it free in between; two frees racing are serialised by
the equipment's row lock that every booking takes, and the database's no-overlap constraint
stays the last guard. Each candidate is tried in its own savepoint, so that a refused or
failing candidate (any exception) is rolled back alone, logged, and never fails the change
that freed the time.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from core import audit
from core.events import waitlist_changed
from core.models import AuditEntry, AuditObject
from equipment.models import Equipment
from equipment.policy import effective_policy
from partners.models import Project, ProjectKind
from reservations.exceptions import BookingError
from reservations.models import LIVE_STATUSES, Closure, Reservation
from reservations.services import BookingOutcome, reservation_create
from reservations.services.access import can_act_on

from .models import EntryStatus, WaitlistEntry
from .selectors import waiting

log = logging.getLogger(__name__)

# What a closure holds in the busy intervals of promotion (beside the bookings' priorities).
CLOSED = "closure"
# A user holds at most this many waiting entries (SPEC §10).
MAX_WAITING = 20


# --- audit and events --------------------------------------------------------------------


def _entry_audit(
    entry: WaitlistEntry,
    action: str,
    *,
    by: Any,
    at: datetime,
    before: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEntry:
    after = {
        "equipment": entry.equipment_id,
        "project": entry.project_id,
        "start": entry.start,
        "end": entry.end,
        "title": entry.title,
        "status": entry.status,
        "priority": entry.priority,
        "displaced": entry.displaced,
        "reservation": entry.reservation_id,
    }
    if before is None:
        changes = audit.diff({}, after)
    else:
        changes = audit.diff(before, {key: after[key] for key in before})
    return audit.entry(
        object_type=AuditObject.WAITLIST_ENTRY,
        object_id=entry.pk,
        action=action,
        at=at,
        by=by,
        changes=changes,
        reason=reason,
        equipment_id=entry.equipment_id,
    )


def _announce(action: str, entries: Sequence[WaitlistEntry], *, actor: Any, now: datetime) -> None:
    if entries:
        waitlist_changed.send(
            sender=WaitlistEntry, action=action, entries=list(entries), actor=actor, now=now
        )


# --- join --------------------------------------------------------------------------------


@dataclass
class JoinOutcome:
    """What `waitlist_join` did: booked (all, or a series' free occurrences) and/or queued.

    `refused` is the conflict that queued the request (its `conflicts` and `alternatives`
    for the answer); None when everything was booked.
    """

    booking: BookingOutcome | None
    entries: list[WaitlistEntry] = field(default_factory=list)
    refused: BookingError | None = None


def _lock_user(user_id: int) -> None:
    """Serialise one user's joins (the limit is counted under this lock; PostgreSQL row
    lock, SQLite serialises writers anyway)."""
    list(get_user_model().objects.select_for_update().filter(pk=user_id).values_list("pk"))


def _new_entries(rows: list[WaitlistEntry], *, now: datetime, actor: Any) -> list[WaitlistEntry]:
    """Insert new entries with their audit entries (one statement each), and announce them."""
    entries = WaitlistEntry.objects.bulk_create(rows)
    audit.record([_entry_audit(e, "create", by=actor, at=now) for e in entries])
    _announce("created", entries, actor=actor, now=now)
    return entries


def _entry(
    *,
    user_id: int,
    project_id: int,
    kind: str,
    equipment_id: int,
    start: datetime,
    end: datetime,
    title: str,
    expected_participants: int,
    now: datetime,
    displaced: Reservation | None = None,
    group: uuid.UUID | None = None,
) -> WaitlistEntry:
    return WaitlistEntry(
        equipment_id=equipment_id,
        project_id=project_id,
        booked_by_id=user_id,
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        title=title.strip(),
        expected_participants=expected_participants,
        status=EntryStatus.WAITING,
        priority=kind,
        displaced=displaced is not None,
        displaced_reservation=displaced,
        group=group,
        created_at=now,
        updated_at=now,
    )


def _queue(
    *,
    user: Any,
    project: Project,
    equipment_ids: Sequence[int],
    slots: Sequence[tuple[datetime, datetime]],
    title: str,
    expected_participants: int,
    now: datetime,
) -> list[WaitlistEntry]:
    """Queue `user` for these slots, inside the caller's transaction; refuse past the limit.

    Several equipment (a session) queue one group per slot: an entry per equipment sharing
    a `group` key. Asking again for a slot the user already waits for on these equipment (a
    double click, a retried request) answers those entries instead of queuing them twice.
    The limit counts every entry (a session of three for one slot counts three)."""
    _lock_user(user.pk)
    ids = list(dict.fromkeys(equipment_ids))
    session = len(ids) > 1
    held = WaitlistEntry.objects.filter(booked_by_id=user.pk, status=EntryStatus.WAITING)
    wanted = list(dict.fromkeys((s.astimezone(UTC), e.astimezone(UTC)) for s, e in slots))
    found: dict[tuple[datetime, datetime], dict[int, WaitlistEntry]] = defaultdict(dict)
    for e in held.filter(equipment_id__in=ids, start__in=[w[0] for w in wanted]):
        found[(e.start, e.end)][e.equipment_id] = e
    already: dict[tuple[datetime, datetime], list[WaitlistEntry]] = {}
    for slot in wanted:
        mine = found.get(slot, {})
        if set(mine) != set(ids):
            continue
        groups = {e.group for e in mine.values()}
        if not session or (len(groups) == 1 and None not in groups):
            already[slot] = [mine[pk] for pk in ids]
    fresh = [w for w in wanted if w not in already]
    count = held.count()
    if fresh and count + len(fresh) * len(ids) > MAX_WAITING:
        raise BookingError("waitlist_full", params={"n": MAX_WAITING}, waiting=count)
    rows: list[WaitlistEntry] = []
    for start, end in fresh:
        group = uuid.uuid4() if session else None
        rows += [
            _entry(
                user_id=user.pk,
                project_id=project.pk,
                kind=project.kind,
                equipment_id=equipment_id,
                start=start,
                end=end,
                title=title,
                expected_participants=expected_participants,
                now=now,
                group=group,
            )
            for equipment_id in ids
        ]
    created: dict[tuple[datetime, datetime], list[WaitlistEntry]] = defaultdict(list)
    for e in _new_entries(rows, now=now, actor=user) if rows else []:
        created[(e.start, e.end)].append(e)
    return [e for w in wanted for e in (already.get(w) or created[w])]


def waitlist_join(
    *,
    user: Any,
    project: Project,
    equipment_ids: Sequence[int],
    start: datetime,
    end: datetime,
    title: str,
    now: datetime,
    expected_participants: int = 1,
    rrule: str | None = None,
    skip_school_holidays: bool | None = None,
    override: bool = False,
) -> JoinOutcome:
    """Book as `reservation_create` does; when the only refusal is a `conflict`, queue instead.

    Every other rule applies as for a booking (the booking service decides: its refusals are
    raised as they are). A single booking refused for conflict is queued whole. A series
    whose refused occurrences are all conflicts books its free occurrences and queues each
    conflicting one (one entry per occurrence), in one transaction. A session (several
    equipment at once) refused only for conflict is queued as one group (an entry per
    equipment, sharing `group`), booked later only as a whole; a series of sessions books
    its free occurrences and queues one group per conflicting occurrence. A user holds at
    most 20 waiting entries, a group's entries all counted (`waitlist_full`: nothing is
    booked or queued).
    """
    booking: dict[str, Any] = {
        "user": user,
        "project": project,
        "equipment": list(equipment_ids),
        "start": start,
        "end": end,
        "title": title,
        "expected_participants": expected_participants,
        "rrule": rrule,
        "skip_school_holidays": skip_school_holidays,
        "override": override,
        "now": now,
    }
    try:
        return JoinOutcome(reservation_create(**booking))
    except BookingError as error:
        if error.code != "conflict":
            raise
        refused = error
    common = {
        "user": user,
        "project": project,
        "equipment_ids": list(equipment_ids),
        "title": title,
        "expected_participants": expected_participants,
        "now": now,
    }
    if not rrule:
        with transaction.atomic():
            entries = _queue(slots=[(start, end)], **common)
        return JoinOutcome(None, entries, refused)
    # A series: book what is free, queue each occurrence refused for conflict.
    with transaction.atomic():
        outcome: BookingOutcome | None
        try:
            outcome = reservation_create(**booking, skip_conflicts=True, alternatives=False)
            skipped = outcome.skipped
        except BookingError as error:
            if error.key != "no_occurrence":
                raise
            outcome, skipped = None, error.extra.get("occurrences", [])
        slots = [(item["start"], item["end"]) for item in skipped if item["code"] == "conflict"]
        entries = _queue(slots=slots, **common) if slots else []
    return JoinOutcome(outcome, entries, refused)


# --- cancel and expire -------------------------------------------------------------------


def may_cancel(user: Any, entry: WaitlistEntry) -> bool:
    """Whoever may cancel the equivalent reservation (reservations.permissions.may_act_on):
    the owner, the project's members and referents, the equipment's managers, platform
    managers."""
    # An entry has what the check reads of a reservation (booked_by, equipment, project).
    return can_act_on(user, cast(Any, entry))


def waitlist_cancel(
    *, entry: WaitlistEntry, user: Any, now: datetime, reason: str = ""
) -> WaitlistEntry:
    """Leave the waitlist: a waiting entry becomes `cancelled`. An entry of a session's group
    cancels the whole group (the session is only ever booked whole)."""
    if not may_cancel(user, entry):
        raise BookingError("permission_denied.waitlist_cancel")
    with transaction.atomic():
        # The group's entries locked in one statement, in id order (as promotion does).
        where = Q(pk=entry.pk) if entry.group is None else Q(group=entry.group)
        rows = {
            e.pk: e for e in WaitlistEntry.objects.select_for_update().filter(where).order_by("pk")
        }
        current = rows[entry.pk]
        if current.status != EntryStatus.WAITING:
            raise BookingError("not_waiting")
        group = [current] + [
            e for e in rows.values() if e.pk != current.pk and e.status == EntryStatus.WAITING
        ]
        for item in group:
            item.status = EntryStatus.CANCELLED
            item.updated_at = now
        WaitlistEntry.objects.bulk_update(group, ["status", "updated_at"])
        audit.record(
            [
                _entry_audit(
                    item,
                    "cancel",
                    by=user,
                    at=now,
                    before={"status": EntryStatus.WAITING},
                    reason=reason,
                )
                for item in group
            ]
        )
        _announce("cancelled", group, actor=user, now=now)
    return current


def waitlist_expire(*, now: datetime) -> int:
    """Expire the waiting entries whose start is within their equipment's minimum notice, or
    past (they could no longer be booked); answer how many. A session's group expires as a
    whole, as soon as one of its entries does."""
    with transaction.atomic():
        rows = (
            WaitlistEntry.objects.filter(status=EntryStatus.WAITING)
            .order_by()  # not the model's ordering: it would repeat an equipment
            .values_list("equipment_id", "equipment__policy_overrides")
            .distinct()
        )
        # One read of what is due: each equipment's own minimum notice.
        due = Q()
        for equipment_id, overrides in rows:
            notice = timedelta(minutes=effective_policy(overrides).min_notice_minutes)
            due |= Q(equipment_id=equipment_id, start__lt=now + notice)
        expired: list[WaitlistEntry] = (
            list(
                WaitlistEntry.objects.select_for_update()
                .filter(due, status=EntryStatus.WAITING)
                .order_by("pk")
            )
            if due
            else []
        )
        groups = {e.group for e in expired if e.group is not None}
        if groups:
            expired += (
                WaitlistEntry.objects.select_for_update()
                .filter(group__in=groups, status=EntryStatus.WAITING)
                .exclude(pk__in=[e.pk for e in expired])
            )
        for entry in expired:
            entry.status = EntryStatus.EXPIRED
            entry.updated_at = now
        WaitlistEntry.objects.bulk_update(expired, ["status", "updated_at"], batch_size=500)
        audit.record(
            [
                _entry_audit(e, "expire", by=None, at=now, before={"status": EntryStatus.WAITING})
                for e in expired
            ]
        )
        _announce("expired", expired, actor=None, now=now)
    return len(expired)


# --- displaced owners --------------------------------------------------------------------


def queue_displaced(reservations: Iterable[Reservation], *, now: datetime) -> list[WaitlistEntry]:
    """Queue the owners of reservations displaced by a teaching booking or a closure for
    their slots (ahead of the entries of the same kind), inside the displacing transaction.

    Not queued: a slot that could no longer be booked (within the minimum notice, so it
    would expire at once), and an owner who already holds 20 waiting entries (the limit
    holds for everyone; the displacement email then says nothing of the waitlist).
    """
    items = [r for r in reservations if r.start > now]
    if not items:
        return []
    policies = {
        pk: effective_policy(overrides)
        for pk, overrides in Equipment.objects.filter(
            pk__in={r.equipment_id for r in items}
        ).values_list("pk", "policy_overrides")
    }
    held = Counter(
        WaitlistEntry.objects.filter(
            booked_by_id__in={r.booked_by_id for r in items}, status=EntryStatus.WAITING
        ).values_list("booked_by_id", flat=True)
    )
    rows: list[WaitlistEntry] = []
    for reservation in sorted(items, key=lambda r: (r.start, r.pk)):
        notice = timedelta(minutes=policies[reservation.equipment_id].min_notice_minutes)
        if reservation.start < now + notice or held[reservation.booked_by_id] >= MAX_WAITING:
            continue
        held[reservation.booked_by_id] += 1
        rows.append(
            _entry(
                user_id=reservation.booked_by_id,
                project_id=reservation.project_id,
                kind=reservation.priority,
                equipment_id=reservation.equipment_id,
                start=reservation.start,
                end=reservation.end,
                title=reservation.title,
                expected_participants=reservation.expected_participants,
                now=now,
                displaced=reservation,
            )
        )
    return _new_entries(rows, now=now, actor=None) if rows else []


# --- promotion ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    """Time freed on one equipment: [start, end)."""

    equipment_id: int
    start: datetime
    end: datetime


class _State(threading.local):
    # The freed windows still to offer while a promotion runs in this thread; None when none
    # runs. A promotion's own booking may free time again (a teaching entry displacing a
    # research booking): that window joins the queue instead of recursing.
    queue: list[Window] | None = None


_state = _State()


def promotion_running() -> bool:
    """Whether a promotion is booking in this thread: its bookings are told to their owners
    as "waitlist booked", not as plain confirmations (notifications.receivers)."""
    return _state.queue is not None


def promote(
    *, equipment_ids: Iterable[int], start: datetime, end: datetime, now: datetime
) -> list[WaitlistEntry]:
    """Offer [start, end) of these equipment to the waiting entries that overlap it."""
    return offer([Window(pk, start, end) for pk in equipment_ids], now=now)


def offer(windows: Iterable[Window], *, now: datetime) -> list[WaitlistEntry]:
    """Offer freed windows to the waiting entries, inside the caller's transaction; answer
    the entries booked. Never raises: a failure is logged and rolled back to its savepoint.

    Called again while a promotion runs (its booking freed time), it only queues the
    windows: the outer call offers them in turn, so promotion never recurses.
    """
    if _state.queue is not None:
        _state.queue.extend(windows)
        return []
    queue = _state.queue = list(windows)
    booked: list[WaitlistEntry] = []
    try:
        while queue:
            # Every window known so far at once: a series cancelled costs the same queries
            # whatever its length.
            batch = [w for w in queue if max(w.start, now) < w.end]
            queue.clear()
            if not batch:
                continue
            try:
                with transaction.atomic():
                    booked += _offer_windows(batch, now)
            except Exception:
                log.exception("waitlist: could not offer %s", batch)
    finally:
        _state.queue = None
    return booked


def _offer_windows(windows: list[Window], now: datetime) -> list[WaitlistEntry]:
    """Try the waiting entries overlapping freed windows, in promotion order: each that
    passes every rule (as its user, as of `now`) is booked; the others keep waiting."""
    by_equipment: dict[int, list[Window]] = defaultdict(list)
    for window in windows:
        by_equipment[window.equipment_id].append(window)
    near = Q()
    for equipment_id, items in by_equipment.items():
        near |= Q(
            equipment_id=equipment_id,
            start__lt=max(w.end for w in items),
            end__gt=max(now, min(w.start for w in items)),
        )
    candidates = [
        entry
        for entry in waiting(near).select_related("booked_by", "project", "equipment")
        if any(
            entry.start < w.end and entry.end > max(w.start, now)
            for w in by_equipment[entry.equipment_id]
        )
    ]
    if not candidates:
        return []
    # Lock the equipment (in id order, as bookings do) before reading what holds its time:
    # two frees racing (two cancellations of neighbouring bookings, which lock only their
    # own rows) then offer one after the other, and the second sees the first's change.
    # Without it each would see the other's booking still live, and neither would book an
    # entry that needs both freed. (SQLite serialises the writers anyway.)
    wanted = sorted({c.equipment_id for c in candidates})
    list(
        Equipment.objects.select_for_update()
        .filter(pk__in=wanted)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    booked: list[WaitlistEntry] = []
    tried: set[Any] = set()  # the sessions' groups tried already (on another equipment)
    for equipment_id in wanted:
        mine = [c for c in candidates if c.equipment_id == equipment_id]
        if mine:
            booked += _offer_to(mine, now, tried)
    return booked


def _offer_to(
    candidates: list[WaitlistEntry], now: datetime, tried: set[Any]
) -> list[WaitlistEntry]:
    """Try these candidates of one equipment, in their order. An entry of a session's group
    is tried for its whole group (once per offer, whichever equipment freed)."""
    equipment_id = candidates[0].equipment_id
    buffer = timedelta(minutes=candidates[0].equipment.policy.buffer_minutes)
    # What already holds the candidates' times: a candidate that overlaps a live booking
    # it may not displace is not tried (cheap, in memory), so a hundred entries for one slot
    # cost one booking attempt, not a hundred. The booking service still decides.
    busy = list(
        Reservation.objects.overlapping(
            min(c.start for c in candidates),
            max(c.end for c in candidates) + buffer,
            buffers=True,
        )
        .filter(equipment_id=equipment_id, status__in=LIVE_STATUSES)
        .values_list("start", "blocked_until", "priority")
    )
    # A closure holds its time for everyone (a closure that displaced the owners just queued
    # leaves their entries waiting without a booking attempt each).
    busy += [
        (closed_from, closed_to, CLOSED)
        for closed_from, closed_to in Closure.objects.touching_equipment(candidates[0].equipment)
        .during(min(c.start for c in candidates), max(c.end for c in candidates))
        .values_list("start", "end")
    ]
    booked: list[WaitlistEntry] = []
    for entry in candidates:
        if entry.group is not None and entry.group in tried:
            continue
        if _blocked(entry, busy, buffer):
            continue
        if entry.group is not None:
            tried.add(entry.group)
        try:
            done = _try(entry, now)
        except Exception:
            log.exception("waitlist: promoting entry %s failed", entry.pk)
            continue
        booked += done
        for item in done:
            reservation = item.reservation
            if item.equipment_id == equipment_id and reservation is not None:
                busy.append((reservation.start, reservation.blocked_until, reservation.priority))
    return booked


def _blocked(
    entry: WaitlistEntry, busy: list[tuple[datetime, datetime, str]], buffer: timedelta
) -> bool:
    """Whether a live booking or a closure holds the entry's time, that the entry could not
    displace (only a pedagogical entry may displace, never another pedagogical booking nor
    a closure)."""
    may_displace = entry.priority == ProjectKind.PEDAGOGICAL
    return any(
        held_start < entry.end + buffer
        and held_until > entry.start
        and (not may_displace or priority in (ProjectKind.PEDAGOGICAL, CLOSED))
        for held_start, held_until, priority in busy
    )


def _try(entry: WaitlistEntry, now: datetime) -> list[WaitlistEntry]:
    """Book one entry (or its session's whole group) through the booking service, as its
    user, in a savepoint; answer the entries booked: none when a rule refuses it (it keeps
    waiting) or another promotion booked it first."""
    with transaction.atomic():
        # Locked and read again: a promotion racing in another transaction may have booked
        # it meanwhile (then this one sees it booked once the other commits). A group is
        # locked whole, in id order, and tried only if every entry still waits.
        where = Q(pk=entry.pk) if entry.group is None else Q(group=entry.group)
        members = list(WaitlistEntry.objects.select_for_update().filter(where).order_by("pk"))
        if not members or any(m.status != EntryStatus.WAITING for m in members):
            return []
        try:
            outcome = reservation_create(
                user=entry.booked_by,
                project=entry.project,
                equipment=[m.equipment_id for m in members],
                start=entry.start,
                end=entry.end,
                title=entry.title,
                expected_participants=entry.expected_participants,
                now=now,
                alternatives=False,
            )
        except BookingError as error:
            log.info("waitlist: entry %s not booked now (%s)", entry.pk, error.code)
            return []
        by_equipment = {r.equipment_id: r for r in outcome.reservations}
        for member in members:
            member.status = EntryStatus.BOOKED
            member.reservation = by_equipment[member.equipment_id]
            member.updated_at = now
        WaitlistEntry.objects.bulk_update(members, ["status", "reservation", "updated_at"])
        audit.record(
            [
                _entry_audit(
                    member,
                    "book",
                    by=None,
                    at=now,
                    before={"status": EntryStatus.WAITING, "reservation": None},
                )
                for member in members
            ]
        )
        _announce("booked", members, actor=None, now=now)
        return members
