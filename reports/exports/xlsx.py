"""XLSX: xlsxwriter in constant memory, numbers as numbers, text never a formula."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.utils.translation import gettext as _

from ..services import UsageReport
from .cells import BATCH, Column, neutralise, report_cells, report_columns

XLSX_MAX_ROWS = 1_048_576


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
        worksheet.write_string(0, index, column.header, bold)
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
