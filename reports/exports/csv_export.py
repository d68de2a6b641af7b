"""CSV: UTF-8 with a byte order mark, written in chunks of a few thousand rows."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from ..services import UsageReport
from .cells import batches, csv_cell, report_cells, report_columns


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
    for batch in batches(rows):
        buffer.seek(0)
        buffer.truncate(0)
        writer.writerows(batch)
        yield buffer.getvalue().encode("utf-8")
        if on_rows is not None:
            on_rows(len(batch))


def report_csv_chunks(report: UsageReport, *, sep: str = ",") -> Iterator[bytes]:
    comma = sep == ";"
    rows, totals = report_cells(report)
    rows = [[csv_cell(v, comma) for v in cells] for cells in [*rows, totals]]
    return csv_chunks([c.header for c in report_columns(report)], rows, sep=sep)
