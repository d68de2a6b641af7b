"""Closures: equipment, a site or every site unavailable over a period.

A closure created over live reservations displaces them in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from equipment.models import Closure, Equipment, Site
from platform_booking.roles import is_platform_manager
from reservations import rules
from reservations.exceptions import BookingError
from reservations.models import LIVE_STATUSES, Reservation
from reservations.notifications import notify_after_commit

from .booking import _displace, managed_equipment_ids, run_in_transaction


def can_manage_closure(user: Any, *, equipment: Equipment | None, site: Site | None) -> bool:
    """Equipment managers close their equipment; platform managers close anything."""
    if is_platform_manager(user):
        return True
    return equipment is not None and bool(managed_equipment_ids(user, [equipment.pk]))


def closure_create(
    *,
    user: Any,
    start: datetime,
    end: datetime,
    reason: str,
    now: datetime,
    equipment: Equipment | None = None,
    site: Site | None = None,
    kind: str = Closure.Kind.OTHER,
    source: str = "",
) -> tuple[Closure, list[Reservation]]:
    """Close equipment, a site or (neither given) every site; displace what it covers."""
    if equipment is not None and site is not None:
        raise BookingError("invalid", _("Close either an equipment or a site, not both."))
    shape = rules.check_shape(start, end)
    if shape:
        raise BookingError(shape.code, shape.message)
    if not reason.strip():
        raise BookingError(
            "invalid", _("Invalid input."), fields={"reason": [_("This field is required.")]}
        )
    if kind not in Closure.Kind.values:
        raise BookingError("invalid", _("Invalid input."), fields={"kind": [_("Unknown kind.")]})
    if not can_manage_closure(user, equipment=equipment, site=site):
        raise BookingError(
            "permission_denied", _("You may not close this equipment or site."), status=403
        )

    def work() -> tuple[Closure, list[Reservation]]:
        covered = Reservation.objects.filter(status__in=LIVE_STATUSES, start__lt=end, end__gt=start)
        # Lock the closed equipment rows (in id order, as bookings do): a booking racing
        # this closure either commits first and is displaced below, or waits for the lock
        # and then sees the closure.
        closed = Equipment.objects.select_for_update().order_by("pk")
        if equipment is not None:
            closed = closed.filter(pk=equipment.pk)
            covered = covered.filter(equipment=equipment)
        elif site is not None:
            closed = closed.filter(site=site)
            covered = covered.filter(equipment__site=site)
        list(closed.values_list("pk", flat=True))
        closure = Closure.objects.create(
            equipment=equipment,
            site=site,
            start=start,
            end=end,
            reason=reason.strip(),
            kind=kind,
            source=source,
            created_by=user if getattr(user, "pk", None) else None,
        )
        displaced = _displace(
            set(covered.values_list("pk", flat=True)),
            by=user,
            now=now,
            reason=_("Displaced by a closure: %(reason)s") % {"reason": closure.reason},
        )
        notify_after_commit("displaced", displaced)
        return closure, displaced

    return run_in_transaction(work)


def closure_delete(*, closure: Closure, user: Any) -> None:
    if not can_manage_closure(user, equipment=closure.equipment, site=closure.site):
        raise BookingError("permission_denied", _("You may not remove this closure."), status=403)
    closure.delete()
