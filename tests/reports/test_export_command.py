"""`manage.py export_usage`: the same reports as the API, to a file."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.management import CommandError, call_command
from openpyxl import load_workbook

from reports import exports

from .conftest import ORLEANS, TOTALS, as_json

pytestmark = pytest.mark.django_db
WINDOW = ["--start", "2026-03-01", "--end", "2026-11-01"]


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    call_command("export_usage", *WINDOW, *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_json_csv_and_xlsx_per_partner(scenario, frozen, tmp_path):
    target = tmp_path / "usage.json"
    out, err = run("--group-by", "partner", "--format", "json", "--output", str(target))
    assert out.startswith("3 ") and str(target) in out
    assert err == ""  # no progress bar without a terminal
    body = json.loads(target.read_text())
    assert body["totals"] == as_json(TOTALS)
    assert body["rows"][2]["partner"]["name"] == "Université d'Orléans"
    assert {k: v for k, v in body["rows"][2].items() if k != "partner"} == as_json(ORLEANS)

    target = tmp_path / "usage.csv"
    run("--group-by", "partner", "--format", "csv", "--sep", ";", "-o", str(target))
    rows = list(csv.reader(io.StringIO(target.read_text("utf-8-sig")), delimiter=";"))
    assert rows[-1][2:4] == ["9", "18,00"]  # totals: reservations, booked hours

    target = tmp_path / "usage.xlsx"
    run("--group-by", "partner", "--format", "xlsx", "-o", str(target))
    sheet = load_workbook(target).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert values[-1][:4] == ["Total", None, 9, 18.0]


def test_detail_export_with_progress(scenario, frozen, tmp_path, monkeypatch):
    target = tmp_path / "reservations.csv"
    monkeypatch.setattr("sys.stderr.isatty", lambda: True, raising=False)
    err = io.StringIO()
    err.isatty = lambda: True  # type: ignore[method-assign]
    monkeypatch.setattr("sys.stderr", err)
    out = io.StringIO()
    call_command(
        "export_usage", *WINDOW, "--detail", "--format", "csv", "-o", str(target), stdout=out
    )
    lines = list(csv.reader(io.StringIO(target.read_text("utf-8-sig"))))
    assert lines[0] == [c.header for c in exports.DETAIL_COLUMN_SPECS]
    assert len(lines) == 1 + 12  # A to M but the rejected L
    assert out.getvalue().startswith("12 ")  # "12 rows written to …"
    assert "reservations.csv" in err.getvalue()  # the bar, on the terminal

    quiet = tmp_path / "quiet.xlsx"
    err.truncate(0)
    call_command(
        "export_usage",
        *WINDOW,
        "--detail",
        "--format",
        "xlsx",
        "--no-progress",
        "-o",
        str(quiet),
        stdout=io.StringIO(),
    )
    assert err.getvalue() == ""
    sheet = load_workbook(quiet).worksheets[0]
    assert sheet.max_row == 13


def test_bad_arguments(scenario, tmp_path):
    with pytest.raises(CommandError, match="group_by"):
        run("--group-by", "colour", "-o", str(tmp_path / "x.csv"))
    with pytest.raises(CommandError, match="end"):
        call_command(
            "export_usage",
            "--start",
            "2026-03-01",
            "--end",
            "2026-01-01",
            "--group-by",
            "partner",
            "-o",
            str(tmp_path / "x.csv"),
            stdout=io.StringIO(),
        )
    with pytest.raises(CommandError):
        run("--group-by", "partner", "-o", str(tmp_path / "missing" / "x.csv"))
