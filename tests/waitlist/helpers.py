"""Shared helpers of the waitlist tests: a fixed clock and booking shortcuts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from reservations.services import reservation_create
from waitlist.services import waitlist_join

TZ = ZoneInfo("Europe/Paris")
# Monday 23 November 2026, 08:00 in Paris.
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)


def thu(hour: int, minute: int = 0) -> datetime:
    """Thursday 26 November 2026 (3 days after NOW), local time."""
    return datetime(2026, 11, 26, hour, minute, tzinfo=TZ)


def far(hour: int, minute: int = 0) -> datetime:
    """Wednesday 23 December 2026: past the 14-day preemption notice."""
    return datetime(2026, 12, 23, hour, minute, tzinfo=TZ)


def book(user: Any, project: Any, equipment: Any, start: datetime, end: datetime, **extra: Any):
    extra.setdefault("now", NOW)
    return reservation_create(
        user=user,
        project=project,
        equipment=[equipment],
        start=start,
        end=end,
        title=extra.pop("title", "Mesures"),
        **extra,
    ).reservations[0]


def join(user: Any, project: Any, equipment: Any, start: datetime, end: datetime, **extra: Any):
    """Queue (the slot must be taken); answer the entry."""
    extra.setdefault("now", NOW)
    joined = waitlist_join(
        user=user,
        project=project,
        equipment_ids=[equipment.pk],
        start=start,
        end=end,
        title=extra.pop("title", "En attente"),
        **extra,
    )
    assert joined.booking is None, "the slot was free: booked, not queued"
    (entry,) = joined.entries
    return entry
