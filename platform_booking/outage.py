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

from django.db import InterfaceError, OperationalError

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


@dataclass
class _Incident:
    started: float
    refused: int = 1


class OutageLog:
    """The current incident of this process, if any (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._incident: _Incident | None = None

    @property
    def ongoing(self) -> bool:
        return self._incident is not None

    def failed(self, error: BaseException) -> None:
        """Count a request refused for want of the database; log the first of an incident."""
        with self._lock:
            if self._incident is not None:
                self._incident.refused += 1
                return
            self._incident = _Incident(started=time.monotonic())
        cause = error.__cause__ or error
        message = " ".join(str(cause).split()) or type(cause).__name__
        log.error(
            "database unavailable, answering 503 until it returns: %s: %s",
            type(cause).__name__,
            message,
        )

    def reached(self) -> None:
        """A request used the database successfully: close the incident, if one is open."""
        if self._incident is None:  # the common case, without taking the lock
            return
        with self._lock:
            incident, self._incident = self._incident, None
        if incident is not None:
            log.warning(
                "database available again after %.1f s; %d request(s) answered 503",
                time.monotonic() - incident.started,
                incident.refused,
            )


outages = OutageLog()
