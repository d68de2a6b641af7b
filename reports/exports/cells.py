"""Cells of the exports: formula neutralising, typed columns of a report, CSV text."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any, TypeVar

from django.utils.translation import gettext as _

from ..labels import FIGURE_KINDS, column_header
from ..services import UsageReport

FORMULA_STARTS = frozenset("=+-@\t\r")
BATCH = 2000  # rows per chunk of a streamed export
T = TypeVar("T")


def batches(items: Iterable[T]) -> Iterator[list[T]]:
    """The items in lists of BATCH (the last one shorter), read only as they are needed."""
    iterator = iter(items)
    while batch := list(islice(iterator, BATCH)):
        yield batch


def neutralise(text: str) -> str:
    """Make a text cell harmless in a spreadsheet: a formula-like start gets a quote."""
    if text and text[0] in FORMULA_STARTS:
        return "'" + text
    return text


@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # "int", "text", "hours" (2 decimals), "money" (2 decimals), "ratio" (4)

    @property
    def header(self) -> str:
        """The column's name in words, in the active language, for people's files."""
        return column_header(self.name)


_FIGURE_KINDS = FIGURE_KINDS


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


def csv_quote(text: str, sep: str) -> str:
    """Quote a CSV cell the way the csv module does (QUOTE_MINIMAL)."""
    if sep in text or '"' in text or "\n" in text or "\r" in text:
        return '"' + text.replace('"', '""') + '"'
    return text
