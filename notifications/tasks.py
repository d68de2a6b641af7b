"""The notification tasks the worker runs (django-tasks: the same on any backend)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

from django.utils import timezone
from django_tasks import task

from .delivery import deliver, deliver_due
from .services import send_reminders


@task()
def deliver_notifications(ids: list[int]) -> dict[str, int]:
    """Deliver these new outbox rows now (enqueued after the commit that wrote them)."""
    return asdict(deliver(ids=ids))


@task()
def deliver_due_notifications() -> dict[str, int]:
    """Deliver every due row: retries, and rows whose prompt task was lost (periodic)."""
    return asdict(deliver_due())


@task()
def send_daily_reminders(day: str | None = None) -> dict[str, int]:
    """Remind the bookers of the reservations of `day` (an ISO date: the day after the
    job's slot, given by the scheduler; tomorrow when not given), once per booker and day."""
    sent, items = send_reminders(now=timezone.now(), day=date.fromisoformat(day) if day else None)
    return {"sent": sent, "reservations": len(items)}
