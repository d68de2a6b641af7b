"""Booking transactions: retried on deadlocks, and the database's overlap refusal told apart.

The rules run on facts read inside the transaction; the database's no-overlap guarantee
(exclusion constraint on PostgreSQL, triggers on SQLite) backs them when two requests
race between their checks and their inserts.
"""

from __future__ import annotations

import logging
import time as time_module
from collections.abc import Callable
from typing import TypeVar

from django.db import DatabaseError, IntegrityError, OperationalError, transaction

from reservations.constraints import CONSTRAINT_NAME

log = logging.getLogger(__name__)
T = TypeVar("T")


def is_overlap_violation(error: IntegrityError) -> bool:
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None) == CONSTRAINT_NAME:
        return True
    return CONSTRAINT_NAME in str(error)


def is_retryable(error: DatabaseError) -> bool:
    # PostgreSQL: deadlock_detected (40P01) and serialization_failure (40001).
    code = getattr(error.__cause__, "sqlstate", None) or getattr(error.__cause__, "pgcode", None)
    return code in {"40P01", "40001"} or "database is locked" in str(error)


def run_in_transaction(work: Callable[[], T], *, attempts: int = 5) -> T:
    """Run `work` atomically, retrying deadlocks and serialisation failures."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return work()
        except IntegrityError:
            raise
        except OperationalError as error:
            if attempt == attempts or not is_retryable(error):
                raise
            log.info("retrying a booking transaction after %s", error)
            time_module.sleep(0.01 * attempt)
    raise AssertionError("unreachable")
