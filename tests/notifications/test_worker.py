"""The real worker (`manage.py worker` subprocesses) against real faults (SPEC §12): a mail
server that never answers, a refused port, a worker killed mid-delivery, several workers
sharing the periodic jobs. Marker `worker`: slow, so CI runs them once per database."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from core.timezones import local_tz
from notifications.models import Notification
from platform_booking.models import PeriodicRun

from .smtp import SilentServer, SMTPServer

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(django_settings.BASE_DIR)
# EMAIL_TIMEOUT of the workers and the lease of the rows they deliver, in seconds: the lease
# outlives a message's send, as in production (10 s and 300 s), and is short enough that a
# row left by a killed worker is delivered again soon.
TIMEOUT = 3
LEASE = 7


def database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@contextmanager
def worker(port: int, log: Path, **env: str) -> Iterator[subprocess.Popen]:
    """A `manage.py worker` process on the test database, mailing to 127.0.0.1:port."""
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "platform_booking.settings_test",
        "DATABASE_URL": database_url(),
        "TASKS_BACKEND": "database",
        "EMAIL_URL": f"smtp://127.0.0.1:{port}",
        "EMAIL_TIMEOUT": str(TIMEOUT),
        "DEFAULT_FROM_EMAIL": "plateforme@example.org",
        "NOTIFICATION_BACKOFF_SECONDS": "1,2",
        "NOTIFICATION_LEASE_SECONDS": str(LEASE),
        "WORKER_SWEEP_SECONDS": "1",
        "WORKER_NO_SHOWS_SECONDS": "0",
        "WORKER_CALENDAR_REPAIR_SECONDS": "0",
        "WORKER_PRUNE_SECONDS": "0",
        "REMINDERS_AT": "",
        **env,
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "worker", "--interval", "0.5"],
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        # Up once its scheduler has taken a slot (its first sweep).
        started = PeriodicRun.objects.count()
        wait_for(
            lambda: PeriodicRun.objects.count() > started or process.poll() is not None,
            60,
            "the worker to start",
        )
        assert process.poll() is None, log.read_text()
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def wait_for(condition: Callable[[], object], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds} s for {what}")


def a_weekday_soon() -> str:
    """10:00 Paris time on a Tuesday 8 to 14 days ahead (the API books on the real clock)."""
    day = timezone.now().astimezone(local_tz()).date() + timedelta(days=8)
    while day.weekday() != 1:
        day += timedelta(days=1)
    return day.isoformat()


def book(client_for, campus, hour: int = 10):
    day = a_weekday_soon()
    payload = {
        "equipment": campus.rheometer.pk,
        "project": campus.research.pk,
        "start": f"{day}T{hour:02d}:00:00+01:00",
        "end": f"{day}T{hour + 2:02d}:00:00+01:00",
        "title": "Mesures",
    }
    client = client_for(campus.researcher)
    client.get("/api/v1/reservations/")  # the process's first request loads the URLs, …
    started = time.monotonic()
    response = client.post("/api/v1/reservations/", payload, format="json")
    elapsed = time.monotonic() - started
    assert response.status_code == 201, response.json()
    return elapsed


@pytest.fixture
def on_database_queue(settings, campus):
    """The test process enqueues as production does: a row in the database queue, run by
    the worker subprocess (not in the request)."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.DEFAULT_FROM_EMAIL = "plateforme@example.org"  # as the workers'
    campus.researcher.email = "chercheur@example.org"
    campus.researcher.save()


def the_row() -> Notification:
    return Notification.objects.get(recipient__username="chercheur")


def test_a_silent_mail_server_delays_no_booking_and_the_email_leaves_once_it_answers(
    campus, client_for, on_database_queue, smtp_port, tmp_path, monkeypatch
):
    # Connections to a mail server opened by this process (the request's), not the worker's.
    dialled: list[tuple] = []
    real_connect = smtplib.SMTP.connect

    def connect(self, *args, **kwargs):
        dialled.append(args)
        return real_connect(self, *args, **kwargs)

    monkeypatch.setattr(smtplib.SMTP, "connect", connect)
    with worker(smtp_port, tmp_path / "worker.log"):
        with SilentServer(smtp_port) as silent:
            elapsed = book(client_for, campus)
            # The request only wrote rows: it never dialled the mail server, let alone
            # waited for its timeout.
            assert dialled == []
            assert elapsed < TIMEOUT, f"the booking took {elapsed:.2f} s"
            wait_for(lambda: the_row().last_error, 3 * TIMEOUT + 10, "a try to time out")
            assert silent.accepted, "the worker should have connected"
            assert "timed out" in the_row().last_error
            assert the_row().status == "pending"
        with SMTPServer(smtp_port) as server:
            assert server.inbox.received.wait(30), (tmp_path / "worker.log").read_text()
    row = the_row()
    assert row.status == "sent" and row.attempts >= 2
    assert server.inbox.message_ids() == [row.message_id]


def test_a_refused_port_is_retried_and_the_email_arrives_when_the_server_comes_back(
    campus, client_for, on_database_queue, smtp_port, tmp_path
):
    with worker(smtp_port, tmp_path / "worker.log"):
        book(client_for, campus)
        wait_for(lambda: the_row().attempts >= 2, 30, "two tries")
        row = the_row()
        assert row.status == "pending" and "ConnectionRefusedError" in row.last_error
        with SMTPServer(smtp_port) as server:
            assert server.inbox.received.wait(30), (tmp_path / "worker.log").read_text()
    row = the_row()
    assert row.status == "sent"
    assert server.inbox.message_ids() == [row.message_id]


def test_the_last_try_marks_it_failed(campus, client_for, on_database_queue, smtp_port, tmp_path):
    with worker(smtp_port, tmp_path / "worker.log", NOTIFICATION_MAX_ATTEMPTS="2"):
        book(client_for, campus)
        wait_for(lambda: the_row().status == "failed", 30, "the last try")
    row = the_row()
    assert row.attempts == 2 and "ConnectionRefusedError" in row.last_error


def test_a_worker_killed_mid_delivery_before_the_message_is_sent_delivers_it_exactly_once(
    campus, client_for, on_database_queue, smtp_port, tmp_path
):
    """Killed while the server had not received the message (stalled at RCPT): the next
    worker delivers it after the lease, and it arrives once."""
    log = tmp_path / "worker.log"
    with SMTPServer(smtp_port) as server:
        server.inbox.hold_rcpt = True
        with worker(smtp_port, log) as first:
            book(client_for, campus)
            assert server.inbox.reached.wait(30), log.read_text()
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        row = the_row()
        assert (row.status, row.attempts) == ("pending", 1) and row.leased_until
        server.inbox.hold_rcpt = False
        server.inbox.release()
        with worker(smtp_port, log):
            wait_for(lambda: the_row().status == "sent", 30, "the second worker's delivery")
        time.sleep(0.5)  # anything late from the killed connection would be in by now
    assert server.inbox.message_ids() == [the_row().message_id]
    assert the_row().attempts == 2


def test_a_worker_killed_after_the_server_took_the_message_sends_it_again_same_message_id(
    campus, client_for, on_database_queue, smtp_port, tmp_path
):
    """Killed after the server stored the whole message but before it said so: delivery
    is at least once, and the repeat carries the same Message-ID."""
    log = tmp_path / "worker.log"
    with SMTPServer(smtp_port) as server:
        server.inbox.hold_data = True
        with worker(smtp_port, log) as first:
            book(client_for, campus)
            assert server.inbox.reached.wait(30), log.read_text()
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=10)
        server.inbox.hold_data = False
        server.inbox.release()
        with worker(smtp_port, log):
            wait_for(lambda: the_row().status == "sent", 30, "the second worker's delivery")
    row = the_row()
    assert server.inbox.message_ids() == [row.message_id, row.message_id]


def test_several_workers_never_run_one_periodic_job_twice_for_a_slot(campus, smtp_port, tmp_path):
    log = tmp_path / "workers.log"
    with worker(smtp_port, log), worker(smtp_port, log), worker(smtp_port, log):
        wait_for(
            lambda: PeriodicRun.objects.filter(job="deliver_due_notifications").count() >= 5,
            60,
            "five sweep slots",
        )
    runs = list(PeriodicRun.objects.filter(job="deliver_due_notifications"))
    per_slot = Counter(run.slot for run in runs)
    assert max(per_slot.values()) == 1
    results = DBTaskResult.objects.filter(task_path="notifications.tasks.deliver_due_notifications")
    # One task per slot, each run by one worker only.
    assert results.count() == len(runs)
    assert all(len(result.worker_ids) == 1 for result in results if result.worker_ids)
    started = [r for r in results if r.status in ("SUCCESSFUL", "RUNNING", "READY")]
    assert len(started) == len(runs)
