"""The worker's periodic jobs and its own loop (SPEC §12): reminders of the day after their
slot however late they run, a calendar repair that starts from its last success, and a
worker that outlives a database outage."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import OperationalError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult, DBTaskResultQuerySet

from calendars.sync import SyncCounts
from notifications.models import Notification
from platform_booking.management.commands import worker as worker_command
from platform_booking.scheduler import jobs
from reservations.services import reservation_create

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)  # a Monday


def job(name: str):
    (found,) = [j for j in jobs() if j.name == name]
    return found


@pytest.mark.django_db
def test_a_late_reminders_run_reminds_of_the_day_after_its_slot(campus, monkeypatch):
    campus.researcher.email = "chercheur@example.org"
    campus.researcher.save()
    for day in (24, 25):
        start = datetime(2026, 3, day, 10, tzinfo=PARIS)
        reservation_create(
            user=campus.researcher,
            project=campus.research,
            equipment=[campus.rheometer],
            start=start,
            end=start + timedelta(hours=2),
            title=f"Mesures du {day}",
            now=NOW,
        )
    mail.outbox.clear()
    reminders = job("send_reminders")
    slot = reminders.slot(datetime(2026, 3, 23, 17, 30, tzinfo=PARIS))
    arguments = reminders.arguments(slot)
    assert arguments == {"day": "2026-03-24"}
    # The queue was late: the job runs after midnight, on the day it reminds of.
    late = datetime(2026, 3, 24, 0, 30, tzinfo=PARIS)
    monkeypatch.setattr("django.utils.timezone.now", lambda: late)
    assert reminders.task.call(**arguments) == {"sent": 1, "reservations": 1}
    (message,) = mail.outbox
    assert "Mesures du 24" in message.body and "Mesures du 25" not in message.body
    assert Notification.objects.get(kind="reminder").key.endswith(":2026-03-24")


@pytest.mark.django_db
def test_the_calendar_repair_starts_from_its_last_successful_run(monkeypatch):
    from platform_booking import tasks

    repair = job("repair_calendars")
    seen: list[datetime | None] = []
    failing = False

    def repair_mirror(*, since):
        seen.append(since)
        if failing:
            raise RuntimeError("the calendars are not reachable")
        return SyncCounts()

    monkeypatch.setattr(tasks, "repair_mirror", repair_mirror)
    assert repair.arguments(timezone.now()) == {}  # the task knows where to start itself
    before = timezone.now()
    repair.task.call()  # the first run rebuilds everything
    after = timezone.now()
    failing = True
    with pytest.raises(RuntimeError):
        repair.task.call()
    failing = False
    repair.task.call()
    first, failed, third = seen
    assert first is None
    # The failed run covered nothing: the next one starts where the last success did.
    assert failed is not None and before <= failed <= after
    assert third == failed
    repair.task.call()
    assert seen[-1] is not None and seen[-1] > third


@pytest.mark.django_db(transaction=True)
def test_the_worker_outlives_a_database_outage(settings, monkeypatch, caplog):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    from platform_booking.tasks import prune

    queued = prune.enqueue()
    real_get_locked = DBTaskResultQuerySet.get_locked
    fetches: list[int] = []

    def get_locked(self):
        fetches.append(1)
        if len(fetches) == 1:  # PostgreSQL restarts under the worker's fetch
            raise OperationalError("server closed the connection unexpectedly")
        return real_get_locked(self)

    probes: list[int] = []

    def database_answers() -> None:
        probes.append(1)
        if len(probes) < 3:  # still down for two looks
            raise OperationalError("connection refused")

    monkeypatch.setattr(DBTaskResultQuerySet, "get_locked", get_locked)
    monkeypatch.setattr(worker_command, "database_answers", database_answers)
    pauses: list[float] = []
    worker = worker_command.DatabaseWorker(
        queue_names=["*"],
        interval=0,
        batch=False,
        backend_name="default",
        startup_delay=False,
        max_tasks=1,
        worker_id="test-worker",
        excluded_queue_names=[],
    )
    monkeypatch.setattr(worker, "pause", pauses.append)
    with caplog.at_level(logging.INFO, "platform_booking.worker"):
        worker.run()  # returns after its one task, as asked (max_tasks)
    assert DBTaskResult.objects.get(id=queued.id).status == "SUCCESSFUL"
    assert pauses == [1, 2, 4]  # backing off while the database stays away
    lines = [r.getMessage() for r in caplog.records if r.name == "platform_booking.worker"]
    assert len(lines) == 2, lines
    assert "database unavailable" in lines[0] and "server closed the connection" in lines[0]
    assert "database available again" in lines[1]
    assert not any(r.exc_info for r in caplog.records if r.name == "platform_booking.worker")


def test_the_backoff_of_the_worker_stops_at_thirty_seconds():
    waits = worker_command.backoff_waits()
    assert [next(waits) for _ in range(8)] == [1, 2, 4, 8, 16, 30, 30, 30]


def test_a_lease_shorter_than_the_email_timeouts_is_warned_of(settings):
    from notifications.checks import lease_outlives_a_send

    settings.EMAIL_TIMEOUT = 10
    settings.NOTIFICATION_LEASE_SECONDS = 300
    assert lease_outlives_a_send() == []
    settings.NOTIFICATION_LEASE_SECONDS = 4
    (warning,) = lease_outlives_a_send()
    assert warning.id == "notifications.W001"
