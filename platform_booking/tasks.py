"""The worker's own housekeeping, run on a schedule (platform_booking.scheduler)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from django_tasks import task
from django_tasks_db.models import DBTaskResult

from calendars.tasks import repair_mirror
from notifications.models import Notification, Status

from .models import PeriodicRun

KEEP_RUNS = timedelta(days=7)  # finished tasks and periodic slots
KEEP_NOTIFICATIONS = timedelta(days=90)  # sent and skipped ones; failed ones stay
# The start of each successful calendar repair, kept as a PeriodicRun of this name (pruned
# with the others: after a week without a success the next repair rebuilds everything).
REPAIR_COMPLETED = "repair_calendars.completed"


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


@task()
def repair_calendars_since_last_success() -> dict[str, int]:
    """Repair the calendar mirror from the start of the last successful repair (all of it
    when none is known), then record this one's start: a repair that failed, or that never
    ran, leaves no gap for the next one."""
    started = timezone.now()
    since = (
        PeriodicRun.objects.filter(job=REPAIR_COMPLETED)
        .order_by("-slot")
        .values_list("slot", flat=True)
        .first()
    )
    counts = repair_mirror(since=since)
    try:
        with transaction.atomic():
            PeriodicRun.objects.create(
                job=REPAIR_COMPLETED, slot=started, enqueued_at=timezone.now(), worker=""
            )
    except IntegrityError:
        pass  # another repair that started at the same instant recorded it
    return asdict(counts)
