"""Tell the apps above (calendars, notifications, …) what the services changed.

Sent inside the service's transaction: see core.events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from core.events import closures_changed, reservations_changed
from reservations.models import Closure, Reservation


def reservations_did(
    action: str,
    reservations: Sequence[Reservation],
    *,
    actor: Any = None,
    now: datetime | None = None,
    reason: str = "",
) -> None:
    """Announce that these reservations were created, displaced, moved, cancelled…, and why
    (the reason given by whoever cancelled, rejected or closed, for the people told)."""
    if reservations:
        reservations_changed.send(
            sender=Reservation,
            action=action,
            reservations=list(reservations),
            actor=actor,
            now=now,
            reason=reason,
        )


def closures_did(action: str, closure_ids: Iterable[int], *, actor: Any = None) -> None:
    """Announce that these closures were created or deleted."""
    ids = list(closure_ids)
    if ids:
        closures_changed.send(sender=Closure, action=action, closure_ids=ids, actor=actor)
