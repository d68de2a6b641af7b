"""The worker's own housekeeping, run on a schedule (platform_booking.scheduler)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from notifications.models import Notification, Status

from .models import PeriodicRun

KEEP_RUNS = timedelta(days=7)  # finished tasks and periodic slots
KEEP_NOTIFICATIONS = timedelta(days=90)  # sent and skipped ones; failed ones stay


@task()
def prune() -> dict[str, int]:
    """Forget finished tasks and old slots (a sweep a minute is 1,440 rows a day), and
    notifications delivered or skipped long ago."""
    now = timezone.now()
    tasks, _ = DBTaskResult.objects.finished().filter(finished_at__lt=now - KEEP_RUNS).delete()
    runs, _ = PeriodicRun.objects.filter(slot__lt=now - KEEP_RUNS).delete()
    notifications, _ = Notification.objects.filter(
        status__in=[Status.SENT, Status.SKIPPED], created_at__lt=now - KEEP_NOTIFICATIONS
    ).delete()
    return {"tasks": tasks, "periodic_runs": runs, "notifications": notifications}
