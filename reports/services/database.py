"""How reports read every row of a large query on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


def tune_for_full_reads() -> None:
    """Plan the current PostgreSQL transaction's queries for reading every row.

    JIT compilation took 0.4 s on these scans and saved less; and a cursor is by default
    planned for its first rows (nested loops over indexes), three times slower than hash
    joins when every row is read (measured with bench/bench_reports.py).

    And random reads are priced as reads from memory (random_page_cost 1.1, the usual
    value for cached or solid-state data, instead of the default 4 of spinning disks):
    at 4, the planner preferred reading the whole usage-record table (one row per
    checked-in reservation of the history, 281,000 in the large bench database) into a
    hash to probing its unique index once per reservation of a month's window (4,200),
    so that a month's report slowed as the history grew (66 ms against 29 ms of
    execution, bench/explain.py partner). Large windows still get hash joins.
    """
    with connection.cursor() as cursor:
        # All in one round trip: set_config(..., true) is SET LOCAL.
        cursor.execute(
            "SELECT set_config('jit', 'off', true),"
            " set_config('cursor_tuple_fraction', '1.0', true),"
            " set_config('random_page_cost', '1.1', true)"
        )


@contextmanager
def full_read() -> Iterator[None]:
    """Run the block's queries for reading every row: on PostgreSQL in a transaction (SET
    LOCAL lasts until its end) tuned by `tune_for_full_reads()`; on SQLite as they are,
    since a transaction there would take the write lock."""
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic():
        tune_for_full_reads()
        yield
