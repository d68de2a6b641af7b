"""Which reservations a report reads: the user's scope, the request's filters, the window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from core.errors import DomainError
from core.roles import is_platform_manager
from reservations.models import Reservation, ReservationStatus


@dataclass(frozen=True)
class Scope:
    """The reservations a user may report on: all, or their partners' and equipment's."""

    everything: bool = False
    partner_ids: frozenset[int] = frozenset()
    equipment_ids: frozenset[int] = frozenset()

    def q(self) -> Q:
        if self.everything:
            return Q()
        return Q(project__partner_id__in=sorted(self.partner_ids)) | Q(
            equipment_id__in=sorted(self.equipment_ids)
        )


def report_scope(user: Any) -> Scope:
    """Platform managers report on everything, referents on their partners, equipment
    managers on their equipment; anyone else is refused (403)."""
    if is_platform_manager(user):
        return Scope(everything=True)
    if user is None or not user.is_authenticated:
        raise DomainError("not_authenticated")
    partners = frozenset(user.referent_of.values_list("pk", flat=True))
    equipment = frozenset(user.managed_equipment.values_list("pk", flat=True))
    if not partners and not equipment:
        raise DomainError("permission_denied.reports")
    return Scope(partner_ids=partners, equipment_ids=equipment)


@dataclass(frozen=True)
class Filters:
    partner: tuple[int, ...] = ()
    equipment: tuple[int, ...] = ()
    project_kind: tuple[str, ...] = ()


def window_reservations(
    start: datetime, end: datetime, scope: Scope, filters: Filters
) -> QuerySet[Reservation]:
    """Reservations overlapping [start, end) in the scope and filters, rejected ones out."""
    qs = (
        Reservation.objects.overlapping(start, end)
        .exclude(status=ReservationStatus.REJECTED)
        .filter(scope.q())
    )
    if filters.partner:
        qs = qs.filter(project__partner_id__in=filters.partner)
    if filters.equipment:
        qs = qs.filter(equipment_id__in=filters.equipment)
    if filters.project_kind:
        qs = qs.filter(project__kind__in=filters.project_kind)
    return qs.order_by()
