"""Report SQL compiled once per query shape, its instants filled in per request.

Django takes 10 to 20 ms to build and compile a report's query (a few hundred
expressions, each resolving its joins): a third of a month's report by partner. Yet the
SQL's text depends only on the query's shape (the database, the reader's scope, the
filters, the dimensions, the equipment's policy overrides), and its values on three
instants besides: the window's start and end, and now. So the query is compiled once per
shape with marker instants far in the past, each parameter derived from a marker is
noted as (marker, offset), and later requests take the same text with their own instants
at those offsets (`now - grace` is `now + (-grace)`: the same arithmetic).
tests/reports/test_compiled_sql.py compares the two on both databases.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

Build = Callable[[datetime, datetime, datetime], tuple[str, Sequence[Any]]]

# Markers two centuries apart; a parameter within 50 years of one derives from it.
_MARKERS = {
    "start": datetime(1100, 1, 1, tzinfo=UTC),
    "end": datetime(1300, 1, 1, tzinfo=UTC),
    "now": datetime(1500, 1, 1, tzinfo=UTC),
}
_REACH = timedelta(days=50 * 365)
_LIMIT = 256  # shapes kept; the whole cache is forgotten beyond

_lock = threading.Lock()
_cache: dict[Hashable, tuple[str, tuple[Any, ...], tuple[tuple[str, timedelta] | None, ...]]] = {}


def compiled_sql(
    shape: Hashable, build: Build, *, start: datetime, end: datetime, now: datetime
) -> tuple[str, tuple[Any, ...]]:
    """`build(start, end, now)`'s SQL and parameters, its text compiled once per `shape`.

    `shape` must name everything besides the three instants that `build` depends on; the
    database's vendor, the time zone and USE_TZ are added here. An empty window is built
    as it is (its query differs: see Reservation.objects.overlapping).
    """
    if start >= end:
        sql, params = build(start, end, now)
        return sql, tuple(params)
    key = (connection.alias, connection.vendor, settings.TIME_ZONE, settings.USE_TZ, shape)
    entry = _cache.get(key)
    if entry is None:
        sql, params = build(_MARKERS["start"], _MARKERS["end"], _MARKERS["now"])
        entry = (sql, tuple(params), tuple(_derivation(p) for p in params))
        with _lock:
            if len(_cache) >= _LIMIT:
                _cache.clear()
            _cache[key] = entry
    sql, params, derivations = entry
    instants = {"start": start, "end": end, "now": now}
    adapt = connection.ops.adapt_datetimefield_value
    return sql, tuple(
        param if how is None else adapt(_shifted(instants[how[0]], how[1]))
        for param, how in zip(params, derivations, strict=True)
    )


def _shifted(instant: datetime, offset: timedelta) -> datetime:
    # The instant itself when not shifted: an addition would drop its fold (the second
    # 02:30 of the autumn change would become the first).
    return instant + offset if offset else instant


def _derivation(param: Any) -> tuple[str, timedelta] | None:
    """(marker, offset) if the parameter is an instant derived from a marker, else None.

    Instants come as datetimes (PostgreSQL) or as the naive UTC text Django writes for
    SQLite."""
    if isinstance(param, datetime):
        moment = param
    elif isinstance(param, str) and len(param) >= 19 and param[4:5] == "-":
        try:
            moment = datetime.fromisoformat(param)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    for name, marker in _MARKERS.items():
        if abs(moment - marker) <= _REACH:
            return name, moment - marker
    return None


def clear() -> None:
    """Forget every compiled query (tests)."""
    with _lock:
        _cache.clear()
