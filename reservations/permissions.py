"""Who may do what to a reservation or a closure (SPEC §6). Pure: the facts are passed in.

The services read the facts (reservations.services.access) and ask these; pages ask the
same functions to decide which buttons to show, so a page never offers what the service
then refuses.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from core.roles import is_platform_manager


def may_act_on(user: Any, reservation: Any, *, manages: bool, sees_project: bool) -> bool:
    """Cancel, move, check in or out: the booker, the project's leader and members, its
    partner's referents (`sees_project`), the equipment's managers and platform managers."""
    return (
        is_platform_manager(user) or reservation.booked_by_id == user.pk or manages or sees_project
    )


def may_override(equipment_ids: Collection[int], managed: Collection[int]) -> bool:
    """An explicit override of the rules is for managers of every equipment concerned."""
    return bool(equipment_ids) and set(equipment_ids) <= set(managed)


def may_decide(user: Any, *, manages: bool) -> bool:
    """Approving or rejecting a pending request is for the equipment's managers."""
    return is_platform_manager(user) or manages


def may_use_manager_pages(user: Any, *, manages_any: bool) -> bool:
    """Approvals and closures pages: platform managers and the managers of some equipment."""
    return is_platform_manager(user) or manages_any


def may_close(user: Any, *, equipment: Any, manages: bool) -> bool:
    """Equipment managers close their equipment; sites and the whole campus are closed
    by platform managers."""
    return is_platform_manager(user) or (equipment is not None and manages)


def can_be_cancelled(reservation: Any, now: datetime) -> bool:
    """A pending request may be withdrawn; a confirmed reservation until it starts.

    Once started it is used, completed or a no-show, and billed (SPEC §5): check out to
    free the rest of its slot.
    """
    return reservation.status == "pending" or (
        reservation.status == "confirmed" and reservation.start > now
    )


def can_be_moved(reservation: Any, now: datetime) -> bool:
    """A live reservation may be moved or resized until it starts (then check out)."""
    return reservation.status in ("pending", "confirmed") and reservation.start > now


def check_in_open(reservation: Any, now: datetime) -> bool:
    """From the check-in grace before the start until the end (SPEC §5)."""
    grace = timedelta(minutes=reservation.equipment.policy.check_in_grace_minutes)
    return reservation.start - grace <= now < reservation.end
