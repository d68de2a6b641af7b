"""How reports read every row of a large query on PostgreSQL."""

from __future__ import annotations

from django.db import connection


def tune_for_full_reads() -> None:
    """Plan the current PostgreSQL transaction's queries for reading every row.

    JIT compilation took 0.4 s on these scans and saved less; and a cursor is by default
    planned for its first rows (nested loops over indexes), three times slower than hash
    joins when every row is read (measured with bench/bench_reports.py).
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
