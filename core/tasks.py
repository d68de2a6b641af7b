"""Worker tasks enqueued as hints: "do this now", for work a periodic job also catches up.

A request that books enqueues, after its commit, the delivery of its emails and the sync of
the calendar mirror. Both are hints: the notification sweep delivers any pending row and
the mirror's repair job syncs whatever changed, so a lost task row only delays the work.
With the database task backend, each enqueue is an INSERT in a transaction of its own, and
on PostgreSQL every commit waits for its WAL to reach the disk: measured on this machine,
5.4 ms for a one-row commit against 0.14 ms for a round trip, twice per booking, on top
of the booking's own commit.

`enqueue_hint` writes the task row in a transaction whose commit does not wait for the
disk (`SET LOCAL synchronous_commit TO OFF`, PostgreSQL's asynchronous commit): the row
is visible to the worker at once, and a crash of the database server within the next
few hundred milliseconds may lose it but never corrupts anything (PostgreSQL documentation,
"Asynchronous Commit"). The change that caused the hint (the booking) keeps its own
synchronous commit, and so does any transaction the hint is called inside of (it then
enqueues as usual). Any other backend or database enqueues as usual.
"""

from __future__ import annotations

from typing import Any

from django.db import connection, transaction


def enqueue_hint(task: Any, /, *args: Any, **kwargs: Any) -> Any:
    """`task.enqueue(*args, **kwargs)`, its row committed without waiting for the disk
    where the task backend is the database one on PostgreSQL."""
    from django_tasks_db.backend import DatabaseBackend

    if (
        connection.vendor != "postgresql"
        or connection.in_atomic_block  # relaxing would relax the enclosing change's commit
        or not isinstance(task.get_backend(), DatabaseBackend)
    ):
        return task.enqueue(*args, **kwargs)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        return task.enqueue(*args, **kwargs)
