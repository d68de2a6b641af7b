"""Email the people concerned when the reservation services announce a change."""

from __future__ import annotations

from typing import Any

from core.events import reservations_changed

from .emails import notify_after_commit

# What the bookers are told of; "updated" (a new title), "no_show" and "completed" are not
# news to them.
EMAILED = {"created", "displaced", "closed", "moved", "cancelled", "approved", "rejected"}
# Displacements offer alternatives dated by the service's clock.
DATED = {"displaced", "closed"}


def on_reservations_changed(
    sender: Any, *, action: str, reservations: list[Any], now: Any = None, **kwargs: Any
) -> None:
    if action in EMAILED:
        notify_after_commit(action, reservations, now=now if action in DATED else None)


def connect() -> None:
    reservations_changed.connect(on_reservations_changed, dispatch_uid="notifications.emails")
