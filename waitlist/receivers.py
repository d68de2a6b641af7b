"""Offer freed time to the waitlist, inside the transaction that freed it (see services).

Every path that frees time on an equipment announces it (core.events): a cancellation, a
rejection, a displacement (by a teaching booking or a closure), a move (the time held
before), an early check-out or a no-show (the rest of the slot), a closure deleted.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

from core.events import closures_changed, reservations_changed

from .models import EntryStatus, WaitlistEntry
from .services import Window, offer, queue_displaced

log = logging.getLogger(__name__)

# The reservations' own [start, blocked_until) is free again after these; a move frees the
# time it held before (`freed`); "completed" frees the rest of an early check-out's slot
# (the worker's completions end in the past: nothing to offer).
FREEING = {"cancelled", "rejected", "displaced", "closed", "no_show", "completed"}
DISPLACING = {"displaced", "closed"}


def on_reservations_changed(
    sender: Any,
    *,
    action: str,
    reservations: list[Any],
    now: Any = None,
    freed: Any = (),
    **kwargs: Any,
) -> None:
    if action not in FREEING and action != "moved":
        return
    now = now or timezone.now()
    if action in DISPLACING:
        # Queued before the offer, so that they are candidates for what is left.
        try:
            with transaction.atomic():
                queue_displaced(reservations, now=now)
        except Exception:  # never fail the displacement
            log.exception("waitlist: could not queue the displaced owners")
    if action == "moved":
        windows = [Window(*item) for item in freed]
    else:
        windows = [Window(r.equipment_id, r.start, r.blocked_until) for r in reservations]
    offer(windows, now=now)


def on_closures_changed(
    sender: Any, *, action: str, closures: Any = (), now: Any = None, **kwargs: Any
) -> None:
    """A deleted closure opens its time again on its equipment, its site's, or every one."""
    if action != "deleted":
        return
    now = now or timezone.now()
    try:
        with transaction.atomic():
            windows = _reopened(closures)
    except Exception:  # never fail the deletion
        log.exception("waitlist: could not read what a deleted closure reopens")
        return
    offer(windows, now=now)


def _reopened(closures: Any) -> list[Window]:
    """The windows a deleted closure opens on the equipment that have waiting entries."""
    windows: list[Window] = []
    for closure in closures:
        waiting = WaitlistEntry.objects.filter(
            status=EntryStatus.WAITING, start__lt=closure["end"], end__gt=closure["start"]
        )
        if closure["equipment"] is not None:
            waiting = waiting.filter(equipment_id=closure["equipment"])
        elif closure["site"] is not None:
            waiting = waiting.filter(equipment__site_id=closure["site"])
        ids = sorted(set(waiting.values_list("equipment_id", flat=True)))
        windows += [Window(pk, closure["start"], closure["end"]) for pk in ids]
    return windows


def connect() -> None:
    reservations_changed.connect(on_reservations_changed, dispatch_uid="waitlist.offer")
    closures_changed.connect(on_closures_changed, dispatch_uid="waitlist.offer")
