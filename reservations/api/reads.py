"""What the read endpoints write, at the cost of their SQL: instants formatted once each,
reservation rows as plain dicts, and the list's count only when the page cannot tell it.

Each gives byte for byte what DRF's fields and encoder give (tests/api/test_read_output.py
fixes the JSON, daylight-saving weeks included); the serializers stay the documented
shapes (drf-spectacular reads them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db import connection
from django.db.models import QuerySet
from django.utils import timezone

from core.api.pagination import Pagination
from core.api.renderers import JSONText, json_string
from core.roles import is_platform_manager
from partners.models import Project
from reservations.facts import as_utc
from reservations.models import Reservation, overlapping_sql
from reservations.rules import Pair
from reservations.selectors import Busy, full_view_sql


class LocalStamps:
    """Format instants as DRF's `DateTimeField` and JSON encoder do (ISO 8601 in the
    current time zone, `Z` for a zero offset), each instant once.

    An availability answer repeats its instants (the window's bounds in every item, the
    opening hours shared by equipment of one policy, a free interval ending where a
    buffer starts, the same slots on several equipment): a thousand instants in 20
    equipment's week, a few hundred distinct, which DRF's encoder would format one by one
    through its Python fallback. They are known by value (equal instants, whatever their
    time zone, read the same in the current one): hashing a datetime costs a third of
    formatting it.
    """

    def __init__(self) -> None:
        self.tz = timezone.get_current_timezone()
        self.known: dict[datetime, str] = {}

    def __call__(self, moment: datetime) -> str:
        text = self.known.get(moment)
        if text is not None:
            return text
        text = moment.astimezone(self.tz).isoformat()
        if text.endswith("+00:00"):
            text = text[:-6] + "Z"
        self.known[moment] = text
        return text


def availability_json(
    ids: Sequence[int],
    times: dict[int, tuple[list[Busy], list[Pair]]],
    start: datetime,
    end: datetime,
) -> JSONText:
    """`{"results": [...]}` of the availability of the equipment `ids` (in that order) over
    [start, end) from their `availability_times`, written as JSON text: byte for byte what
    DRF writes of `availabilities(..., stamp=LocalStamps())` (tests/api/
    test_availabilities_api.py compares them), without building the ~500 dicts of 20
    equipment's week nor encoding them one by one. Each instant is written once."""
    stamps = LocalStamps()
    quoted: dict[datetime, str] = {}

    def text(moment: datetime) -> str:
        found = quoted.get(moment)
        if found is None:
            # An ISO 8601 instant holds no character that JSON escapes.
            found = quoted[moment] = f'"{stamps(moment)}"'
        return found

    priorities: dict[str, str] = {}
    window = f'"start":{text(start)},"end":{text(end)}'
    items = []
    for pk in ids:
        busy, free = times[pk]
        parts = []
        for a, b, kind, priority in busy:
            if priority is None:
                parts.append(f'{{"start":{text(a)},"end":{text(b)},"kind":"{kind}"}}')
                continue
            written = priorities.get(priority)
            if written is None:
                written = priorities[priority] = json_string(priority)
            parts.append(
                f'{{"start":{text(a)},"end":{text(b)},"kind":"{kind}","priority":{written}}}'
            )
        gaps = ",".join([f'{{"start":{text(a)},"end":{text(b)}}}' for a, b in free])
        items.append(
            f'{{"equipment":{int(pk)},{window},"busy":[{",".join(parts)}],"free":[{gaps}]}}'
        )
    return JSONText(f'{{"results":[{",".join(items)}]}}')


# ReservationSerializer's fields, in its order, and the column each reads.
RESERVATION_COLUMNS = (
    ("id", "id"),
    ("equipment", "equipment_id"),
    ("project", "project_id"),
    ("booked_by", "booked_by_id"),
    ("start", "start"),
    ("end", "end"),
    ("title", "title"),
    ("expected_participants", "expected_participants"),
    ("status", "status"),
    ("priority", "priority"),
    ("series", "series_id"),
    ("session", "session_id"),
    ("revision", "revision"),
    ("created_at", "created_at"),
    ("updated_at", "updated_at"),
)
RESERVATION_INSTANTS = frozenset({"start", "end", "created_at", "updated_at"})
# The positions (from 1) of the order's columns among RESERVATION_COLUMNS.
_ID, _START = 1, 5


def reservation_values(qs: QuerySet[Any]) -> QuerySet[Any]:
    """The columns of `reservation_rows`, as tuples (no model instances)."""
    return qs.values_list(*(column for _, column in RESERVATION_COLUMNS))


def reservation_rows(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """`ReservationSerializer(many=True).data` of rows read by `reservation_values`."""
    stamp = LocalStamps()
    names = [name for name, _ in RESERVATION_COLUMNS]
    timed = [i for i, name in enumerate(names) if name in RESERVATION_INSTANTS]
    answer = []
    for row in rows:
        values = list(row)
        for i in timed:
            if values[i] is not None:
                values[i] = stamp(values[i])
        answer.append(dict(zip(names, values, strict=True)))
    return answer


class ReservationListSQL:
    """The rows of `reservation_values` of a reservation list, in raw SQL: sliced (a
    page, LIMIT and OFFSET) and counted as the paginator asks.

    `where` is an SQL condition on the reservation table aliased `r`, with its `params`;
    rows come ordered by start and id. Raw SQL on purpose: building and compiling the
    list's queryset (visibility, filters, the range overlap) cost Django twice what the
    database took to answer it. tests/api/test_reservation_list_sql.py compares its rows
    with the queryset's on both engines.
    """

    def __init__(
        self,
        where: str,
        params: list[Any],
        *,
        probe: tuple[str, list[Any], Callable[[list[tuple[Any, ...]]], bool]] | None = None,
    ) -> None:
        self.where = where
        self.params = params
        # A statement (sql, params) sent with the first page in the same round trip, and
        # what to do with its rows before the page is used: True when the page must be
        # read again (the no-show probe, which found something to record first).
        self.probe = probe

    def _table(self) -> str:
        return connection.ops.quote_name(Reservation._meta.db_table)

    def __getitem__(self, item: slice) -> list[tuple[Any, ...]]:
        if not isinstance(item, slice) or item.step is not None:
            raise TypeError("only slices without step")
        offset = item.start or 0
        if item.stop is None or item.stop < 0 or offset < 0:
            raise TypeError("only bounded slices")
        quote = connection.ops.quote_name
        columns = ", ".join(f"r.{quote(column)}" for _, column in RESERVATION_COLUMNS)
        sql = (
            # Only quoted names and the caller's condition are interpolated.
            f"SELECT {columns} FROM {self._table()} r WHERE {self.where}"  # noqa: S608
            " ORDER BY r.start, r.id LIMIT %s OFFSET %s"
        )
        params = [*self.params, max(item.stop - offset, 0), offset]
        rows = None
        if self.probe is not None:
            probe_sql, probe_params, must_reread = self.probe
            self.probe = None
            padding = ", ".join(["NULL"] * len(RESERVATION_COLUMNS))
            both = (
                # The probe's rows (kind 0) then the page's (kind 1), in its order.
                f"SELECT 0, p.*, {padding} FROM ({probe_sql}) p"  # noqa: S608
                f" UNION ALL SELECT 1, NULL, NULL, q.* FROM ({sql}) q"
                f" ORDER BY 1, {3 + _START}, {3 + _ID}"
            )
            with connection.cursor() as cursor:
                cursor.execute(both, [*probe_params, *params])
                found = cursor.fetchall()
            if not must_reread([row[1:3] for row in found if row[0] == 0]):
                rows = [row[3:] for row in found if row[0] == 1]
        if rows is None:
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
        if connection.vendor == "postgresql":
            return rows
        # SQLite gives the instants as text or naive datetimes, in UTC.
        timed = [
            i for i, (name, _) in enumerate(RESERVATION_COLUMNS) if name in RESERVATION_INSTANTS
        ]
        fixed = []
        for row in rows:
            values = list(row)
            for i in timed:
                if values[i] is not None:
                    values[i] = as_utc(values[i])
            fixed.append(tuple(values))
        return fixed

    def count(self) -> int:
        sql = f"SELECT COUNT(*) FROM {self._table()} r WHERE {self.where}"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, self.params)
            return int(cursor.fetchone()[0])


def reservation_list_sql(user: Any, asked: dict[str, Any]) -> ReservationListSQL:
    """The reservations `user` sees in full (selectors.reservations_visible_to) filtered
    as `asked` (ReservationViewSet.list_filters), as raw SQL."""
    conditions: list[str] = []
    params: list[Any] = []
    if not is_platform_manager(user):
        visible, visible_params = full_view_sql(user, "r")
        conditions.append(visible)
        params.extend(visible_params)
    for name in ("equipment", "project", "booked_by"):
        if name in asked:
            # The equipment as a bigint on PostgreSQL, as Reservation.objects.of_equipment:
            # one equipment's window then seeks the (equipment, span) GiST index.
            typed = name == "equipment" and connection.vendor == "postgresql"
            conditions.append(f"r.{name}_id = (%s)::bigint" if typed else f"r.{name}_id = %s")
            params.append(asked[name])
    if "partner" in asked:
        project = connection.ops.quote_name(Project._meta.db_table)
        conditions.append(
            f"r.project_id IN (SELECT id FROM {project} WHERE partner_id = %s)"  # noqa: S608
        )
        params.append(asked["partner"])
    if "status" in asked:
        conditions.append(f"r.status IN ({', '.join(['%s'] * len(asked['status']))})")
        params.extend(asked["status"])
    if "window" in asked:
        window, window_params = overlapping_sql("r", *asked["window"])
        conditions.append(window)
        params.extend(window_params)
    return ReservationListSQL(" AND ".join(conditions) or "1 = 1", params)


class CountWhenNeededPaginator(Paginator):
    """Django's paginator, counting the rows only when the page asked is full.

    The page is read with one row more than it shows: when that row is not there, the
    page is the last one and the count is the rows before it plus its own, with no
    `COUNT(*)` (one equipment's month, a user's bookings: most lists fit in one page).
    The same pages, counts, links and refusals as Django's (no orphans here).
    """

    def page(self, number: Any) -> Page:
        try:
            if isinstance(number, float) and not number.is_integer():
                raise ValueError
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(self.error_messages["invalid_page"]) from None
        if number < 1:
            raise EmptyPage(self.error_messages["min_page"])
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if len(rows) <= self.per_page:
            if not rows and number > 1:
                raise EmptyPage(self.error_messages["no_results"])
            self.__dict__["count"] = bottom + len(rows)  # the cached_property's value
        return Page(rows[: self.per_page], number, self)


class CountWhenNeededPagination(Pagination):
    """The API's pagination (`count`, `next`, `previous`, `results`), counting only when
    a full page leaves the total unknown."""

    django_paginator_class = CountWhenNeededPaginator
