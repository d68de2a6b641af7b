"""The feeds' hot reads in parameterised SQL (issue 12: a feed costs what its SQL costs).

A feed request used to compile four querysets; compiling them (joins, lookups, the
annotations) took longer than the database took to answer. The reads below send the same
statements as written SQL, for PostgreSQL and SQLite:

- `token_candidates`: the feed tokens starting with the given key, their users, the
  reader's FeedState and (for an equipment feed) the equipment, in one round trip;
- `reservation_rows`: the rows of `feeds.feed_reservations` (RESERVATION_COLUMNS);
- `equipment_closures`: the closures of `ClosureQuerySet.touching_equipment().during()`.

The ORM definitions stay the reference: tests/calendars/test_feed_rows.py compares each
read with them on both databases (the window, the statuses, the buffers, the sites).
Only placeholders, quoted table names and fixed column names are interpolated.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.db import connection

from equipment.models import Equipment, Site
from partners.models import FeedToken, Partner, Project
from reservations.models import Closure, Reservation

from .events import EquipmentHead
from .models import FeedState

# A BigAutoField's range: the ORM finds nothing beyond it; SQLite would raise instead.
_ID_RANGE = range(-(2**63), 2**63)


def _datetime(value: datetime | str | None) -> datetime | None:
    """A datetime read by raw SQL as the ORM gives it: SQLite's are naive (UTC)."""
    if value is None or (isinstance(value, datetime) and value.tzinfo is not None):
        return value
    return connection.ops.convert_datetimefield_value(value, None, connection)  # type: ignore[attr-defined]


def _tables() -> dict[str, str]:
    quote = connection.ops.quote_name
    user = get_user_model()
    return {
        name: quote(model._meta.db_table)
        for name, model in (
            ("reservation", Reservation),
            ("project", Project),
            ("partner", Partner),
            ("user", user),
            ("equipment", Equipment),
            ("site", Site),
            ("closure", Closure),
            ("token", FeedToken),
            ("state", FeedState),
            ("members", Project.members.through),
        )
    }


def _epoch(column: str) -> str:
    """Whole seconds since 1970 of a datetime column: `events.EpochSeconds` in SQL."""
    if connection.vendor == "postgresql":
        return f"floor(extract(epoch from {column}))::bigint"
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"  # '%%': a placeholder-free '%'


# --- the reader -------------------------------------------------------------------------


class TokenCandidate(NamedTuple):
    user: Any
    key: str
    state: FeedState | None  # the reader's FeedState, None if they have none
    equipment: EquipmentHead | None  # None: no such equipment (or none asked)
    closures: list[Closure]  # the equipment's closures in the window asked


@functools.cache
def _user_columns(vendor: str) -> tuple[list[str], list[tuple[int, Any, list[Any]]]]:
    """The user model's columns, and the converters the ORM applies to them when it
    loads a user (booleans and date-times on SQLite): (index, column, converters)."""
    model = get_user_model()
    fields = model._meta.concrete_fields
    converters = []
    for i, field in enumerate(fields):
        column = field.get_col(model._meta.db_table)
        found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
        if found:
            converters.append((i, column, found))
    return [f.attname for f in fields], converters


def _user(values: Sequence[Any]) -> Any:
    """A user loaded from its row of columns, as the ORM loads it."""
    names, converters = _user_columns(connection.vendor)
    row = list(values)
    for i, column, found in converters:
        for convert in found:
            row[i] = convert(row[i], column, connection)
    return get_user_model().from_db(connection.alias, names, row)


@functools.cache
def _token_sql(vendor: str, with_state: bool, with_equipment: bool) -> str:
    t = _tables()
    quote = connection.ops.quote_name
    lookup = connection.ops.lookup_cast("startswith", "CharField") % "t.key"
    like = connection.operators["startswith"] % "%s"  # type: ignore[attr-defined]
    model = get_user_model()
    columns = [f"u.{quote(str(f.column))}" for f in model._meta.concrete_fields]
    columns.append("t.key")
    joins = [f"FROM {t['token']} t INNER JOIN {t['user']} u ON u.id = t.user_id"]
    if with_state:
        columns += ["s.etag", "s.changed_at"]
        joins.append(f"LEFT JOIN {t['state']} s ON s.key = (%s || CAST(t.user_id AS TEXT) || %s)")
    if with_equipment:
        columns += ["e.id", "e.code", "e.name", "e.room", "e.site_id", "es.name", "e.updated_at"]
        columns += ["c.id", "c.equipment_id", "c.site_id", "c.start", 'c."end"', "c.reason"]
        columns += ["c.created_at"]
        joins.append(
            f"LEFT JOIN {t['equipment']} e ON e.id = %s"
            f" LEFT JOIN {t['site']} es ON es.id = e.site_id"
            # equipment_closures' condition, for the equipment found.
            f" LEFT JOIN {t['closure']} c ON e.id IS NOT NULL"
            " AND (c.equipment_id = e.id OR c.site_id = e.site_id"
            " OR (c.equipment_id IS NULL AND c.site_id IS NULL))"
            ' AND c.start < %s AND c."end" > %s'
        )
    return f"SELECT {', '.join(columns)} {' '.join(joins)} WHERE {lookup} {like}"


def token_candidates(
    prefix: str,
    *,
    state_key: tuple[str, str] | None,
    equipment_pk: int | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> list[TokenCandidate]:
    """The feed tokens whose key starts with `prefix`, each with its user, and with the
    user's FeedState of key `state_key[0] + id + state_key[1]` and the equipment
    `equipment_pk` and its closures during `window` where asked (one query). The
    caller compares the whole key."""
    with_equipment = equipment_pk is not None
    sql = _token_sql(connection.vendor, state_key is not None, with_equipment)
    params: list[Any] = []
    if state_key is not None:
        params += state_key
    if with_equipment:
        assert window is not None
        adapt = connection.ops.adapt_datetimefield_value
        # Beyond the ids' range the ORM finds nothing: so does an impossible id here.
        params.append(equipment_pk if equipment_pk in _ID_RANGE else 0)
        params += [adapt(window[1]), adapt(window[0])]
    params.append(connection.ops.prep_for_like_query(prefix) + "%")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    users = len(_user_columns(connection.vendor)[0])
    found: dict[str, TokenCandidate] = {}
    for row in rows:
        key = row[users]
        candidate = found.get(key)
        if candidate is None:
            rest = users + 1
            state = None
            if state_key is not None:
                etag, changed_at = row[rest : rest + 2]
                if etag is not None:
                    state = FeedState(etag=etag, changed_at=_datetime(changed_at) or changed_at)
                rest += 2
            equipment = None
            if with_equipment and row[rest] is not None and equipment_pk in _ID_RANGE:
                equipment = EquipmentHead._make([*row[rest : rest + 6], _datetime(row[rest + 6])])
            candidate = found[key] = TokenCandidate(_user(row[:users]), key, state, equipment, [])
        if with_equipment and candidate.equipment is not None and row[-7] is not None:
            candidate.closures.append(_closure(row[-7:]))
    for candidate in found.values():
        candidate.closures.sort(key=lambda c: c.start)  # as ClosureQuerySet orders them
    return list(found.values())


@functools.cache
def _equipment_sql(vendor: str) -> str:
    t = _tables()
    return (
        "SELECT e.id, e.code, e.name, e.room, e.site_id, s.name, e.updated_at"  # noqa: S608
        f" FROM {t['equipment']} e INNER JOIN {t['site']} s ON s.id = e.site_id"
        " WHERE e.id = %s"
    )


def equipment_head(pk: int) -> EquipmentHead | None:
    """The equipment `pk` as its feed shows it (one query), None if there is none."""
    if pk not in _ID_RANGE:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_equipment_sql(connection.vendor), [pk])
        row = cursor.fetchone()
    if row is None:
        return None
    return EquipmentHead._make([*row[:6], _datetime(row[6])])


# --- reservations and closures ----------------------------------------------------------

# What a feed selects its reservations by (feeds.equipment_feed, project_feed, ...).
BY_EQUIPMENT = "r.equipment_id = %s"
BY_PROJECT = "r.project_id = %s"
BY_PARTNER = "p.partner_id = %s"
BY_USER = "by_user"  # booked by the user, or of a project they lead or belong to


@functools.cache
def _reservation_sql(vendor: str, by: str, equipment_columns: bool) -> str:
    """The statement of feeds.feed_reservations for one kind of feed.

    Without `equipment_columns` (an equipment's feed: the caller knows its equipment)
    the rows leave out the four equipment columns and their two joins.
    """
    t = _tables()
    r = "r"
    instants = {
        name: _epoch(f'{r}."{field}"')
        for name, field in (
            ("start", "start"),
            ("end", "end"),
            ("created", "created_at"),
            ("updated", "updated_at"),
        )
    }
    equipment = "e.code, e.name, e.room, es.name, " if equipment_columns else ""
    equipment_joins = (
        f" INNER JOIN {t['equipment']} e ON e.id = r.equipment_id"
        f" INNER JOIN {t['site']} es ON es.id = e.site_id"
        if equipment_columns
        else ""
    )
    if by == BY_USER:
        where = (
            "(r.booked_by_id = %s"  # noqa: S608
            f" OR r.project_id IN (SELECT pm.project_id FROM {t['members']} pm"
            " WHERE pm.user_id = %s)"
            f" OR r.project_id IN (SELECT lp.id FROM {t['project']} lp WHERE lp.leader_id = %s))"
        )
    elif by == BY_EQUIPMENT and vendor == "postgresql":
        # As Reservation.objects.of_equipment: a bigint seeks the (equipment, span) index.
        where = "r.equipment_id = (%s)::bigint"
    else:
        where = by
    if vendor == "postgresql":
        # ReservationQuerySet.overlapping: the range overlap the GiST index answers, less
        # the reservations of which only the buffer reaches into the window.
        window = (
            "TSTZRANGE(r.start, r.blocked_until, '[)') && (TSTZRANGE(%s, %s, '[)'))"
            ' AND NOT (r.blocked_until > %s AND r."end" <= %s)'
        )
    else:
        window = 'r.start < %s AND r."end" > %s'
    return (
        f"SELECT r.id, {instants['start']}, {instants['end']}, r.status, r.revision,"  # noqa: S608
        f" {instants['created']}, {instants['updated']}, r.title, r.priority,"
        f" r.expected_participants, r.equipment_id, {equipment}"
        " r.project_id, p.name, pa.name, r.booked_by_id, u.username, u.first_name, u.last_name"
        f" FROM {t['reservation']} r"
        f"{equipment_joins}"
        f" INNER JOIN {t['project']} p ON p.id = r.project_id"
        f" INNER JOIN {t['partner']} pa ON pa.id = p.partner_id"
        f" INNER JOIN {t['user']} u ON u.id = r.booked_by_id"
        f" WHERE {where} AND {window}"
        " AND (r.status IN (%s, %s, %s, %s)"
        " OR (r.status IN (%s, %s, %s) AND r.status_changed_at >= %s))"
        " ORDER BY r.start, r.id"
    )


def reservation_rows(
    by: str,
    value: int,
    *,
    low: datetime,
    high: datetime,
    kept_since: datetime,
    shown: Sequence[str],
    ended: Sequence[str],
    equipment: EquipmentHead | None = None,
) -> list[tuple[Any, ...]]:
    """The rows of RESERVATION_COLUMNS of feeds.feed_reservations (one query).

    `by` is BY_EQUIPMENT, BY_PROJECT, BY_PARTNER or BY_USER, `value` the id it compares.
    For BY_EQUIPMENT give `equipment`: its four columns are then filled in from it.
    """
    assert len(shown) == 4 and len(ended) == 3  # as many placeholders in the statement
    adapt = connection.ops.adapt_datetimefield_value
    by_params = [value, value, value] if by == BY_USER else [value]
    if connection.vendor == "postgresql":
        window = [adapt(low), adapt(high), adapt(low), adapt(low)]
    else:
        window = [adapt(high), adapt(low)]
    params = [*by_params, *window, *map(str, shown), *map(str, ended), adapt(kept_since)]
    sql = _reservation_sql(connection.vendor, by, equipment is None)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if equipment is None:
        return rows
    known = (equipment.code, equipment.name, equipment.room, equipment.site_name)
    return [(*row[:11], *known, *row[11:]) for row in rows]


@functools.cache
def _closure_sql(vendor: str) -> str:
    t = _tables()
    return (
        'SELECT id, equipment_id, site_id, start, "end", reason, created_at'  # noqa: S608
        f" FROM {t['closure']}"
        " WHERE (equipment_id IN (%s) OR site_id IN (%s)"
        " OR (equipment_id IS NULL AND site_id IS NULL))"
        ' AND start < %s AND "end" > %s'
        " ORDER BY start"
    )


def equipment_closures(equipment: EquipmentHead, low: datetime, high: datetime) -> list[Closure]:
    """The closures of ClosureQuerySet.touching_equipment(equipment).during(low, high),
    with the fields the feed writes (one query)."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            _closure_sql(connection.vendor),
            [equipment.pk, equipment.site_id, adapt(high), adapt(low)],
        )
        rows = cursor.fetchall()
    return [_closure(row) for row in rows]


def _closure(row: Sequence[Any]) -> Closure:
    """A closure of its (id, equipment_id, site_id, start, end, reason, created_at)."""
    pk, equipment_id, site_id, start, end, reason, created_at = row
    values = {"id": pk, "equipment_id": equipment_id, "site_id": site_id,
              "start": _datetime(start), "end": _datetime(end), "reason": reason,
              "created_at": _datetime(created_at)}  # fmt: skip
    return Closure.from_db(connection.alias, _CLOSURE_FIELDS, [values[n] for n in _CLOSURE_FIELDS])


# Model.from_db takes the values in the order of the model's fields.
_CLOSURE_FIELDS = [
    f.attname
    for f in Closure._meta.concrete_fields
    if f.attname in {"id", "equipment_id", "site_id", "start", "end", "reason", "created_at"}
]
