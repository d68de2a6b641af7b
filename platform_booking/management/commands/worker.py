"""Start a background worker: the periodic jobs' scheduler and, on the database queue, the
tasks themselves (SPEC §12). Stop it with Ctrl+C or SIGTERM: it ends the task under way
first. Start as many as you like, on as many machines: none runs a job twice.

A database outage (PostgreSQL restarting, the pool's timeout) does not end the worker: it
logs one line when the database is lost and one when it is back, closes its connections,
waits (1 s, doubling up to 30 s between looks) and carries on. A task under way when the
database went away is not run again by the task queue; the notifications it was delivering
are retried once their lease runs out, and the periodic jobs' next slot does what is due."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection, connections
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks.backends.dummy import DummyBackend
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks_db import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker

from platform_booking.outage import OutageLog, database_answers, is_database_unavailable
from platform_booking.scheduler import Scheduler

log = logging.getLogger("platform_booking.worker")

FIRST_WAIT = 1.0  # seconds before the first look at a database that went away
LONGEST_WAIT = 30.0

HELP = gettext_lazy(
    "Run the background worker: deliver notifications and run the periodic jobs "
    "(no-shows, reminders, calendar repair)."
)


def backoff_waits() -> Iterator[float]:
    """The waits between looks at a database that went away: 1, 2, 4… up to 30 s."""
    wait = FIRST_WAIT
    while True:
        yield wait
        wait = min(wait * 2, LONGEST_WAIT)


def close_connections() -> None:
    try:
        connections.close_all()
    except Exception:  # closing a dead connection may fail too; nothing to keep
        log.debug("closing the database connections failed", exc_info=True)


def worker_outage() -> OutageLog:
    """One line when the database is lost and one when it is back, for the whole worker (its
    task loop and its scheduler thread both notice)."""
    return OutageLog(
        logger=log,
        lost="database unavailable, the worker waits for it",
        back="database available again after %(seconds).1f s; the worker carries on",
    )


class DatabaseWorker(Worker):
    """django-tasks-db's worker, kept alive through a database outage: its loop re-raises
    every OperationalError but "database is locked", which would end the process."""

    def __init__(self, *, outage: OutageLog | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.outage = outage or worker_outage()

    def pause(self, seconds: float) -> None:
        time.sleep(seconds)  # SIGTERM meanwhile ends the worker at once (no task under way)

    def run(self) -> None:
        while self.running:
            try:
                super().run()
                return
            except Exception as error:
                if not is_database_unavailable(error):
                    raise
                self.outage.failed(error)
            self.wait_for_database()

    def wait_for_database(self) -> None:
        for wait in backoff_waits():
            close_connections()
            self.pause(wait)
            if not self.running:
                return
            try:
                database_answers()
            except Exception as error:
                if not is_database_unavailable(error):
                    raise
                continue
            self.outage.reached()
            return


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(HELP)  # argparse needs a real string

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help=str(
                gettext_lazy(
                    "Seconds between looks at the queue and the schedule when idle (default 1)."
                )
            ),
        )
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help=str(
                gettext_lazy("Run queued tasks only; another worker schedules the periodic jobs.")
            ),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["verbosity"] < 2:
            # A line per task is noise beside `runserver` (a sweep a minute); -v 2 shows it.
            for name in ("django_tasks", "django_tasks_db", "platform_booking.scheduler"):
                logging.getLogger(name).setLevel(logging.WARNING)
        worker_id = f"{socket.gethostname()}-{os.getpid()}-{get_random_string(6)}"[:64]
        interval = max(options["interval"], 0.05)
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        scheduling = not options["no_scheduler"]
        outage = worker_outage()
        self.stdout.write(
            _("Worker %(id)s started (queue: %(queue)s).")
            % {"id": worker_id, "queue": type(backend).__name__}
        )
        if isinstance(backend, DatabaseBackend):
            if scheduling:
                thread = threading.Thread(
                    target=self.schedule_forever,
                    args=(worker_id, interval, outage),
                    name="scheduler",
                    daemon=True,  # ends with the worker
                )
                thread.start()
            worker = DatabaseWorker(
                outage=outage,
                queue_names=["*"],
                interval=interval,
                batch=False,
                backend_name=backend.alias,
                startup_delay=False,
                max_tasks=None,
                worker_id=worker_id,
                excluded_queue_names=[],
            )
            # SIGINT/SIGTERM: finish the task under way, then stop.
            worker.configure_signals()
            worker.run()
            return
        if not isinstance(backend, ImmediateBackend | DummyBackend):
            # A broker's own worker runs the tasks (e.g. `rqworker` for django-tasks-rq);
            # this process only schedules the periodic jobs into that queue.
            self.stdout.write(
                _("Tasks run in the broker's own worker; this process schedules the jobs.")
            )
        if scheduling:
            self.schedule_forever(worker_id, interval, outage)

    def schedule_forever(self, worker_id: str, interval: float, outage: OutageLog) -> None:
        scheduler = Scheduler(worker=worker_id)
        waits: Iterator[float] | None = None  # while the database is away
        try:
            while True:
                try:
                    close_old_connections()
                    if waits is not None:
                        database_answers()
                        outage.reached()
                        waits = None
                    scheduler.tick()
                except Exception as error:
                    if is_database_unavailable(error):
                        outage.failed(error)
                        close_connections()
                        waits = waits or backoff_waits()
                        time.sleep(next(waits))
                        continue
                    # Never let the thread die: the periodic jobs would stop unnoticed.
                    log.exception("the scheduler could not look at its jobs")
                time.sleep(interval)
        finally:
            connection.close()
