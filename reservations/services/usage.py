"""Check-in and check-out of reservations (SPEC §5)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from reservations.exceptions import BookingError
from reservations.models import Reservation, ReservationStatus, UsageRecord
from reservations.permissions import check_in_open

from .access import can_act_on
from .announce import reservations_did
from .noshows import record_no_shows
from .records import audit_entry
from .transactions import run_in_transaction


def reservation_check_in(*, reservation: Reservation, user: Any, now: datetime) -> UsageRecord:
    """Record the start of the real use, from the grace before the start until the end."""
    if not can_act_on(user, reservation):
        raise BookingError("permission_denied.check_in")

    # Past its grace the reservation is a no-show: recorded first, then refused below.
    record_no_shows(now=now, equipment_ids=[reservation.equipment_id])

    def work() -> UsageRecord:
        current = Reservation.objects.select_for_update().get(pk=reservation.pk)
        current.equipment = reservation.equipment  # a reservation never changes equipment
        if current.status == ReservationStatus.NO_SHOW:
            raise BookingError("no_show")
        if current.status != ReservationStatus.CONFIRMED:
            raise BookingError("not_confirmed")
        if not check_in_open(current, now):
            raise BookingError("check_in_closed")
        if UsageRecord.objects.filter(reservation=current).exists():
            raise BookingError("already_checked_in")
        usage = UsageRecord.objects.create(
            reservation=current, checked_in_at=max(now, current.start), checked_in_by=user
        )
        audit_entry(
            current,
            by=user,
            action="check_in",
            at=now,
            from_status=current.status,
            more={"checked_in_at": [None, usage.checked_in_at]},
        ).save()
        return usage

    return run_in_transaction(work)


def reservation_check_out(*, reservation: Reservation, user: Any, now: datetime) -> UsageRecord:
    """Record the end of the real use; the reservation is completed and frees its slot."""
    if not can_act_on(user, reservation):
        raise BookingError("permission_denied.check_out")

    def work() -> UsageRecord:
        current = Reservation.objects.select_for_update().get(pk=reservation.pk)
        usage = UsageRecord.objects.select_for_update().filter(reservation=current).first()
        if usage is None or current.status != ReservationStatus.CONFIRMED:
            raise BookingError("not_checked_in")
        usage.checked_out_at = min(max(now, usage.checked_in_at), current.end)
        usage.checked_out_by = user
        usage.save(update_fields=["checked_out_at", "checked_out_by"])
        # A completed reservation is no longer live: the rest of its slot is free again.
        current.status = ReservationStatus.COMPLETED
        current.revision += 1
        current.status_changed_at = now
        current.updated_at = now
        current.save()
        audit_entry(
            current,
            by=user,
            action="check_out",
            at=now,
            from_status=ReservationStatus.CONFIRMED,
            more={"checked_out_at": [None, usage.checked_out_at]},
        ).save()
        # The rest of the slot is free: the apps above may offer it (the waitlist).
        reservations_did("completed", [current], actor=user, now=now)
        return usage

    return run_in_transaction(work)
