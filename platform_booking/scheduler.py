"""The periodic jobs of the worker (SPEC §12), with no cron.

Every worker runs this scheduler. Time is cut into slots per job (every N seconds, or a
daily local time); for each new slot a worker inserts a `PeriodicRun(job, slot)` row and
only the worker whose insert succeeds enqueues the job. The unique constraint decides in
the database, so several workers and machines never enqueue one job twice for the same
slot, and the task queue hands each enqueued job to one worker (SKIP LOCKED on
PostgreSQL). On the database queue the row and the task are inserted in one transaction:
both or neither. Slots missed while no worker ran are not caught up one by one: the next
run covers them (each job does all that is due). A job's arguments come from its slot (the
reminders remind of the day after their slot, however late the queue runs them); the
calendar repair starts from its own last success (platform_booking.tasks).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, OperationalError, transaction
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend
from django_tasks_db.utils import is_locked_database_exception

from core.timezones import local_tz
from notifications.tasks import deliver_due_notifications, send_daily_reminders
from reservations.tasks import release_no_shows
from waitlist.tasks import expire_waitlist

from .models import PeriodicRun
from .outage import is_database_unavailable
from .tasks import prune, repair_calendars_since_last_success

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    task: Task[Any, Any]
    every: timedelta | None = None  # a slot every so often (from the Unix epoch)
    at: time | None = None  # or one slot a day at this local time
    # The task's arguments for a slot.
    arguments: Callable[[datetime], dict[str, Any]] = field(default=lambda slot: {})

    def slot(self, now: datetime) -> datetime:
        """The start of the slot `now` falls in."""
        if self.every is not None:
            step = int(self.every.total_seconds())
            return datetime.fromtimestamp(int(now.timestamp()) // step * step, UTC)
        assert self.at is not None
        tz = local_tz()
        local = now.astimezone(tz)
        day = local.date() if local.time() >= self.at else local.date() - timedelta(days=1)
        return datetime.combine(day, self.at, tzinfo=tz).astimezone(UTC)


def _reminder_arguments(slot: datetime) -> dict[str, Any]:
    """The day the reminders of this slot are about: the local day after the slot."""
    return {"day": (slot.astimezone(local_tz()).date() + timedelta(days=1)).isoformat()}


def jobs() -> list[Job]:
    """The periodic jobs, from settings.WORKER_SCHEDULE and settings.REMINDERS_AT."""
    every = settings.WORKER_SCHEDULE
    found = [
        Job("deliver_due_notifications", deliver_due_notifications),
        Job("release_no_shows", release_no_shows),
        Job("repair_calendars", repair_calendars_since_last_success),
        Job("prune", prune),
        Job("expire_waitlist", expire_waitlist),
    ]
    result = [
        Job(job.name, job.task, every=timedelta(seconds=every[job.name]), arguments=job.arguments)
        for job in found
        if every.get(job.name)
    ]
    if settings.REMINDERS_AT:
        result.append(
            Job(
                "send_reminders",
                send_daily_reminders,
                at=time.fromisoformat(settings.REMINDERS_AT),
                arguments=_reminder_arguments,
            )
        )
    return result


def schedule(job: Job, *, now: datetime, worker: str = "") -> bool:
    """Enqueue `job` for the slot of `now` unless some worker already did; True if this one
    did."""
    slot = job.slot(now)
    kwargs = job.arguments(slot)
    in_database = isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend)
    try:
        with transaction.atomic():
            PeriodicRun.objects.create(
                job=job.name, slot=slot, enqueued_at=timezone.now(), worker=worker[:100]
            )
            if in_database:
                job.task.enqueue(**kwargs)  # in the same transaction: both or neither
            else:
                transaction.on_commit(lambda: job.task.enqueue(**kwargs))
    except IntegrityError:
        return False  # another worker has this slot
    log.info("enqueued %s for %s", job.name, slot.isoformat())
    return True


def is_locked(error: BaseException) -> bool:
    """SQLite's "database is locked": busy for a moment, not gone."""
    return (
        isinstance(error, OperationalError)
        and bool(error.args)
        and is_locked_database_exception(error)
    )


class Scheduler:
    """Remembers the slot each job was last looked at, so a tick asks the database only
    when a job enters a new slot."""

    def __init__(self, worker: str = "") -> None:
        self.worker = worker
        self.jobs = jobs()
        self.seen: dict[str, datetime] = {}

    def tick(self, now: datetime | None = None) -> list[str]:
        now = now or timezone.now()
        enqueued = []
        for job in self.jobs:
            slot = job.slot(now)
            if self.seen.get(job.name) == slot:
                continue
            try:
                if schedule(job, now=now, worker=self.worker):
                    enqueued.append(job.name)
                self.seen[job.name] = slot
            except Exception as error:  # try again at the next tick
                if is_locked(error):  # SQLite, busy for a moment
                    log.warning("could not schedule %s: %s", job.name, error)
                elif is_database_unavailable(error):
                    raise  # the worker waits for the database (and logs it once)
                else:
                    log.exception("could not schedule %s", job.name)
        return enqueued
