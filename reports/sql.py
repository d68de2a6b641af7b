"""Small SQL functions that compute the same integers on PostgreSQL and SQLite.

Durations stay native while the database clips and sums them (PostgreSQL intervals,
SQLite integers of microseconds through Django's DurationField), and become integers of
microseconds only where they meet a rate: sums are exact on both databases, and cheap
(no per-row conversion to epoch seconds, which costs PostgreSQL more than the joins).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import BigIntegerField, DateTimeField, DurationField, Func, Value


class Microseconds(Func):
    """A duration as an integer number of microseconds."""

    output_field = BigIntegerField()
    arity = 1

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django keeps SQLite durations as integers of microseconds already.
        return self.as_sql(compiler, connection, template="%(expressions)s", **extra)

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # The float8 epoch of an interval is exact to well below a microsecond at the
        # scale of bookings (days, not centuries): rounding gives the exact integer.
        return self.as_sql(
            compiler,
            connection,
            template="CAST(ROUND(date_part('epoch', %(expressions)s) * 1000000) AS BIGINT)",
            **extra,
        )


class Cents(Func):
    """A decimal amount of euros as whole cents (rates have two decimals)."""

    output_field = BigIntegerField()
    arity = 1
    template = "CAST(ROUND(%(expressions)s * 100) AS BIGINT)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler, connection, template="CAST(ROUND(%(expressions)s * 100) AS INTEGER)", **extra
        )


def duration(value: timedelta) -> Value:
    return Value(value, output_field=DurationField())


def instant(value: datetime) -> Value:
    return Value(value, output_field=DateTimeField())


def as_microseconds(value: Any) -> int:
    """A summed duration read by a raw query: a timedelta (PostgreSQL), or an integer of
    microseconds (SQLite), or None for an empty sum."""
    if value is None:
        return 0
    if isinstance(value, timedelta):
        return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds
    return int(value)


class Epoch(Func):
    """Whole seconds since 1970-01-01 UTC of an aware datetime column (floored).

    For reading instants fast: an integer loads far quicker than a timestamp.
    """

    output_field = BigIntegerField()
    arity = 1

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django stores UTC text; strftime('%s') parses it and drops the fraction. '%%%%'
        # survives the template and the backend's '%%' -> '%' unescaping.
        return self.as_sql(
            compiler,
            connection,
            template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)",
            **extra,
        )

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(
            compiler,
            connection,
            template="CAST(FLOOR(date_part('epoch', %(expressions)s)) AS BIGINT)",
            **extra,
        )
