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
    """
    with connection.cursor() as cursor:
        # Both in one round trip: set_config(..., true) is SET LOCAL.
        cursor.execute(
            "SELECT set_config('jit', 'off', true),"
            " set_config('cursor_tuple_fraction', '1.0', true)"
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
