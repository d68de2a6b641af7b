"""One row per reservation, for the detail exports: its SQL, streamed in constant memory."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import connection

from ..sql import Epoch, Microseconds
from .compiled import compiled_sql
from .database import full_read
from .reservation_sql import EquipmentFacts, with_figures
from .scope import Filters, Scope, window_reservations

DETAIL_COLUMNS = (
    "id",
    "start",
    "end",
    "status",
    "equipment_id",
    "equipment_code",
    "equipment",
    "site",
    "category",
    "partner_id",
    "partner",
    "project_id",
    "project",
    "project_kind",
    "booked_by",
    "title",
    "booked_hours",
    "used_hours",
    "billable_hours",
    "late_cancellation",
    "rate",
    "amount",
)


def reservation_rows_sql(
    *, start: datetime, end: datetime, scope: Scope, now: datetime, filters: Filters | None = None
) -> tuple[str, tuple[Any, ...]]:
    """The SQL of one row per reservation overlapping the window, in start order.

    Columns: id, start, end (seconds since the epoch), effective status, equipment_id,
    project_id, booked_by_id, title, booked, used and billable (microseconds), late
    cancellation (0 or 1), rate (cents per hour).
    """
    facts = EquipmentFacts.load()
    filters = filters or Filters()

    def build(start: datetime, end: datetime, now: datetime) -> tuple[str, tuple[Any, ...]]:
        qs = with_figures(start=start, end=end, scope=scope, now=now, filters=filters, facts=facts)
        return (
            qs.order_by("start", "id")
            .values_list(
                "id",
                Epoch("start"),
                Epoch("end"),
                "r_status",
                "equipment_id",
                "project_id",
                "booked_by_id",
                "title",
                Microseconds("r_booked"),
                Microseconds("r_used"),
                Microseconds("r_billable"),
                "r_late",
                "r_rate",
            )
            .query.sql_with_params()
        )

    return compiled_sql(
        ("detail", scope, filters, facts.shape()), build, start=start, end=end, now=now
    )


def reservation_rows(
    *,
    start: datetime,
    end: datetime,
    scope: Scope,
    now: datetime,
    filters: Filters | None = None,
    chunk_size: int = 5000,
) -> Iterator[tuple[Any, ...]]:
    """Yield the rows of `reservation_rows_sql()`, read in chunks (a server-side cursor on
    PostgreSQL): memory stays constant, whatever the number of reservations."""
    sql, params = reservation_rows_sql(start=start, end=end, scope=scope, now=now, filters=filters)
    return _stream(sql, params, chunk_size)


def _stream(sql: str, params: Sequence[Any], chunk_size: int) -> Iterator[tuple[Any, ...]]:
    # Plain tuples from the cursor: no per-value converters, integers instead of
    # timestamps. In a transaction on PostgreSQL, the server-side cursor streams rows as
    # they come (outside one it would be WITH HOLD, computed whole before the first
    # row); not on SQLite, where a transaction would take the write lock.
    with full_read(), connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            batch = cursor.fetchmany(chunk_size)
            if not batch:
                return
            yield from batch


def count_reservations(
    *, start: datetime, end: datetime, scope: Scope, filters: Filters | None = None
) -> int:
    return window_reservations(start, end, scope, filters or Filters()).count()
