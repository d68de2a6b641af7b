"""The managers' report page: the table, export links and three inline SVG charts."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
PARAMS = {"start": "2026-03-01", "end": "2026-11-01"}


def test_page_shows_table_exports_and_charts(client, scenario, frozen):
    client.force_login(scenario.campus.admin)
    response = client.get(reverse("reports:usage"), {**PARAMS, "group_by": "partner"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 3
    for name in ("Lycée Jean Zay", "Servier", "Université d&#x27;Orléans"):
        assert name in html
    # The totals row: 416 € and 18 h, localised.
    assert "416,00" in html or "416.00" in html
    assert "/api/v1/reports/usage/?start=2026-03-01&amp;end=2026-11-01&amp;group_by=partner" in (
        html
    )
    assert "format=xlsx" in html and "sep=%3B" in html and "detail=reservations" in html
    # Chart labels are text, in the page; nothing comes from elsewhere.
    assert "Servier" in html.split("<svg", 1)[1]
    assert not re.search(r'(src|href)="(https?:)?//', html)
    assert "<!DOCTYPE svg" not in html and "<?xml" not in html


def test_page_grouped_twice_and_by_kind(client, scenario, frozen):
    client.force_login(scenario.campus.admin)
    response = client.get(
        reverse("reports:usage"), {**PARAMS, "group_by": "equipment", "then": "month"}
    )
    assert response.status_code == 200
    table = _table(response.content.decode())
    # The table itself (the utilisation chart shows these on every page): both headers
    # and a row with the equipment and the month.
    assert "Équipement" in table and "Mois" in table
    assert re.search(r"<tr>\s*<t[hd][^>]*>[^<]*WL-HPLC-01[^<]*</t[hd]>\s*<td[^>]*>2026-06<", table)
    # And by project kind: only pedagogical reservations, so no Servier row.
    kind = client.get(
        reverse("reports:usage"), {**PARAMS, "group_by": "partner", "project_kind": "pedagogical"}
    )
    table = _table(kind.content.decode())
    assert "Lycée Jean Zay" in table and "Servier" not in table


def _table(html: str) -> str:
    start = html.index('<table class="list report">')
    return html[start : html.index("</table>", start)]


def test_referent_sees_their_partner_only(client, scenario, frozen):
    client.force_login(scenario.campus.referent)
    html = client.get(reverse("reports:usage"), PARAMS).content.decode()
    assert "Université d&#x27;Orléans" in html
    assert "Servier" not in html and "Lycée" not in html


def test_who_may_open_it(client, scenario):
    url = reverse("reports:usage")
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(scenario.campus.outsider)
    assert client.get(url).status_code == 403
    client.force_login(scenario.campus.eq_manager)
    assert client.get(url).status_code == 200


def test_bad_window_is_explained(client, scenario, frozen):
    client.force_login(scenario.campus.admin)
    response = client.get(reverse("reports:usage"), {"start": "2026-11-01", "end": "2026-03-01"})
    assert response.status_code == 400
    html = response.content.decode()
    # In French, named by the form's label, not the parameter's name.
    assert '<li class="error">Au (exclu) : La fin doit être postérieure au début.</li>' in html


def test_empty_window_draws_empty_charts(client, scenario, frozen):
    client.force_login(scenario.campus.admin)
    response = client.get(reverse("reports:usage"), {"start": "2020-01-01", "end": "2020-02-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<svg") == 3
    # Said in the table and in each of the three charts.
    assert html.count("Aucune réservation sur cette période.") == 4
