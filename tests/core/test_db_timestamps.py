"""PostgreSQL timestamps are parsed by psycopg's C loader (core.db) with Django's meaning:
aware datetimes in UTC, the same instants as Django's own loader gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.backends.postgresql.psycopg_any import register_tzloader

from core.db import FastUtcLoader
from tests.conftest import reservation_row

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="psycopg's loaders"),
]

# Around both daylight-saving changes in Paris, the ends of the calendar, microseconds.
VALUES = [
    "2026-03-29T00:59:59.999999Z",
    "2026-03-29T01:00:00Z",
    "2026-10-25T00:30:00Z",
    "2026-10-25T01:30:00Z",
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-12-07T09:15:00+01:00",
]


def read(cursor) -> list[datetime]:
    cursor.execute(
        "SELECT v::timestamptz FROM unnest(%s::text[]) WITH ORDINALITY AS t(v, n) ORDER BY n",
        [VALUES],
    )
    return [row[0] for row in cursor.fetchall()]


def test_the_connection_reads_timestamps_with_the_c_loader():
    with connection.cursor() as cursor:
        assert connection.connection.adapters.get_loader(1184, 0) is FastUtcLoader
        fast = read(cursor)
    assert all(value.tzinfo is UTC for value in fast)
    # Django's own loader, on a cursor of the same connection, reads the same instants.
    with connection.connection.cursor() as raw:
        register_tzloader(UTC, raw)
        assert type(raw.adapters.get_loader(1184, 0)) is not FastUtcLoader
        django = read(raw)
    assert fast == django
    assert [v.tzinfo for v in fast] == [v.tzinfo for v in django]
    assert fast[-1] == datetime(2026, 12, 7, 8, 15, tzinfo=UTC)


def test_models_read_back_what_they_wrote(campus):
    start = datetime(2026, 10, 25, 1, 30, 0, 123456, tzinfo=UTC)  # 02:30 Paris, the second time
    row = reservation_row(campus, start, 45)
    row.refresh_from_db()
    assert row.start == start and row.start.tzinfo is UTC
    assert row.end - row.start == timedelta(minutes=45)
