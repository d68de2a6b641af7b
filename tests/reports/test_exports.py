"""Export helpers: neutralising formula-like text, quoting, PostgreSQL COPY parsing, and
XLSX sheets that go on past Excel's row limit."""

from __future__ import annotations

import csv
import io
import zipfile
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from reports import exports


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+33 6 12", "'+33 6 12"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("Chaîne HPLC = 1", "Chaîne HPLC = 1"),
        ("", ""),
    ],
)
def test_neutralise(text, expected):
    assert exports.neutralise(text) == expected


def test_copy_rows_reads_escapes_and_blocks_cut_anywhere():
    text = "1\tTab\\there\t\\\\back\n2\tNew\\nline é\tx\n"
    data = text.encode("utf-8")
    # Cut inside the two-byte "é" and inside an escape.
    cut = data.index("é".encode()) + 1
    blocks = [data[:5], data[5:cut], data[cut:]]
    assert list(exports._copy_rows(blocks)) == [
        ["1", "Tab\there", "\\back"],
        ["2", "New\nline é", "x"],
    ]


def test_detail_csv_lines_quote_like_the_csv_module(db):
    formatter = exports.DetailFormatter(sep=";")
    row = (
        "7",
        "1767254400",
        "1767258000",
        "completed",
        "99",
        "98",
        "97",
        '=A1;"x"\nz',
        "5400000000",
        "0",
        "5400000000",
        "1",
        "3050",
    )
    (line,) = formatter.csv_lines([row])
    (cells,) = list(csv.reader(io.StringIO(line), delimiter=";"))
    assert cells[0:4] == [
        "7",
        "2026-01-01T09:00:00+01:00",
        "2026-01-01T10:00:00+01:00",
        "completed",
    ]
    assert cells[15] == '\'=A1;"x"\nz'
    # 1.5 h, 0 h, 1.5 h, late, 30.50 €/h, 45.75 € (decimal commas)
    assert cells[16:] == ["1,50", "0,00", "1,50", "1", "30,50", "45,75"]


def test_xlsx_goes_on_over_further_sheets(monkeypatch, tmp_path):
    monkeypatch.setattr(exports.xlsx, "XLSX_MAX_ROWS", 3)  # where write_xlsx reads it
    target = tmp_path / "long.xlsx"
    sheet = exports.Sheet(
        title="Usage",
        columns=[exports.Column("n", "int"), exports.Column("t", "text")],
        rows=[[n, f"={n}"] for n in range(5)],
        totals=["Total", None],
    )
    exports.write_xlsx(str(target), [sheet])
    book = load_workbook(target)  # not read-only: that mode keeps the file open
    assert book.sheetnames == ["Usage", "Usage (2)", "Usage (3)"]
    values = [list(r) for ws in book.worksheets for r in ws.iter_rows(values_only=True)]
    assert values == [
        ["n", "t"],
        [0, "'=0"],
        [1, "'=1"],
        ["n", "t"],
        [2, "'=2"],
        [3, "'=3"],
        ["n", "t"],
        [4, "'=4"],
        ["Total", None],
    ]
    # Text is never a formula.
    cell = load_workbook(target).worksheets[0]["B2"]
    assert cell.data_type == "s"


class _CellByCell:
    """The reference row writer: every cell through xlsxwriter's own write_*() methods."""

    def __init__(self, worksheet, formats):
        self.worksheet = worksheet
        self.formats = formats

    def write(self, row, cells):
        for col, value in enumerate(cells):
            if value is None:
                continue
            if isinstance(value, str):
                self.worksheet.write_string(row, col, exports.neutralise(value))
            elif isinstance(value, bool):
                self.worksheet.write_boolean(row, col, value)
            else:
                self.worksheet.write_number(row, col, float(value), self.formats[col])

    def finish(self):
        pass


def test_xlsx_rows_are_the_bytes_xlsxwriter_writes(monkeypatch, tmp_path):
    """The fast row writer leans on xlsxwriter's internals: same XML as its own cells."""
    columns = [
        exports.Column("id", "int"),
        exports.Column("name", "text"),
        exports.Column("hours", "hours"),
        exports.Column("rate", "money"),
        exports.Column("ratio", "ratio"),
        exports.Column("late", "int"),
    ]
    texts = ["Chaîne HPLC", 'a & b <c> "d"', " lead", "trail ", "=1+1", "", "x\x01y",
             "_x0041_", "line\nbreak", "😀 ünïcode", "-5", "x" * 40_000]  # fmt: skip
    rows = [
        [n, texts[n % len(texts)], n / 7, Decimal("30.50"), 1 / 3 * n, bool(n % 2)]
        for n in range(40)
    ]
    rows += [[None, "only text", None, None, None, None], [None] * 6, [1e16, None, 0, -1.5, 2, 3]]
    rows += [[None] * 6, [None] * 6]  # trailing rows without cells: no element, no dimension

    def written(target):
        sheets = [
            exports.Sheet(title="Usage", columns=columns, rows=rows, totals=["Total", None]),
            exports.Sheet(title="Empty", columns=columns, rows=[]),
            exports.Sheet(title="Blank", columns=columns, rows=[[None] * 6]),
        ]
        exports.write_xlsx(str(target), sheets)
        with zipfile.ZipFile(target) as archive:
            # core.xml holds the time of creation.
            return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}

    fast = written(tmp_path / "fast.xlsx")
    monkeypatch.setattr(exports.xlsx, "_RowWriter", _CellByCell)
    reference = written(tmp_path / "reference.xlsx")
    assert b'<c r="B3"' in fast["xl/worksheets/sheet1.xml"]
    assert fast.keys() == reference.keys()
    for name in fast:
        assert fast[name] == reference[name], name


def test_detail_xlsx_rows_are_the_bytes_of_the_typed_rows(campus, monkeypatch, tmp_path):
    """The detail sheet's rows made as XML, groups of cells memoised, against the same
    typed rows through the row writer (itself checked against xlsxwriter above)."""
    rheometer, hplc = campus.rheometer, campus.hplc
    project = campus.research
    user = campus.researcher
    titles = ["Chaîne HPLC", 'a & b <c> "d"', " lead", "trail ", "=1+1", "", "x\x01y",
              "_x0041_", "line\nbreak", "😀 ünïcode", "-5", "x" * 40_000, "tab\tin", "fin\n",
              "\ufffe", "+33"]  # fmt: skip
    statuses = ["completed", "cancelled", "no_show", "confirmed"]
    rows = []
    for n in range(60):
        start = 1_767_254_400 + 5400 * (n % 7)
        rows.append(
            (
                n + 1,
                start,
                start + 5400,
                statuses[n % 4],
                [rheometer.pk, hplc.pk, 999_999][n % 3],  # unknown equipment: empty cells
                [project.pk, campus.teaching.pk, 888_888][n % 3],
                [user.pk, campus.teacher.pk, 777_777][n % 3],
                titles[n % len(titles)],
                5_400_000_000 * (n % 2),
                4_500_000_000 if n % 5 else 0,
                5_400_000_000,
                n % 2,
                [3050, 500, 12_000][n % 3],
            )
        )

    def written(target, sheet):
        exports.write_xlsx(str(target), [sheet])
        with zipfile.ZipFile(target) as archive:
            return {n: archive.read(n) for n in archive.namelist() if n != "docProps/core.xml"}

    fast = written(tmp_path / "fast.xlsx", exports.detail_sheet(rows))
    formatter = exports.DetailFormatter()
    typed = [formatter.typed_row(raw, flag_as_number=True) for raw in rows]
    title = exports.detail_sheet([]).title
    reference = written(
        tmp_path / "reference.xlsx",
        exports.Sheet(title=title, columns=exports.DETAIL_COLUMN_SPECS, rows=typed),
    )
    assert b"Cha\xc3\xaene HPLC" in fast["xl/worksheets/sheet1.xml"]
    assert fast.keys() == reference.keys()
    for name in fast:
        assert fast[name] == reference[name], name
    # And both through xlsxwriter's own cells.
    monkeypatch.setattr(exports.xlsx, "_RowWriter", _CellByCell)
    slow = written(
        tmp_path / "slow.xlsx",
        exports.Sheet(title=title, columns=exports.DETAIL_COLUMN_SPECS, rows=typed),
    )
    for name in fast:
        assert fast[name] == slow[name], name


def test_detail_xlsx_goes_on_over_further_sheets(campus, monkeypatch, tmp_path):
    monkeypatch.setattr(exports.xlsx, "XLSX_MAX_ROWS", 3)
    rows = [
        (n, 1_767_254_400, 1_767_258_000, "completed", campus.hplc.pk, campus.research.pk,
         campus.researcher.pk, f"R{n}", 3_600_000_000, 0, 0, 0, 3050)
        for n in range(5)
    ]  # fmt: skip
    target = tmp_path / "long.xlsx"
    exports.write_xlsx(str(target), [exports.detail_sheet(rows)])
    book = load_workbook(target)
    title = exports.detail_sheet([]).title
    assert book.sheetnames == [title, f"{title} (2)", f"{title} (3)"]
    titles = [r[15] for ws in book.worksheets for r in ws.iter_rows(min_row=2, values_only=True)]
    assert titles == ["R0", "R1", "R2", "R3", "R4"]
