"""What the read endpoints write, at the cost of their SQL: instants formatted once each,
reservation rows as plain dicts, and the list's count only when the page cannot tell it.

Each gives byte for byte what DRF's fields and encoder give (tests/api/test_read_output.py
fixes the JSON, daylight-saving weeks included); the serializers stay the documented
shapes (drf-spectacular reads them).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.db.models import QuerySet
from django.utils import timezone

from core.api.pagination import Pagination


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
