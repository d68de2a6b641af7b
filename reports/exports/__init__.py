"""Report exports: JSON, CSV and XLSX, written row by row in constant memory.

- CSV is UTF-8 with a byte order mark (so that Excel reads the accents), `,` between
  cells and `.` in decimals by default; `sep=;` is the French spreadsheet dialect, with a
  decimal comma as well, so that French Excel and LibreOffice read numbers as numbers.
- XLSX is written by xlsxwriter in `constant_memory` mode into a temporary file that is
  then streamed; numbers are numbers, text is always written as a string, never a formula.
- Headers are in words, in the language of the request (CSV and XLSX are for people);
  JSON keeps the field names, for programs.
  Hours have 2 decimals, euros 2, utilisation 4, in every format.
- Text cells starting with `=`, `+`, `-`, `@`, a tab or a carriage return are neutralised
  in CSV and XLSX with a leading `'` (OWASP's advice against formula injection): a
  spreadsheet shows them as text and never evaluates them. JSON keeps the text as is.

The package, by job: `cells` (neutralising, columns, CSV cells), `csv`, `xlsx`, `json`
(the grouped report), `detail` (one row per reservation) and `copy_text` (reading
PostgreSQL's COPY output); rounding is `reports.rounding`. Import from `reports.exports`.
"""

from __future__ import annotations

from ..services import DETAIL_COLUMNS
from .cells import (
    BATCH,
    FORMULA_STARTS,
    Column,
    csv_cell,
    csv_quote,
    neutralise,
    report_cells,
    report_columns,
)
from .copy_text import copy_lines, copy_rows
from .csv_export import csv_chunks, report_csv_chunks
from .detail import (
    DETAIL_COLUMN_SPECS,
    DETAIL_KINDS,
    DetailFormatter,
    detail_csv_chunks,
    detail_json_chunks,
    detail_sheet,
)
from .json_export import report_json_bytes
from .xlsx import XLSX_MAX_ROWS, Sheet, report_sheet, write_xlsx, xlsx_tempfile

_copy_rows = copy_rows  # the name the tests know

__all__ = [
    "BATCH",
    "DETAIL_COLUMNS",
    "DETAIL_COLUMN_SPECS",
    "DETAIL_KINDS",
    "FORMULA_STARTS",
    "XLSX_MAX_ROWS",
    "Column",
    "DetailFormatter",
    "Sheet",
    "copy_lines",
    "copy_rows",
    "csv_cell",
    "csv_chunks",
    "csv_quote",
    "detail_csv_chunks",
    "detail_json_chunks",
    "detail_sheet",
    "neutralise",
    "report_cells",
    "report_columns",
    "report_csv_chunks",
    "report_json_bytes",
    "report_sheet",
    "write_xlsx",
    "xlsx_tempfile",
]
