"""Changes to a booking: move or resize, cancel, approve or reject."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError
from django.db.models import Q
from django.utils.translation import gettext as _

from core.errors import words
from core.timezones import local_tz
from equipment.models import Equipment
from reservations import permissions, rules
from reservations.exceptions import BookingError
from reservations.facts import gather, is_member, load_equipment
from reservations.models import LIVE_STATUSES, Reservation, ReservationStatus
from reservations.selectors import managed_equipment_ids

from .access import acted_on_by, can_act_on
from .announce import reservations_did
from .noshows import record_no_shows_locked
from .records import audit_entry, displace, transition
from .refusals import conflict, with_alternatives
from .transactions import is_overlap_violation, run_in_transaction


def reservation_update(
    *,
    reservation: Reservation,
    user: Any,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    title: str | None = None,
    expected_participants: int | None = None,
    override: bool = False,
) -> Reservation:
    """Move or resize a live reservation (every rule again) or change its title."""
    asked_start, asked_end = _checked_change(reservation, user, now, start, end, title, override)
    # The times to check if the locked row shows a move: those asked, the rest as read now.
    new_start, new_end = asked_start, asked_end

    def work() -> Reservation:
        nonlocal new_start, new_end
        (equipment,) = load_equipment(
            [reservation.equipment_id], user=reservation.booked_by, project=reservation.project
        )
        record_no_shows_locked(
            now=now, equipment_ids=[equipment.pk] if equipment.requires_check_in else []
        )
        current = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if current.status not in LIVE_STATUSES:
            raise BookingError("not_live")
        # Times not given are the locked row's, not those read before the lock: a title
        # saved while someone else moved the booking must not move it back.
        new_start = asked_start if start is not None else current.start
        new_end = asked_end if end is not None else current.end
        moved = (new_start, new_end) != (current.start, current.end)
        if moved and not permissions.can_be_moved(current, now):
            raise BookingError("started.move")  # started since it was read
        overridden: list[str] = []
        displaced: list[Reservation] = []
        if moved:
            shape = rules.check_shape(new_start, new_end)
            if shape:
                raise BookingError(shape.code, shape.message)
            overridden, displaced = _check_move(
                current, equipment, new_start, new_end, user, now, override
            )
        previous = (current.status, current.start, current.end)
        held = (current.equipment_id, current.start, current.blocked_until)
        described = {"title": current.title, "expected_participants": current.expected_participants}
        current.start, current.end = new_start, new_end
        current.blocked_until = new_end + timedelta(minutes=equipment.policy.buffer_minutes)
        if title is not None:
            current.title = title.strip()
        if expected_participants is not None:
            current.expected_participants = expected_participants
        current.revision += 1
        current.updated_at = now
        current.save()
        # Announced once the move is written: a receiver (the waitlist) that books the
        # time these free must see the reservation at its new times.
        reservations_did("displaced", displaced, actor=user, now=now)
        reservations_did(
            "moved" if moved else "updated",
            [current],
            actor=user,
            now=now,
            freed=[held] if moved else [],
        )
        edited = {
            name: [was, getattr(current, name)]
            for name, was in described.items()
            if was != getattr(current, name)
        }
        if moved or edited:
            audit_entry(
                current,
                by=user,
                action="move" if moved else "update",
                at=now,
                from_status=previous[0],
                from_start=previous[1],
                from_end=previous[2],
                overridden=overridden,
                more=edited,
            ).save()
        return current

    try:
        return run_in_transaction(work)
    except IntegrityError as error:
        if not is_overlap_violation(error):
            raise
        refused = conflict(reservation.equipment, new_start, new_end, exclude_id=reservation.pk)
    except BookingError as error:
        refused = error
    raise with_alternatives(
        refused,
        user=reservation.booked_by,
        project=reservation.project,
        now=now,
        kind=reservation.priority,
        override_by=user if override else None,
        exclude_id=reservation.pk,
    )


def _checked_change(
    reservation: Reservation,
    user: Any,
    now: datetime,
    start: datetime | None,
    end: datetime | None,
    title: str | None,
    override: bool,
) -> tuple[datetime, datetime]:
    """Refuse a change before any lock; answer the times asked in UTC (those not asked:
    the reservation's as read, checked again under the lock).

    New times are for a reservation that has not started (permissions.can_be_moved); its
    title and expected participants may still change once it has.
    """
    if not can_act_on(user, reservation):
        raise BookingError("permission_denied.change")
    if reservation.status not in LIVE_STATUSES:
        raise BookingError("not_live")
    new_start = start or reservation.start
    new_end = end or reservation.end
    shape = rules.check_shape(new_start, new_end)
    if shape:
        raise BookingError(shape.code, shape.message)
    if title is not None and not title.strip():
        raise BookingError("invalid.title", fields={"title": [words("required")]})
    moved = (new_start, new_end) != (reservation.start, reservation.end)
    if moved and not permissions.can_be_moved(reservation, now):
        raise BookingError("started.move")
    managed = managed_equipment_ids(user, [reservation.equipment_id])
    if override and not permissions.may_override([reservation.equipment_id], managed):
        raise BookingError("permission_denied.override")
    return new_start.astimezone(rules.UTC), new_end.astimezone(rules.UTC)


def _check_move(
    current: Reservation,
    equipment: Equipment,
    new_start: datetime,
    new_end: datetime,
    user: Any,
    now: datetime,
    override: bool,
) -> tuple[list[str], list[Reservation]]:
    """Every rule again for the new times, as the booker; displace what a pedagogical
    booking preempts. Answer the rules a manager's override lifted, and the displaced
    (announced by the caller once the move is written)."""
    tz = local_tz()
    policy = equipment.policy
    project = current.project
    facts = gather(
        equipment=[equipment],
        project=project,
        span_start=new_start,
        span_end=new_end + timedelta(minutes=policy.buffer_minutes),
        exclude_id=current.pk,
        tz=tz,
    )
    verdict = rules.check_booking(
        facts.for_request(
            item=equipment,
            policy=policy,
            project=project,
            kind=current.priority,
            is_member=is_member(project, current.booked_by, [equipment]),
            start=new_start,
            end=new_end,
            now=now,
            tz=tz,
        )
    )
    violations, overridden = rules.apply_override(verdict.violations, override)
    if violations:
        if violations[0].code == "conflict":
            raise conflict(
                equipment, new_start, new_end, conflicts=verdict.conflicts, exclude_id=current.pk
            )
        raise BookingError(violations[0].code, violations[0].message)
    displaced = displace(
        set(verdict.displace), by=user, now=now, reason=_("Displaced by a teaching booking.")
    )
    return overridden, displaced


def reservation_cancel(
    *,
    reservation: Reservation,
    user: Any,
    now: datetime,
    scope: str = "this",
    reason: str = "",
    whole_session: bool = False,
) -> list[Reservation]:
    """Cancel one occurrence, the following ones of its series, or the whole series.

    With `whole_session`, "this" covers the occurrence on every equipment of its session
    (a class on three workstations is one date, not three); "following" and "series"
    cover every equipment anyway (a session's series is one series). Without it (the
    API's `scope=this`), only the named reservation is cancelled. All in one transaction:
    everything that can still be cancelled, or nothing.
    """
    if scope not in ("this", "following", "series"):
        raise BookingError("bad_scope")
    if not can_act_on(user, reservation):
        raise BookingError("permission_denied.cancel")
    if scope != "this" and reservation.series_id is None:
        scope = "this"
    if scope == "this" and reservation.status not in LIVE_STATUSES:
        raise BookingError("not_live.cancel")
    if scope == "this" and not permissions.can_be_cancelled(reservation, now):
        raise BookingError("started")

    def work() -> list[Reservation]:
        items = cancel_targets(reservation, user, scope, now, whole_session, lock=True)
        if scope == "this" and reservation.pk not in {r.pk for r in items}:
            # Changed since it was read (cancelled or started by another request).
            raise BookingError("not_live.cancel")
        transition(
            items, ReservationStatus.CANCELLED, by=user, action="cancel", now=now, reason=reason
        )
        reservations_did("cancelled", items, actor=user, now=now, reason=reason)
        return items

    return run_in_transaction(work)


def cancel_targets(
    reservation: Reservation,
    user: Any,
    scope: str,
    now: datetime,
    whole_session: bool,
    *,
    lock: bool = False,
    related: Sequence[str] = (),
) -> list[Reservation]:
    """What cancelling `reservation` with `scope` covers (see reservation_cancel), in pk order:
    the reservations still cancellable (permissions.can_be_cancelled, as a query) that
    the user may act on. The service reads them locked (`lock`); the confirmation page
    reads the same, with the `related` rows it shows, to say what will be cancelled. An
    unknown scope covers nothing.
    """
    series_id = reservation.series_id
    if scope != "this" and series_id is None:
        scope = "this"
    targets = Reservation.objects.filter(
        Q(status=ReservationStatus.PENDING) | Q(status=ReservationStatus.CONFIRMED, start__gt=now)
    )
    if lock:
        targets = targets.select_for_update()
    if related:  # what the confirmation page shows of each, read with them
        targets = targets.select_related(*related)
    if scope == "this" and whole_session and reservation.session_id is not None:
        targets = targets.filter(
            session_id=reservation.session_id, start=reservation.start, end=reservation.end
        )
    elif scope == "this":
        targets = targets.filter(pk=reservation.pk)
    elif scope in ("following", "series") and series_id is not None:
        targets = targets.filter(series_id=series_id)
        if scope == "following":
            targets = targets.filter(start__gte=reservation.start)
    else:
        return []
    # Only what the user may act on: the manager of one workstation of a class cancels
    # that workstation's date, not the whole session's.
    return acted_on_by(user, list(targets.order_by("pk")))


def _decide(
    *, reservation: Reservation, user: Any, now: datetime, reason: str, approve: bool
) -> Reservation:
    manages = bool(managed_equipment_ids(user, [reservation.equipment_id]))
    if not permissions.may_decide(user, manages=manages):
        raise BookingError("permission_denied.decide")
    if not approve and not reason:
        raise BookingError("required.reason", fields={"reason": [words("required")]})

    def work() -> Reservation:
        current = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if current.status != ReservationStatus.PENDING:
            raise BookingError("not_pending")
        current.status = ReservationStatus.CONFIRMED if approve else ReservationStatus.REJECTED
        current.revision += 1
        current.status_changed_at = now
        current.updated_at = now
        current.save()
        audit_entry(
            current,
            by=user,
            action="approve" if approve else "reject",
            at=now,
            from_status=ReservationStatus.PENDING,
            reason=reason,
        ).save()
        reservations_did(
            "approved" if approve else "rejected", [current], actor=user, now=now, reason=reason
        )
        return current

    return run_in_transaction(work)


def reservation_approve(
    *, reservation: Reservation, user: Any, now: datetime, reason: str = ""
) -> Reservation:
    return _decide(reservation=reservation, user=user, now=now, reason=reason, approve=True)


def reservation_reject(
    *, reservation: Reservation, user: Any, now: datetime, reason: str = ""
) -> Reservation:
    """Refuse a pending request; the requester is told why (a reason is required)."""
    return _decide(
        reservation=reservation, user=user, now=now, reason=reason.strip(), approve=False
    )
