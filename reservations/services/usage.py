"""Check-in, check-out, no-shows and completion of reservations (SPEC §5)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef
from django.utils.translation import gettext as _

from reservations.exceptions import BookingError
from reservations.models import AuditEntry, Reservation, ReservationStatus, UsageRecord

from .booking import _audit, can_act_on, run_in_transaction


def reservation_check_in(*, reservation: Reservation, user: Any, now: datetime) -> UsageRecord:
    """Record the start of the real use, from the grace before the start until the end."""
    if not can_act_on(user, reservation):
        raise BookingError("permission_denied", _("You may not check in here."), status=403)
    grace = timedelta(minutes=reservation.equipment.policy.check_in_grace_minutes)

    def work() -> UsageRecord:
        current = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if current.status != ReservationStatus.CONFIRMED:
            raise BookingError("invalid", _("Only confirmed reservations can be checked in."))
        if not current.start - grace <= now < current.end:
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


def release_no_shows(*, now: datetime) -> dict[str, int]:
    """Mark unchecked reservations past their grace as no-shows, and ended ones completed.

    On equipment that requires check-in, a confirmed reservation without check-in after
    its grace becomes `no_show` (its slot is free again). A confirmed reservation that has
    ended becomes `completed` (on check-in equipment, only when it was checked in).
    """

    def work() -> dict[str, int]:
        checked_in = UsageRecord.objects.filter(reservation=OuterRef("pk"))
        candidates = (
            Reservation.objects.select_for_update()
            .filter(status=ReservationStatus.CONFIRMED, start__lt=now)
            .annotate(checked_in=Exists(checked_in))
            .select_related("equipment")
        )
        changed: list[Reservation] = []
        audits: list[AuditEntry] = []
        counts = {"no_show": 0, "completed": 0}
        for item in candidates:
            grace = timedelta(minutes=item.equipment.policy.check_in_grace_minutes)
            if item.equipment.requires_check_in and not item.checked_in:
                if item.start + grace > now:
                    continue
                item.status = ReservationStatus.NO_SHOW
            elif item.end <= now:
                item.status = ReservationStatus.COMPLETED
            else:
                continue
            counts[item.status] += 1
            item.revision += 1
            item.status_changed_at = now
            item.updated_at = now
            changed.append(item)
            audits.append(
                _audit(item, by=None, action=item.status, at=now, from_status="confirmed")
            )
        Reservation.objects.bulk_update(
            changed, ["status", "revision", "status_changed_at", "updated_at"], batch_size=500
        )
        AuditEntry.objects.bulk_create(audits, batch_size=500)
        return counts

    return run_in_transaction(work)
