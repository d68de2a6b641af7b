"""Report exports: JSON, CSV and XLSX, written row by row in constant memory.

- CSV is UTF-8 with a byte order mark (so that Excel reads the accents), `,` between
  cells and `.` in decimals by default; `sep=;` is the French spreadsheet dialect, with a
  decimal comma as well, so that French Excel and LibreOffice read numbers as numbers.
- XLSX is written by xlsxwriter in `constant_memory` mode into a temporary file that is
  then streamed; numbers are numbers, text is always written as a string, never a formula.
- Headers are the JSON field names, so that scripts read every format the same way.
  Hours have 2 decimals, euros 2, utilisation 4, in every format.
- Text cells starting with `=`, `+`, `-`, `@`, a tab or a carriage return are neutralised
  in CSV and XLSX with a leading `'` (OWASP's advice against formula injection): a
  spreadsheet shows them as text and never evaluates them. JSON keeps the text as is.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from itertools import islice
from typing import IO, Any

from django.db import connection, transaction
from django.utils.translation import gettext as _

from equipment.models import Equipment
from platform_booking.timezones import local_tz
from reservations.models import Project

from . import rounding
from .services import (
    DETAIL_COLUMNS,
    Filters,
    Scope,
    UsageReport,
    reservation_rows,
    reservation_rows_sql,
    tune_for_full_reads,
)

FORMULA_STARTS = frozenset("=+-@\t\r")
XLSX_MAX_ROWS = 1_048_576
BATCH = 2000


def neutralise(text: str) -> str:
    """Make a text cell harmless in a spreadsheet: a formula-like start gets a quote."""
    if text and text[0] in FORMULA_STARTS:
        return "'" + text
    return text


# --- Columns and cells ---------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "int", "text", "hours" (2 decimals), "money" (2 decimals), "ratio" (4)


_FIGURE_KINDS = {
    "booked_hours": "hours",
    "used_hours": "hours",
    "billable_hours": "hours",
    "open_hours": "hours",
    "amount": "money",
    "utilisation": "ratio",
}


def report_columns(report: UsageReport) -> list[Column]:
    """Dimension columns (name, then code and id for objects) followed by the figures."""
    columns: list[Column] = []
    for name in report.group_by:
        if name in ("month", "project_kind"):
            columns.append(Column(name, "text"))
        elif name == "equipment":
            columns += [
                Column("equipment_code", "text"),
                Column("equipment", "text"),
                Column("equipment_id", "int"),
            ]
        else:
            columns += [Column(name, "text"), Column(f"{name}_id", "int")]
    columns += [Column(f, _FIGURE_KINDS.get(f, "int")) for f in report.figure_names]
    return columns


def report_cells(report: UsageReport) -> tuple[list[list[Any]], list[Any]]:
    """A list of typed cells per group, and the totals row."""
    result = []
    for row in report.rows:
        cells: list[Any] = []
        for name in report.group_by:
            value = row[name]
            if name in ("month", "project_kind"):
                cells.append(value)
            elif name == "equipment":
                cells += [value["code"], value["name"], value["id"]]
            else:
                cells += [value["name"], value["id"]]
        cells += [row[f] for f in report.figure_names]
        result.append(cells)
    width = len(report_columns(report)) - len(report.figure_names)
    totals: list[Any] = [_("Total")] + [None] * (width - 1)
    return result, totals + [report.totals[f] for f in report.figure_names]


def csv_cell(value: Any, decimal_comma: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        text = str(value)
        return text.replace(".", ",") if decimal_comma else text
    return value


# --- CSV -----------------------------------------------------------------------------


def csv_chunks(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    sep: str = ",",
    on_rows: Callable[[int], None] | None = None,
) -> Iterator[bytes]:
    """UTF-8 CSV with a BOM, yielded in chunks of a few thousand rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\n")
    buffer.write("\ufeff")
    writer.writerow(header)
    yield buffer.getvalue().encode("utf-8")
    rows = iter(rows)
    while True:
        buffer.seek(0)
        buffer.truncate(0)
        batch = list(islice(rows, BATCH))
        if not batch:
            return
        writer.writerows(batch)
        yield buffer.getvalue().encode("utf-8")
        if on_rows is not None:
            on_rows(len(batch))


def report_csv_chunks(report: UsageReport, *, sep: str = ",") -> Iterator[bytes]:
    comma = sep == ";"
    rows, totals = report_cells(report)
    rows = [[csv_cell(v, comma) for v in cells] for cells in [*rows, totals]]
    return csv_chunks([c.name for c in report_columns(report)], rows, sep=sep)


# --- XLSX ----------------------------------------------------------------------------


@dataclass
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    totals: Sequence[Any] | None = None  # written last, in bold


def write_xlsx(
    target: str | IO[bytes],
    sheets: Iterable[Sheet],
    *,
    on_rows: Callable[[int], None] | None = None,
) -> None:
    """Write the sheets into an .xlsx workbook, row by row (xlsxwriter constant memory).

    A sheet longer than Excel's row limit goes on over further sheets.
    """
    import xlsxwriter

    workbook = xlsxwriter.Workbook(
        target,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    bold = workbook.add_format({"bold": True})
    formats = {
        "int": workbook.add_format({"num_format": "0"}),
        "hours": workbook.add_format({"num_format": "0.00"}),
        "money": workbook.add_format({"num_format": "0.00"}),
        "ratio": workbook.add_format({"num_format": "0.0000"}),
        "text": None,
    }
    for sheet in sheets:
        kinds = [c.kind for c in sheet.columns]
        part = 1
        worksheet = _new_worksheet(workbook, sheet, part, bold)
        row_index = 1
        written = 0
        for cells in sheet.rows:
            if row_index >= XLSX_MAX_ROWS:
                part += 1
                worksheet = _new_worksheet(workbook, sheet, part, bold)
                row_index = 1
            _write_row(worksheet, row_index, cells, kinds, formats)
            row_index += 1
            written += 1
            if on_rows is not None and written % BATCH == 0:
                on_rows(BATCH)
        if on_rows is not None and written % BATCH:
            on_rows(written % BATCH)
        if sheet.totals is not None:
            if row_index >= XLSX_MAX_ROWS:
                worksheet = _new_worksheet(workbook, sheet, part + 1, bold)
                row_index = 1
            _write_row(worksheet, row_index, sheet.totals, kinds, formats, bold)
    workbook.close()


def _new_worksheet(workbook: Any, sheet: Sheet, part: int, bold: Any) -> Any:
    title = sheet.title if part == 1 else f"{sheet.title} ({part})"
    worksheet = workbook.add_worksheet(title[:31])
    for index, column in enumerate(sheet.columns):
        worksheet.set_column(index, index, 14 if column.kind != "text" else 24)
        worksheet.write_string(0, index, column.name, bold)
    worksheet.freeze_panes(1, 0)
    return worksheet


def _write_row(
    worksheet: Any,
    row: int,
    cells: Sequence[Any],
    kinds: Sequence[str],
    formats: dict[str, Any],
    override: Any = None,
) -> None:
    for col, value in enumerate(cells):
        if value is None:
            continue
        if isinstance(value, str):
            worksheet.write_string(row, col, neutralise(value), override)
        elif isinstance(value, bool):
            worksheet.write_boolean(row, col, value, override)
        else:
            worksheet.write_number(row, col, float(value), override or formats[kinds[col]])


def report_sheet(report: UsageReport) -> Sheet:
    rows, totals = report_cells(report)
    return Sheet(title=_("Usage"), columns=report_columns(report), rows=rows, totals=totals)


def xlsx_tempfile(sheets: Iterable[Sheet]) -> IO[bytes]:
    """The workbook in an anonymous temporary file, rewound, deleted when closed."""
    # Not a context manager: the response streams the file, then closes (deletes) it.
    handle = tempfile.TemporaryFile(suffix=".xlsx")  # noqa: SIM115
    try:
        write_xlsx(handle, sheets)
    except BaseException:
        handle.close()
        raise
    handle.seek(0)
    return handle


# --- JSON ----------------------------------------------------------------------------


class _Encoder(json.JSONEncoder):
    def default(self, o: Any) -> Any:
        if isinstance(o, Decimal):
            return float(o)
        if isinstance(o, datetime):
            return o.isoformat()
        return super().default(o)


def report_json_bytes(report: UsageReport) -> bytes:
    return json.dumps(report.as_dict(), cls=_Encoder, ensure_ascii=False).encode("utf-8")


# --- One row per reservation ---------------------------------------------------------

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
DETAIL_COLUMN_SPECS = [Column(name, DETAIL_KINDS.get(name, "text")) for name in DETAIL_COLUMNS]


def _quote(text: str, sep: str) -> str:
    """Quote a CSV cell the way the csv module does (QUOTE_MINIMAL)."""
    if sep in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


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
            e.pk: (e.code, e.name, e.site.name, e.category.name)
            for e in Equipment.objects.select_related("site", "category")
        }
        self.projects = {
            p.pk: (p.name, p.kind, p.partner_id, p.partner.name)
            for p in Project.objects.select_related("partner")
        }
        self.users = dict(get_user_model().objects.values_list("pk", "username"))
        self._times: dict[int, str] = {}
        self._hours: dict[int, str] = {}  # by microseconds
        self._money: dict[int, str] = {}  # by cents

    # Memoised pieces ------------------------------------------------------------------

    def when(self, seconds: int) -> str:
        text = self._times.get(seconds)
        if text is None:
            if len(self._times) > 100_000:
                self._times.clear()
            text = datetime.fromtimestamp(seconds, self.tz).isoformat()
            self._times[seconds] = text
        return text

    def fixed2(self, hundredths: int) -> str:
        return rounding.fixed2(hundredths, decimal_comma=self.comma)

    def hours_text(self, microseconds: int) -> str:
        text = self._hours.get(microseconds)
        if text is None:
            if len(self._hours) > 100_000:
                self._hours.clear()
            text = self.fixed2(rounding.hundredths_of_hours(microseconds))
            self._hours[microseconds] = text
        return text

    def money_text(self, cents: int) -> str:
        text = self._money.get(cents)
        if text is None:
            if len(self._money) > 100_000:
                self._money.clear()
            text = self.fixed2(cents)
            self._money[cents] = text
        return text

    def _csv_text(self, text: str) -> str:
        return _quote(neutralise(text), self.sep)

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
        lines = self.csv_lines(rows)
        while True:
            batch = list(islice(lines, BATCH))
            if not batch:
                return
            yield batch

    def _time_cell(self, cache: dict[str, str], seconds: str) -> str:
        if len(cache) > 100_000:
            cache.clear()
        text = cache[seconds] = self.when(int(seconds))
        return text

    def _tail(self, cache: dict[tuple[str, ...], str], key: tuple[str, ...]) -> str:
        """The figure cells: booked, used, billable hours, late, rate and amount."""
        if len(cache) > 100_000:
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

    def typed_row(self, raw: Sequence[Any]) -> list[Any]:
        """Numbers as numbers (hours and euros rounded as in the CSV), text unneutralised."""
        pk, start, end, status, eq, project, user, title, booked, used, billable, late, rate = raw
        e = self.equipment.get(eq, ("", "", "", ""))
        p = self.projects.get(project, ("", "", "", ""))
        h = rounding.hours_number

        return [
            pk,
            self.when(start),
            self.when(end),
            status,
            eq,
            e[0],
            e[1],
            e[2],
            e[3],
            p[2],
            p[3],
            project,
            p[0],
            p[1],
            self.users.get(user, ""),
            title,
            h(booked),
            h(used),
            h(billable),
            bool(late),
            rate / 100,
            rounding.euros_number(billable * rate),
        ]


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
    header = ("\ufeff" + sep.join(DETAIL_COLUMNS) + "\n").encode("utf-8")
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
    with transaction.atomic(), connection.cursor() as cursor:
        tune_for_full_reads()
        # psycopg binds the parameters client-side for COPY.
        with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT", params) as copy:
            for lines in _copy_lines(copy, formatter.csv_row_formatter()):
                yield "".join(lines).encode("utf-8")
                if on_rows is not None:
                    on_rows(len(lines))


_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_COPY_ESCAPE = re.compile(r"\\(.)")


def _copy_rows(copy: Iterable[Any]) -> Iterator[list[str]]:
    """Rows of COPY's text format: one line each, tab-separated, backslash escapes."""
    for lines in _copy_lines(copy, lambda fields: fields):
        yield from lines


def _copy_lines(copy: Iterable[Any], line: Callable[[list[str]], Any]) -> Iterator[list[Any]]:
    """Apply `line` to each row of COPY's text format, yielding batches of results.

    One loop for the whole stream (it runs once per reservation): PostgreSQL sends about
    a message per row, but a message may hold several rows or part of one.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    rest = ""
    batch: list[Any] = []
    for block in copy:
        text = rest + decoder.decode(block)
        lines = text.split("\n")
        rest = lines.pop()
        for one in lines:
            fields = one.split("\t")
            if "\\" in one:
                fields = [_COPY_ESCAPE.sub(_unescape, f) for f in fields]
            batch.append(line(fields))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _unescape(match: re.Match[str]) -> str:
    return _COPY_ESCAPES.get(match[1], match[1])


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
    iterator = iter(rows)
    first = True
    while True:
        batch = list(islice(iterator, BATCH))
        if not batch:
            break
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
    typed = (
        [int(v) if isinstance(v, bool) else v for v in formatter.typed_row(raw)] for raw in rows
    )
    return Sheet(title=_("Reservations"), columns=DETAIL_COLUMN_SPECS, rows=typed)
