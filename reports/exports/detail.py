"""One row per reservation: CSV (written by PostgreSQL's COPY, or in Python), JSON, XLSX."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils.translation import gettext as _

from core.timezones import local_tz
from equipment.models import Equipment
from partners.models import Project

from .. import rounding
from ..services import (
    DETAIL_COLUMNS,
    Filters,
    Scope,
    full_read,
    reservation_rows,
    reservation_rows_sql,
)
from .cells import FORMULA_STARTS, Column, batches, csv_quote, neutralise
from .copy_text import copy_lines
from .xlsx import Sheet

DETAIL_KINDS = {
    "id": "int",
    "equipment_id": "int",
    "partner_id": "int",
    "project_id": "int",
    "booked_hours": "hours",
    "used_hours": "hours",
    "billable_hours": "hours",
    "late_cancellation": "int",
    "rate": "money",
    "amount": "money",
}
# Memoised texts kept per kind, then forgotten at once: memory stays bounded on exports of
# millions of rows, while slot boundaries, durations and rates mostly repeat.
MEMO_LIMIT = 100_000
DETAIL_COLUMN_SPECS = [Column(name, DETAIL_KINDS.get(name, "text")) for name in DETAIL_COLUMNS]


class DetailFormatter:
    """Turn the tuples of `services.reservation_rows()` into export rows.

    The names of equipment, projects, partners and users are read once (memory grows
    with the inventory, not with the reservations) and kept as ready CSV fragments;
    formatted times, hours and rates are memoised, since reservations share their slot
    boundaries, durations and rates. A CSV row is then one string format.
    """

    def __init__(self, *, sep: str = ","):
        from django.contrib.auth import get_user_model

        self.sep = sep
        self.comma = sep == ";"
        self.tz = local_tz()
        self.equipment = {
            pk: (code, name, site, category)
            for pk, code, name, site, category in Equipment.objects.order_by().values_list(
                "pk", "code", "name", "site__name", "category__name"
            )
        }
        self.projects = {
            pk: (name, kind, partner, partner_name)
            for pk, name, kind, partner, partner_name in Project.objects.order_by().values_list(
                "pk", "name", "kind", "partner_id", "partner__name"
            )
        }
        self.users = dict(get_user_model().objects.values_list("pk", "username"))
        self._times: dict[int, str] = {}
        self._hours: dict[int, str] = {}  # by microseconds
        self._money: dict[int, str] = {}  # by cents

    # Memoised pieces ------------------------------------------------------------------

    def when(self, seconds: int) -> str:
        text = self._times.get(seconds)
        if text is None:
            if len(self._times) > MEMO_LIMIT:
                self._times.clear()
            text = datetime.fromtimestamp(seconds, self.tz).isoformat()
            self._times[seconds] = text
        return text

    def fixed2(self, hundredths: int) -> str:
        return rounding.fixed2(hundredths, decimal_comma=self.comma)

    def hours_text(self, microseconds: int) -> str:
        text = self._hours.get(microseconds)
        if text is None:
            if len(self._hours) > MEMO_LIMIT:
                self._hours.clear()
            text = self.fixed2(rounding.hundredths_of_hours(microseconds))
            self._hours[microseconds] = text
        return text

    def money_text(self, cents: int) -> str:
        text = self._money.get(cents)
        if text is None:
            if len(self._money) > MEMO_LIMIT:
                self._money.clear()
            text = self.fixed2(cents)
            self._money[cents] = text
        return text

    def _csv_text(self, text: str) -> str:
        return csv_quote(neutralise(text), self.sep)

    # CSV ------------------------------------------------------------------------------

    def csv_row_formatter(self) -> Callable[[Sequence[str]], str]:
        """A function from one row of `reservation_rows()` given as strings (as COPY writes
        them) to its CSV line; every piece that repeats across rows is formatted once."""
        sep = self.sep
        cell = self._csv_text
        equipment = {
            str(pk): sep.join([str(pk), *(cell(v) for v in values)])
            for pk, values in self.equipment.items()
        }
        projects = {
            str(pk): sep.join([str(partner), cell(partner_name), str(pk), cell(name), kind])
            for pk, (name, kind, partner, partner_name) in self.projects.items()
        }
        users = {str(pk): cell(name) for pk, name in self.users.items()}
        times: dict[str, str] = {}
        tails: dict[tuple[str, ...], str] = {}
        starts = FORMULA_STARTS
        time_cell, tail_cell = self._time_cell, self._tail

        def line(row: Sequence[str]) -> str:
            pk, start, end, status, eq, project, user, title, *figures = row
            first = times.get(start) or time_cell(times, start)
            last = times.get(end) or time_cell(times, end)
            key = tuple(figures)
            tail = tails.get(key) or tail_cell(tails, key)
            # neutralise() and _quote(), inlined: this runs once per reservation.
            if title and title[0] in starts:
                title = "'" + title
            if sep in title or '"' in title or "\n" in title or "\r" in title:
                title = '"' + title.replace('"', '""') + '"'
            return (
                f"{pk}{sep}{first}{sep}{last}{sep}{status}{sep}"
                f"{equipment.get(eq) or sep.join([eq, '', '', '', ''])}{sep}"
                f"{projects.get(project) or sep.join(['', '', project, '', ''])}{sep}"
                f"{users.get(user, '')}{sep}{title}{sep}{tail}\n"
            )

        return line

    def csv_lines(self, rows: Iterable[Sequence[str]]) -> Iterator[str]:
        return map(self.csv_row_formatter(), rows)

    def csv_lines_batches(self, rows: Iterable[Sequence[str]]) -> Iterator[list[str]]:
        yield from batches(self.csv_lines(rows))

    def _time_cell(self, cache: dict[str, str], seconds: str) -> str:
        if len(cache) > MEMO_LIMIT:
            cache.clear()
        text = cache[seconds] = self.when(int(seconds))
        return text

    def _tail(self, cache: dict[tuple[str, ...], str], key: tuple[str, ...]) -> str:
        """The figure cells: booked, used, billable hours, late, rate and amount."""
        if len(cache) > MEMO_LIMIT:
            cache.clear()
        booked, used, billable, late, rate = (int(v) for v in key)
        sep = self.sep
        text = cache[key] = (
            f"{self.hours_text(booked)}{sep}{self.hours_text(used)}{sep}"
            f"{self.hours_text(billable)}{sep}{late}{sep}{self.money_text(rate)}{sep}"
            f"{self.fixed2(rounding.cents(billable * rate))}"
        )
        return text

    # Typed (XLSX, JSON) ---------------------------------------------------------------

    def typed_row(self, raw: Sequence[Any], *, flag_as_number: bool = False) -> list[Any]:
        """Numbers as numbers (hours and euros rounded as in the CSV), text unneutralised;
        the late-cancellation flag a boolean, or 1/0 with `flag_as_number` (XLSX)."""
        pk, start, end, status, eq, project, user, title, booked, used, billable, late, rate = raw
        return [
            pk,
            self.when(start),
            self.when(end),
            status,
            *self._equipment_cells(eq),
            *self._project_cells(project),
            self.users.get(user, ""),
            title,
            *self._figure_cells(booked, used, billable, late, rate, flag_as_number),
        ]

    # The typed row's groups of cells (the XLSX rows memoise their XML).

    def _equipment_cells(self, eq: int) -> list[Any]:
        e = self.equipment.get(eq, ("", "", "", ""))
        return [eq, e[0], e[1], e[2], e[3]]

    def _project_cells(self, project: int) -> list[Any]:
        p = self.projects.get(project, ("", "", "", ""))
        return [p[2], p[3], project, p[0], p[1]]

    @staticmethod
    def _figure_cells(
        booked: int, used: int, billable: int, late: Any, rate: int, flag_as_number: bool
    ) -> list[Any]:
        h = rounding.hours_number
        return [
            h(booked),
            h(used),
            h(billable),
            (1 if late else 0) if flag_as_number else bool(late),
            rate / 100,
            rounding.euros_number(billable * rate),
        ]

    def xlsx_rows(self, rows: Iterable[Sequence[Any]], cells: Any) -> Iterator[tuple[str, int]]:
        """The XLSX rows of `typed_row(flag_as_number=True)` as XML, from the sheet's cell
        writer (see xlsx.Sheet.xml_rows): the same cells, each group of cells that repeats
        across reservations (equipment, project, booking user, start, end, status, figures)
        made once. tests/reports/test_exports.py compares the bytes with `typed_row()`'s."""
        cell = cells.cell
        last = len(DETAIL_COLUMNS) - 1

        def group(first: int, values: Sequence[Any]) -> str:
            return "".join([cell(first + n, v) for n, v in enumerate(values)])

        memos: list[dict[Any, str]] = [{} for _ in range(7)]
        starts, ends, statuses, equipment, projects, users, tails = memos
        for count, raw in enumerate(rows, 1):
            pk, start, end, status, eq, project, user, title, *figures = raw
            key = tuple(figures)
            if count % 5000 == 0 and any(len(m) > MEMO_LIMIT for m in memos):
                for memo in memos:  # bounded memory on exports of millions of rows
                    memo.clear()
            a = starts.get(start)
            if a is None:
                a = starts[start] = cell(1, self.when(start))
            b = ends.get(end)
            if b is None:
                b = ends[end] = cell(2, self.when(end))
            c = statuses.get(status)
            if c is None:
                c = statuses[status] = cell(3, status)
            d = equipment.get(eq)
            if d is None:
                d = equipment[eq] = group(4, self._equipment_cells(eq))
            e = projects.get(project)
            if e is None:
                e = projects[project] = group(9, self._project_cells(project))
            f = users.get(user)
            if f is None:
                f = users[user] = cell(14, self.users.get(user, ""))
            g = tails.get(key)
            if g is None:
                booked, used, billable, late, rate = key
                g = tails[key] = group(
                    16, self._figure_cells(booked, used, billable, late, rate, True)
                )
            yield "".join((cell(0, pk), a, b, c, d, e, f, cell(15, title), g)), last


def detail_csv_chunks(
    *,
    start: datetime,
    end: datetime,
    scope: Scope,
    now: datetime,
    filters: Filters | None = None,
    sep: str = ",",
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """The reservations as UTF-8 CSV with a BOM, in chunks.

    On PostgreSQL the database writes the CSV itself (COPY … TO STDOUT over the same
    per-reservation query), several times faster than formatting rows in Python; the
    Python formatter serves SQLite. Both write the same text (the tests check both).
    """
    header = (
        "\ufeff" + sep.join(csv_quote(c.header, sep) for c in DETAIL_COLUMN_SPECS) + "\n"
    ).encode("utf-8")
    if connection.vendor == "postgresql":
        return _postgres_csv(
            header,
            start=start,
            end=end,
            scope=scope,
            now=now,
            filters=filters,
            sep=sep,
            on_rows=on_rows,
        )
    rows = reservation_rows(start=start, end=end, scope=scope, now=now, filters=filters)
    return _python_csv(header, rows, sep=sep, on_rows=on_rows)


def _python_csv(
    header: bytes,
    rows: Iterable[Sequence[Any]],
    *,
    sep: str,
    on_rows: Callable[[int], None] | None,
) -> Iterator[bytes]:
    formatter = DetailFormatter(sep=sep)
    yield header
    for lines in formatter.csv_lines_batches(tuple(map(str, row)) for row in rows):
        yield "".join(lines).encode("utf-8")
        if on_rows is not None:
            on_rows(len(lines))


def _postgres_csv(
    header: bytes,
    *,
    start: datetime,
    end: datetime,
    scope: Scope,
    now: datetime,
    filters: Filters | None,
    sep: str,
    on_rows: Callable[[int], None] | None,
) -> Iterator[bytes]:
    sql, params = reservation_rows_sql(start=start, end=end, scope=scope, now=now, filters=filters)
    formatter = DetailFormatter(sep=sep)
    yield header
    # psycopg binds the parameters client-side for COPY.
    with (
        full_read(),
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy,
    ):
        for lines in copy_lines(copy, formatter.csv_row_formatter()):
            yield "".join(lines).encode("utf-8")
            if on_rows is not None:
                on_rows(len(lines))


def detail_json_chunks(
    rows: Iterable[Sequence[Any]],
    *,
    start: datetime,
    end: datetime,
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    formatter = DetailFormatter()
    tz = local_tz()
    head = {"start": start.astimezone(tz).isoformat(), "end": end.astimezone(tz).isoformat()}
    yield (json.dumps(head, ensure_ascii=False)[:-1] + ', "rows": [').encode("utf-8")
    first = True
    for batch in batches(rows):
        text = ",\n".join(
            json.dumps(
                dict(zip(DETAIL_COLUMNS, formatter.typed_row(raw), strict=True)), ensure_ascii=False
            )
            for raw in batch
        )
        yield (text if first else ",\n" + text).encode("utf-8")
        first = False
        if on_rows is not None:
            on_rows(len(batch))
    yield b"]}"


def detail_sheet(rows: Iterable[Sequence[Any]]) -> Sheet:
    formatter = DetailFormatter()
    return Sheet(
        title=_("Reservations"),
        columns=DETAIL_COLUMN_SPECS,
        rows=(),
        xml_rows=lambda cells: formatter.xlsx_rows(rows, cells),
    )
