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
    freed: Sequence[tuple[int, datetime, datetime]] = (),
) -> None:
    """Announce that these reservations were created, displaced, moved, cancelled…, and why
    (the reason given by whoever cancelled, rejected or closed, for the people told);
    `freed`: for a move, the time the reservations held before it (see core.events)."""
    if reservations:
        reservations_changed.send(
            sender=Reservation,
            action=action,
            reservations=list(reservations),
            actor=actor,
            now=now,
            reason=reason,
            freed=list(freed),
        )


def closures_did(
    action: str, closures: Iterable[Closure], *, actor: Any = None, now: datetime | None = None
) -> None:
    """Announce that these closures were created or deleted (given as they were: a deleted
    one keeps its fields, not its id, so the id is read first)."""
    items = [
        {
            "id": c.pk,
            "equipment": c.equipment_id,
            "site": c.site_id,
            "start": c.start,
            "end": c.end,
        }
        for c in closures
    ]
    if items:
        closures_changed.send(
            sender=Closure,
            action=action,
            closure_ids=[item["id"] for item in items],
            closures=items,
            actor=actor,
            now=now,
        )
