"""Check-in, check-out, no-shows and completion of reservations (SPEC §5)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from reservations.exceptions import BookingError
from reservations.models import AuditEntry, Reservation, ReservationStatus, UsageRecord

from .announce import reservations_did
from .booking import _audit, can_act_on, run_in_transaction


def check_in_open(reservation: Reservation, now: datetime) -> bool:
    """From the check-in grace before the start until the end (SPEC §5)."""
    grace = timedelta(minutes=reservation.equipment.policy.check_in_grace_minutes)
    return reservation.start - grace <= now < reservation.end


def reservation_check_in(*, reservation: Reservation, user: Any, now: datetime) -> UsageRecord:
    """Record the start of the real use, from the grace before the start until the end."""
    if not can_act_on(user, reservation):
        raise BookingError("permission_denied", _("You may not check in here."), status=403)

    # Past its grace the reservation is a no-show: recorded first, then refused below.
    release_overdue_no_shows(now=now, equipment_ids=[reservation.equipment_id])

    def work() -> UsageRecord:
        current = Reservation.objects.select_for_update().get(pk=reservation.pk)
        current.equipment = reservation.equipment  # a reservation never changes equipment
        if current.status == ReservationStatus.NO_SHOW:
            raise BookingError(
                "invalid", _("The check-in grace has passed: this reservation is a no-show.")
            )
        if current.status != ReservationStatus.CONFIRMED:
            raise BookingError("invalid", _("Only confirmed reservations can be checked in."))
        if not check_in_open(current, now):
            raise BookingError(
                "invalid", _("Check in from shortly before the start until the end.")
            )
        if UsageRecord.objects.filter(reservation=current).exists():
            raise BookingError("invalid", _("This reservation is already checked in."))
        return UsageRecord.objects.create(
            reservation=current, checked_in_at=max(now, current.start), checked_in_by=user
        )

    return run_in_transaction(work)


def reservation_check_out(*, reservation: Reservation, user: Any, now: datetime) -> UsageRecord:
    """Record the end of the real use; the reservation is completed and frees its slot."""
    if not can_act_on(user, reservation):
        raise BookingError("permission_denied", _("You may not check out here."), status=403)

    def work() -> UsageRecord:
        current = Reservation.objects.select_for_update().get(pk=reservation.pk)
        usage = UsageRecord.objects.select_for_update().filter(reservation=current).first()
        if usage is None or current.status != ReservationStatus.CONFIRMED:
            raise BookingError("invalid", _("Check in before checking out."))
        usage.checked_out_at = min(max(now, usage.checked_in_at), current.end)
        usage.checked_out_by = user
        usage.save(update_fields=["checked_out_at", "checked_out_by"])
        # A completed reservation is no longer live: the rest of its slot is free again.
        current.status = ReservationStatus.COMPLETED
        current.revision += 1
        current.status_changed_at = now
        current.updated_at = now
        current.save()
        _audit(current, by=user, action="check_out", at=now, from_status="confirmed").save()
        return usage

    return run_in_transaction(work)


def _mark(item: Reservation, status: str, now: datetime, audits: list[AuditEntry]) -> None:
    item.status = status
    item.revision += 1
    item.status_changed_at = now
    item.updated_at = now
    audits.append(_audit(item, by=None, action=status, at=now, from_status="confirmed"))


def _overdue(now: datetime, equipment_ids: Sequence[int] | None) -> QuerySet[Reservation]:
    """Confirmed reservations of check-in equipment, started and never checked in."""
    qs = Reservation.objects.filter(
        status=ReservationStatus.CONFIRMED, start__lt=now, equipment__requires_check_in=True
    ).exclude(Exists(UsageRecord.objects.filter(reservation=OuterRef("pk"))))
    if equipment_ids is not None:
        qs = qs.filter(equipment_id__in=equipment_ids)
    return qs


def release_overdue_no_shows_locked(
    *, now: datetime, equipment_ids: Sequence[int] | None = None
) -> list[Reservation]:
    """Inside a transaction: turn reservations past their check-in grace into no-shows."""
    candidates = _overdue(now, equipment_ids).select_for_update().select_related("equipment")
    changed: list[Reservation] = []
    audits: list[AuditEntry] = []
    for item in candidates:
        grace = timedelta(minutes=item.equipment.policy.check_in_grace_minutes)
        if item.start + grace <= now:
            _mark(item, ReservationStatus.NO_SHOW, now, audits)
            changed.append(item)
    Reservation.objects.bulk_update(
        changed, ["status", "revision", "status_changed_at", "updated_at"], batch_size=500
    )
    AuditEntry.objects.bulk_create(audits, batch_size=500)
    reservations_did("no_show", changed, now=now)
    return changed


def release_overdue_no_shows(
    *, now: datetime, equipment_ids: Sequence[int] | None = None
) -> list[Reservation]:
    """Record the no-shows that SPEC §5 says already are, before a read answers.

    The API treats a reservation past its check-in grace as a no-show whether or not the
    `release_no_shows` command has run: reads call this first. It costs one plain query
    when nothing is overdue, and opens a write transaction only when something is.
    """
    overdue = _overdue(now, equipment_ids).select_related("equipment")
    if not any(
        r.start + timedelta(minutes=r.equipment.policy.check_in_grace_minutes) <= now
        for r in overdue
    ):
        return []
    return run_in_transaction(
        lambda: release_overdue_no_shows_locked(now=now, equipment_ids=equipment_ids)
    )


def release_no_shows(*, now: datetime) -> dict[str, int]:
    """Mark unchecked reservations past their grace as no-shows, and ended ones completed.

    On equipment that requires check-in, a confirmed reservation without check-in after
    its grace becomes `no_show` (its slot is free again). A confirmed reservation that has
    ended becomes `completed` (on check-in equipment, only when it was checked in).
    """

    def work() -> dict[str, int]:
        no_shows = release_overdue_no_shows_locked(now=now)
        ended = (
            Reservation.objects.select_for_update()
            .filter(status=ReservationStatus.CONFIRMED, end__lte=now)
            .exclude(
                Q(equipment__requires_check_in=True)
                & ~Exists(UsageRecord.objects.filter(reservation=OuterRef("pk")))
            )
        )
        changed: list[Reservation] = []
        audits: list[AuditEntry] = []
        for item in ended:
            _mark(item, ReservationStatus.COMPLETED, now, audits)
            changed.append(item)
        Reservation.objects.bulk_update(
            changed, ["status", "revision", "status_changed_at", "updated_at"], batch_size=500
        )
        AuditEntry.objects.bulk_create(audits, batch_size=500)
        reservations_did("completed", changed, now=now)
        return {"no_show": len(no_shows), "completed": len(changed)}

    return run_in_transaction(work)
