"""Record the notifications of what the reservation and training-request services announce,
in their transaction (SPEC §12): the worker delivers them after the commit."""

from __future__ import annotations

from typing import Any

from core.events import reservations_changed, training_requests_changed, waitlist_changed
from waitlist.services import promotion_running

from .models import Kind
from .outbox import record, record_training

# What the bookers are told of; "updated" (a new title), "no_show" and "completed" are not
# news to them.
EMAILED = {"created", "displaced", "closed", "moved", "cancelled", "approved", "rejected"}


def on_reservations_changed(
    sender: Any, *, action: str, reservations: list[Any], now: Any = None, **kwargs: Any
) -> None:
    if action == "created" and promotion_running():
        # Booked for a waiting request: its owner is told "waitlist booked" instead (below),
        # not twice.
        return
    if action in EMAILED:
        record(action, reservations, now=now, reason=kwargs.get("reason") or "")


def on_waitlist_changed(
    sender: Any, *, action: str, entries: list[Any], now: Any = None, **kwargs: Any
) -> None:
    # Only a booking is news: the owner queued, cancelled, or sees the expiry in the list.
    if action == "booked":
        record(Kind.WAITLIST_BOOKED, [entry.reservation for entry in entries], now=now)


def on_training_requests_changed(
    sender: Any, *, action: str, requests: list[Any], now: Any = None, **kwargs: Any
) -> None:
    # A cancelled request is no news to anyone: its managers' queue simply loses it.
    if action in {"created", "accepted", "declined"}:
        record_training(action, requests, now=now)


def connect() -> None:
    reservations_changed.connect(on_reservations_changed, dispatch_uid="notifications.outbox")
    training_requests_changed.connect(
        on_training_requests_changed, dispatch_uid="notifications.outbox.training"
    )
    waitlist_changed.connect(on_waitlist_changed, dispatch_uid="notifications.outbox.waitlist")
