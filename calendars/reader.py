"""What a feed's reader sees in full (SPEC §6), decided in Python for thousands of rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.roles import is_platform_manager
from partners.selectors import project_ids_with_full_view


@dataclass(frozen=True)
class Reader:
    """Whose feed it is and which reservations they may see in full (SPEC §6)."""

    user_id: int
    everything: bool
    full_projects: frozenset[int]
    managed_equipment: frozenset[int]

    @classmethod
    def of(cls, user: Any) -> Reader:
        """Two queries for ordinary users, none for platform managers."""
        if is_platform_manager(user):
            return cls(user.pk, True, frozenset(), frozenset())
        return cls(
            user.pk,
            False,
            frozenset(project_ids_with_full_view(user).values_list("pk", flat=True)),
            frozenset(user.managed_equipment.values_list("pk", flat=True)),
        )

    def sees_in_full(self, *, project_id: int, booked_by_id: int, equipment_id: int) -> bool:
        # Same rule as reservations_visible_to: managers, the project's people, the booker
        # and the equipment's managers.
        return (
            self.everything
            or project_id in self.full_projects
            or booked_by_id == self.user_id
            or equipment_id in self.managed_equipment
        )
