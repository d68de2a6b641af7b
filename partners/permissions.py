"""Who may write partners and projects (README, "Who writes what"). Decisions only.

Each function answers for one user and the objects at hand and writes nothing; whether
the user refers a partner is read through partners.selectors. The write services in
partners.services raise `permission_denied` (403) when one says no. Seeing a project is
another matter (partners.selectors.projects_visible_to): who cannot see it gets 404
before any of these is asked.
"""

from __future__ import annotations

from typing import Any

from core.roles import is_platform_manager

from .models import Partner, Project
from .selectors import is_partner_referent


def may_create_partner(user: Any) -> bool:
    """Platform managers."""
    return is_platform_manager(user)


def may_edit_partner(user: Any) -> bool:
    """Platform managers, whatever the partner (its name, kind, rate category, referents)."""
    return is_platform_manager(user)


def may_create_project(user: Any, partner: Partner | None) -> bool:
    """Platform managers and the referents of the project's partner."""
    if is_platform_manager(user):
        return True
    return partner is not None and is_partner_referent(user, partner)


def may_edit_project(user: Any, project: Project) -> bool:
    """Platform managers, the partner's referents and the project's leader.

    The leader runs the team, the name and the dates; what moves the project to another
    partner or kind is asked of `may_move_project` as well.
    """
    return (
        is_platform_manager(user)
        or project.leader_id == user.pk
        or is_partner_referent(user, project.partner)
    )


def may_move_project(
    user: Any, project: Project, new_partner: Partner | None, new_kind: str
) -> bool:
    """Whether the user may give the project this partner and kind.

    The kind is the priority of the project's bookings and the partner who answers for
    it: changing either is for platform managers and for those who refer both the old
    and the new partner, not for a leader. Keeping both is no move.
    """
    same_partner = new_partner is not None and new_partner.pk == project.partner_id
    if same_partner and new_kind == project.kind:
        return True
    if is_platform_manager(user):
        return True
    if new_partner is None:
        return False
    return all(is_partner_referent(user, partner) for partner in {project.partner, new_partner})
