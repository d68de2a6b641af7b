"""Record the notifications of what the reservation services announce, in their
transaction (SPEC §12): the worker delivers them after the commit."""

from __future__ import annotations

from typing import Any

from core.events import reservations_changed

from .outbox import record

# What the bookers are told of; "updated" (a new title), "no_show" and "completed" are not
# news to them.
EMAILED = {"created", "displaced", "closed", "moved", "cancelled", "approved", "rejected"}


def on_reservations_changed(
    sender: Any, *, action: str, reservations: list[Any], now: Any = None, **kwargs: Any
) -> None:
    if action in EMAILED:
        record(action, reservations, now=now, reason=kwargs.get("reason") or "")


def connect() -> None:
    reservations_changed.connect(on_reservations_changed, dispatch_uid="notifications.outbox")
