"""Start a background worker: the periodic jobs' scheduler and, on the database queue, the
tasks themselves (SPEC §12). Stop it with Ctrl+C or SIGTERM: it ends the task under way
first. Start as many as you like, on as many machines: none runs a job twice."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connection
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks.backends.dummy import DummyBackend
from django_tasks.backends.immediate import ImmediateBackend
from django_tasks_db import DatabaseBackend
from django_tasks_db.management.commands.db_worker import Worker

from platform_booking.scheduler import Scheduler

HELP = gettext_lazy(
    "Run the background worker: deliver notifications and run the periodic jobs "
    "(no-shows, reminders, calendar repair)."
)


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(HELP)  # argparse needs a real string

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds between looks at the queue and the schedule when idle (default 1).",
        )
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Run queued tasks only; another worker schedules the periodic jobs.",
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
        self.stdout.write(
            _("Worker %(id)s started (queue: %(queue)s).")
            % {"id": worker_id, "queue": type(backend).__name__}
        )
        if isinstance(backend, DatabaseBackend):
            if scheduling:
                thread = threading.Thread(
                    target=self.schedule_forever,
                    args=(worker_id, interval),
                    name="scheduler",
                    daemon=True,  # ends with the worker
                )
                thread.start()
            worker = Worker(
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
            self.schedule_forever(worker_id, interval)

    def schedule_forever(self, worker_id: str, interval: float) -> None:
        scheduler = Scheduler(worker=worker_id)
        try:
            while True:
                close_old_connections()
                scheduler.tick()
                time.sleep(interval)
        finally:
            connection.close()
