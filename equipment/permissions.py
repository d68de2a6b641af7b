"""Who may write the inventory (README, "Who writes what"). Decisions only.

Each function answers for one user and the objects at hand and writes nothing; whether
the user manages an equipment is read through equipment.selectors. The write services
in equipment.services raise `permission_denied` (403) when one says no. Everyone logged
in reads the inventory, so none of these hides anything (no 404 here), except training
requests: who may not see one is answered 404 (see `may_see_training_request`).
"""

from __future__ import annotations

from typing import Any

from core.roles import is_platform_manager

from .models import Equipment, TrainingRequest
from .selectors import is_equipment_manager


def may_manage_equipment(user: Any, equipment: Equipment) -> bool:
    """Platform managers and the equipment's own managers (SPEC §6, equipment manager)."""
    return is_platform_manager(user) or is_equipment_manager(user, equipment)


def may_create_equipment(user: Any) -> bool:
    """Platform managers."""
    return is_platform_manager(user)


def may_edit_equipment(user: Any, equipment: Equipment) -> bool:
    """Its managers: every field, the rates and the policy, but see `may_change_managers`."""
    return may_manage_equipment(user, equipment)


def may_change_managers(user: Any, equipment: Equipment) -> bool:
    """Platform managers: an equipment manager does not choose who else manages it."""
    return is_platform_manager(user)


def may_grant_qualification(user: Any, equipment: Equipment) -> bool:
    """The equipment's managers qualify users on it (and renew them)."""
    return may_manage_equipment(user, equipment)


def may_manage_documents(user: Any, equipment: Equipment) -> bool:
    """Its managers attach and remove its documents; everyone logged in reads them."""
    return may_manage_equipment(user, equipment)


def may_read_documents(user: Any) -> bool:
    """Anyone logged in: everyone who sees the inventory (SPEC §6, §13)."""
    return bool(user is not None and user.is_authenticated)


def may_create_site(user: Any) -> bool:
    """Platform managers."""
    return is_platform_manager(user)


def may_edit_site(user: Any) -> bool:
    """Platform managers, whatever the site."""
    return is_platform_manager(user)


def may_create_category(user: Any) -> bool:
    """Platform managers."""
    return is_platform_manager(user)


def may_edit_category(user: Any) -> bool:
    """Platform managers, whatever the category."""
    return is_platform_manager(user)


def may_see_training_request(user: Any, request: TrainingRequest) -> bool:
    """The requester, the equipment's managers and platform managers (SPEC §6); for anyone
    else the request does not exist (404)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return request.user_id == user.pk or may_manage_equipment(user, request.equipment)


def may_decide_training_request(user: Any, request: TrainingRequest) -> bool:
    """The equipment's managers and platform managers accept or decline (not the requester,
    unless they manage the equipment themselves)."""
    return may_manage_equipment(user, request.equipment)


def may_cancel_training_request(user: Any, request: TrainingRequest) -> bool:
    """The requester only: managers decline instead, with a reason."""
    return bool(getattr(user, "is_authenticated", False) and request.user_id == user.pk)
