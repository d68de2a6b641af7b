"""Database outages (SPEC §14): answered 503, logged once when they start and once when they end.

When PostgreSQL stops, every request fails the same way: a traceback per request would
bury the one fact an operator needs (thousands of them in a 16-second restart). Each
process logs instead one line when the first request fails and one when a request
reaches the database again, with the number of requests refused meanwhile.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from django.db import InterfaceError, OperationalError, connection

log = logging.getLogger("platform_booking.outage")


def is_database_unavailable(error: BaseException | None) -> bool:
    """Say whether `error` means the database cannot serve now, rather than a bug.

    Django's OperationalError wraps what psycopg and SQLite raise when the server is
    unreachable, shutting down or refusing connections, the pool's timeout (no
    connection free in time) and the transient failures a retry may cure (a deadlock
    after the booking's own retries, "database is locked"); InterfaceError, a connection
    already closed under the request.
    """
    return isinstance(error, OperationalError | InterfaceError)


def database_answers() -> None:
    """Raise unless the database answers a `SELECT 1` (the health check's and the worker's
    look at a database that may be away)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


@dataclass
class _Incident:
    started: float
    refused: int = 1


# What the app servers log: they answer 503 meanwhile, and count the requests refused.
SERVING_LOST = "database unavailable, answering 503 until it returns"
SERVING_BACK = "database available again after %(seconds).1f s; %(refused)d request(s) answered 503"


class OutageLog:
    """The current incident of this process, if any (thread-safe): one line when it starts,
    one when it ends.

    `logger` and the two lines are the app servers' unless given (the worker has its own);
    `lost` is followed by the cause, `back` may name `%(seconds)` and `%(refused)`."""

    def __init__(
        self,
        *,
        logger: logging.Logger = log,
        lost: str = SERVING_LOST,
        back: str = SERVING_BACK,
    ) -> None:
        self._lock = threading.Lock()
        self._incident: _Incident | None = None
        self._log = logger
        self._lost = lost
        self._back = back

    @property
    def ongoing(self) -> bool:
        return self._incident is not None

    def failed(self, error: BaseException) -> None:
        """Count a failure for want of the database; log the first of an incident."""
        with self._lock:
            if self._incident is not None:
                self._incident.refused += 1
                return
            self._incident = _Incident(started=time.monotonic())
        cause = error.__cause__ or error
        message = " ".join(str(cause).split()) or type(cause).__name__
        self._log.error("%s: %s: %s", self._lost, type(cause).__name__, message)

    def reached(self) -> None:
        """The database answered: close the incident, if one is open."""
        if self._incident is None:  # the common case, without taking the lock
            return
        with self._lock:
            incident, self._incident = self._incident, None
        if incident is not None:
            self._log.warning(
                self._back,
                {"seconds": time.monotonic() - incident.started, "refused": incident.refused},
            )


outages = OutageLog()
