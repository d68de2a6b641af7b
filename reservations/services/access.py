"""The facts the permission rules need, read for the services (reservations.permissions)."""

from __future__ import annotations

from typing import Any

from equipment.models import Equipment
from equipment.permissions import may_manage_equipment
from partners.selectors import project_ids_with_full_view
from reservations import permissions
from reservations.models import Reservation
from reservations.selectors import managed_equipment_ids


def can_act_on(user: Any, reservation: Reservation) -> bool:
    """permissions.may_act_on, reading only what the cheaper answers leave open."""
    if permissions.may_act_on(user, reservation, manages=False, sees_project=False):
        return True
    if may_manage_equipment(user, reservation.equipment):
        return permissions.may_act_on(user, reservation, manages=True, sees_project=False)
    sees = project_ids_with_full_view(user).filter(pk=reservation.project_id).exists()
    return permissions.may_act_on(user, reservation, manages=False, sees_project=sees)


def acted_on_by(user: Any, reservations: list[Reservation]) -> list[Reservation]:
    """Those of `reservations` the user may act on: can_act_on for many, in two queries."""
    managed = managed_equipment_ids(user, sorted({r.equipment_id for r in reservations}))
    seen = set(
        project_ids_with_full_view(user)
        .filter(pk__in={r.project_id for r in reservations})
        .values_list("pk", flat=True)
    )
    return [
        r
        for r in reservations
        if permissions.may_act_on(
            user, r, manages=r.equipment_id in managed, sees_project=r.project_id in seen
        )
    ]


def can_manage_closure(user: Any, *, equipment: Equipment | None, site: Any = None) -> bool:
    """permissions.may_close for this user and equipment (or site, or the whole campus)."""
    manages = equipment is not None and bool(managed_equipment_ids(user, [equipment.pk]))
    return permissions.may_close(user, equipment=equipment, manages=manages)
