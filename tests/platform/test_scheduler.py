"""The worker's scheduler (SPEC §12): slots per job, one enqueue per slot whatever the
number of workers, and the calendar repair it runs."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from schedule.models import Event

from calendars.tasks import repair_mirror
from notifications.tasks import deliver_due_notifications, send_daily_reminders
from platform_booking.models import PeriodicRun
from platform_booking.scheduler import Job, Scheduler, jobs, schedule
from reservations.models import Reservation
from reservations.services import reservation_create

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def test_interval_slots_start_on_the_interval():
    job = Job("sweep", deliver_due_notifications, every=timedelta(minutes=5))
    assert job.slot(datetime(2026, 3, 16, 8, 7, 30, tzinfo=UTC)) == datetime(
        2026, 3, 16, 8, 5, tzinfo=UTC
    )


@pytest.mark.parametrize(
    ("now", "slot"),
    [
        # Before 17:00 Paris time the slot is yesterday's 17:00; from 17:00, today's.
        (datetime(2026, 3, 28, 16, 59, tzinfo=PARIS), datetime(2026, 3, 27, 17, tzinfo=PARIS)),
        (datetime(2026, 3, 28, 17, 0, tzinfo=PARIS), datetime(2026, 3, 28, 17, tzinfo=PARIS)),
        # Across the spring clock change (29 March 2026) the daily time stays 17:00 local.
        (datetime(2026, 3, 29, 18, 0, tzinfo=PARIS), datetime(2026, 3, 29, 17, tzinfo=PARIS)),
        (datetime(2026, 10, 25, 17, 30, tzinfo=PARIS), datetime(2026, 10, 25, 17, tzinfo=PARIS)),
    ],
)
def test_daily_slots_are_at_a_local_time(now, slot):
    job = Job("reminders", send_daily_reminders, at=time(17, 0))
    assert job.slot(now) == slot


def test_the_configured_jobs(settings):
    settings.WORKER_SCHEDULE = {**settings.WORKER_SCHEDULE, "repair_calendars": 0}
    names = {job.name for job in jobs()}
    assert {"deliver_due_notifications", "release_no_shows", "send_reminders"} <= names
    assert "repair_calendars" not in names  # 0 switches a job off


def test_one_slot_is_enqueued_once_however_many_workers_ask(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    job = Job("sweep", deliver_due_notifications, every=timedelta(minutes=1))
    now = timezone.now()
    assert schedule(job, now=now, worker="a") is True
    assert schedule(job, now=now, worker="b") is False
    assert schedule(job, now=now + timedelta(minutes=1), worker="b") is True
    assert PeriodicRun.objects.filter(job="sweep").count() == 2
    assert DBTaskResult.objects.filter(task_path=deliver_due_notifications.module_path).count() == 2


def test_a_scheduler_asks_the_database_once_per_new_slot(settings, django_assert_num_queries):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    scheduler = Scheduler(worker="a")
    # Mid-slot for every job (minutes, hours, days, 17:00 Paris): one second later is the
    # same slot of each.
    now = datetime(2026, 3, 16, 8, 2, 30, tzinfo=UTC)
    assert set(scheduler.tick(now)) == {job.name for job in scheduler.jobs}
    with django_assert_num_queries(0):
        assert scheduler.tick(now + timedelta(seconds=1)) == []


def test_the_calendar_repair_syncs_what_the_after_commit_sync_missed(campus, monkeypatch):
    # The after-commit sync fails (e.g. the process stopped): the booking is there, its
    # event is not.
    monkeypatch.setattr("calendars.sync._flush", lambda: None)
    before = timezone.now()
    start = timezone.now().replace(microsecond=0) + timedelta(days=9)
    start = start.astimezone(PARIS).replace(hour=10, minute=0, second=0)
    while start.weekday() != 1:
        start += timedelta(days=1)
    (booked,) = reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=[campus.rheometer],
        start=start,
        end=start + timedelta(hours=2),
        title="Mesures",
        now=timezone.now(),
    ).reservations
    assert not Event.objects.filter(calendar=campus.rheometer.calendar).exists()
    counts = repair_mirror(since=before)
    assert counts.created == 1
    (event,) = Event.objects.filter(calendar=campus.rheometer.calendar)
    assert event.start == Reservation.objects.get(pk=booked.pk).start
    assert repair_mirror(since=before).created == 0  # idempotent
