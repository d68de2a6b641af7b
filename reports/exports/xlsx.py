"""XLSX: xlsxwriter in constant memory, numbers as numbers, text never a formula."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import IO, Any

from django.utils.translation import gettext as _
from xlsxwriter import utility

from ..services import UsageReport
from .cells import BATCH, FORMULA_STARTS, Column, neutralise, report_cells, report_columns

XLSX_MAX_ROWS = 1_048_576
# In a row's XML given by `Sheet.xml_rows`, where the row's number goes. Never in a cell's
# text: xlsxwriter writes control characters as _x0000_.
ROW = "\x00"
# Texts that `_RowWriter._text` writes as they are: no formula start (see neutralise), no
# character that xlsxwriter escapes (control characters, the non-characters U+FFFE and
# U+FFFF, `&`, `<`, `>`), no `_x` (as in its escapes _xHHHH_), no space at either end
# (xml:space="preserve"), and short enough to be under Excel's limit in UTF-16.
_NOT_PLAIN = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x|^\s|\s$")
_PLAIN_MAX = 32_767 // 2


@dataclass
class Sheet:
    title: str
    columns: Sequence[Column]
    rows: Iterable[Sequence[Any]]
    totals: Sequence[Any] | None = None  # written last, in bold
    # Instead of `rows`: the rows already as XML. Given the sheet's cell writer (its
    # `cell(col, value)` gives a cell's XML with ROW for the row's number), an iterator of
    # (a row's cells' XML, the index of its last cell); for long exports whose rows
    # repeat groups of cells (see DetailFormatter.xlsx_rows).
    xml_rows: Callable[[_RowWriter], Iterable[tuple[str, int]]] | None = None


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
        styles = [formats[k] for k in kinds]
        part = 1
        worksheet = _new_worksheet(workbook, sheet, part, bold)
        rows = _RowWriter(worksheet, styles)
        row_index = 1
        written = 0
        as_xml = sheet.xml_rows is not None
        source = sheet.xml_rows(rows) if sheet.xml_rows is not None else sheet.rows
        for cells in source:
            if row_index >= XLSX_MAX_ROWS:
                part += 1
                rows.finish()
                worksheet = _new_worksheet(workbook, sheet, part, bold)
                rows = _RowWriter(worksheet, styles)
                row_index = 1
            if as_xml:
                rows.write_xml(row_index, *cells)
            else:
                rows.write(row_index, cells)
            row_index += 1
            written += 1
            if on_rows is not None and written % BATCH == 0:
                on_rows(BATCH)
        rows.finish()
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


class _RowWriter:
    """Write data rows into a constant-memory worksheet as xlsxwriter would, without its
    per-cell path.

    Speed: `write_number()`/`write_string()` cost about 15 µs a cell (argument checks, a
    cell object, dimension checks, attribute escaping): 80% of a 4,200-row detail export.
    Here a row is one string format, with each distinct text's XML made once. The bytes
    are the ones xlsxwriter writes (tests/reports/test_exports.py compares them), so this
    leans on its constant-memory internals (`fh`, `previous_row`, `_write_single_row`,
    `_check_dimensions`): the test catches an upgrade that changes them.
    """

    def __init__(self, worksheet: Any, formats: Sequence[Any]) -> None:
        self.worksheet = worksheet
        self.formats = formats
        self.preserve = utility._preserve_whitespace
        # '<c r="B' and the style attribute's part, per column: the row number in between.
        self.prefixes = [f'<c r="{utility.xl_col_to_name(col)}' for col in range(len(formats))]
        # Known at a column's first number: xlsxwriter numbers the formats in the order
        # its cells first use them, and the same order keeps styles.xml the same.
        self.numbers: list[str | None] = [None] * len(formats)
        self.texts: dict[str, str] = {}
        self.last_row = -1
        self.last_col = -1
        self.pending: list[str] = []  # rows of `write_xml()` not yet written
        # Flush the header row (xlsxwriter's) first: it numbers the bold format first,
        # before any of ours (see `_style`).
        worksheet._write_single_row(1)

    def _text(self, value: str) -> str:
        """The inline string cell's end, after its reference; memoised (names repeat)."""
        xml = self.texts.get(value)
        if xml is None:
            if len(self.texts) > 100_000:  # bounded memory on long exports
                self.texts.clear()
            if (
                len(value) <= _PLAIN_MAX
                and value[:1] not in FORMULA_STARTS
                and not _NOT_PLAIN.search(value)
            ):
                # Nothing below would change it (most texts): written as it is.
                xml = self.texts[value] = f'" t="inlineStr"><is><t>{value}</t></is></c>'
                return xml
            worksheet = self.worksheet
            string = neutralise(value)
            most = worksheet.xls_strmax  # Excel's limit, in UTF-16 code units
            if len(string) > most // 2 and utility._utf16_len(string) > most:
                string = utility._utf16_truncate(string, most)
            string = worksheet._escape_control_characters(string)
            space = ' xml:space="preserve"' if self.preserve(string) else ""
            string = worksheet._escape_data(string)
            xml = self.texts[value] = f'" t="inlineStr"><is><t{space}>{string}</t></is></c>'
        return xml

    def _style(self, col: int) -> str:
        fmt = self.formats[col]
        style = self.numbers[col] = '"><v>' if fmt is None else f'" s="{fmt._get_xf_index()}"><v>'
        return style

    def cell(self, col: int, value: Any) -> str:
        """One cell's XML as `write()` writes it, with ROW for the row's number ("" for
        None)."""
        if value is None:
            return ""
        prefix = self.prefixes[col]
        if isinstance(value, str):
            return prefix + ROW + (self.texts.get(value) or self._text(value))
        if isinstance(value, bool):
            return f'{prefix}{ROW}" t="b"><v>{int(value)}</v></c>'
        style = self.numbers[col] or self._style(col)
        return f"{prefix}{ROW}{style}{float(value):.16G}</v></c>"

    def write_xml(self, row: int, xml: str, last: int) -> None:
        """Write a row given as its cells' XML (from `cell()`), `last` its last cell's
        column."""
        worksheet = self.worksheet
        if row > worksheet.previous_row:
            worksheet._write_single_row(row)
        if last < 0:
            return
        number = str(row + 1)
        pending = self.pending
        pending.append(f'<row r="{number}">{xml.replace(ROW, number)}</row>')
        if len(pending) >= 500:  # one write per 500 rows
            worksheet.fh.write("".join(pending))
            pending.clear()
        self.last_row = row
        if last > self.last_col:
            self.last_col = last

    def write(self, row: int, cells: Sequence[Any]) -> None:
        worksheet = self.worksheet
        if row > worksheet.previous_row:
            worksheet._write_single_row(row)
        number = str(row + 1)
        parts = [f'<row r="{number}">']
        append = parts.append
        prefixes, numbers, texts = self.prefixes, self.numbers, self.texts
        last = -1
        # Hot loop (a cell at a time, millions on a long export): no call but the memo's.
        for col, value in enumerate(cells):
            if value is None:
                continue
            last = col
            if isinstance(value, str):
                append(prefixes[col] + number + (texts.get(value) or self._text(value)))
            elif isinstance(value, bool):
                append(f'{prefixes[col]}{number}" t="b"><v>{int(value)}</v></c>')
            else:
                style = numbers[col] or self._style(col)
                append(f"{prefixes[col]}{number}{style}{float(value):.16G}</v></c>")
        if last < 0:
            return  # xlsxwriter writes no element for a row without cells
        append("</row>")
        worksheet.fh.write("".join(parts))
        self.last_row = row
        if last > self.last_col:
            self.last_col = last

    def finish(self) -> None:
        """Tell the worksheet how far the rows went (its <dimension> element), and which
        row had cells last, as its own write_*() would have."""
        if self.pending:
            self.worksheet.fh.write("".join(self.pending))
            self.pending.clear()
        if self.last_row >= 0:
            self.worksheet.previous_row = self.last_row
            self.worksheet._check_dimensions(self.last_row, self.last_col)


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
