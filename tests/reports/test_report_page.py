"""The managers' report page: presets, the table in the page's language, export links and
inline SVG charts that follow the grouping."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
PARAMS = {"start": "2026-03-01", "end": "2026-11-01"}


def test_page_shows_table_exports_and_charts(client, scenario, frozen):
    client.force_login(scenario.campus.admin)
    response = client.get(reverse("reports:usage"), {**PARAMS, "group_by": "partner"})
    assert response.status_code == 200
    html = response.content.decode()
    # By partner: hours and amounts (no utilisation, which is the equipment's).
    assert html.count("<svg") == 2
    for name in ("Lycée Jean Zay", "Servier", "Université d&#x27;Orléans"):
        assert name in html
    # The totals row: 416 € and 18 h, in French.
    assert '<td class="num">416,00\xa0€</td>' in _table(html)
    assert '<td class="num">18,00</td>' in _table(html)
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
    assert re.search(
        r"<tr>\s*<t[hd][^>]*>[^<]*WL-HPLC-01[^<]*</t[hd]>\s*<td[^>]*>juin 2026<", table
    )
    assert "2026-06" not in table
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
    assert html.count("<svg") == 2
    # Said in the table and in each of the two charts (hours and amounts per partner).
    assert html.count("Aucune réservation sur cette période.") == 3


def _presets(html: str) -> dict[str, str]:
    """The preset links of the page: their label and their query string."""
    nav = html[
        html.index('<nav class="presets"') : html.index("</nav>", html.index('class="presets"'))
    ]
    return {
        label.strip(): unescape(href)
        for href, label in re.findall(
            r'<a class="button[^"]*" href="([^"]+)"[^>]*>([^<]+)</a>', nav
        )
    }


def test_presets_fill_the_window_and_keep_the_grouping(client, scenario, frozen):
    client.force_login(scenario.campus.admin)
    response = client.get(
        reverse("reports:usage"), {**PARAMS, "group_by": "equipment", "then": "month"}
    )
    links = _presets(response.content.decode())
    keep = "group_by=equipment&then=month"
    # Seen on 15 November 2026: this month, last month, this year, last academic year.
    assert list(links.values()) == [
        f"?start=2026-11-01&end=2026-12-01&{keep}",
        f"?start=2026-10-01&end=2026-11-01&{keep}",
        f"?start=2026-01-01&end=2027-01-01&{keep}",
        f"?start=2025-09-01&end=2026-09-01&{keep}",
    ]
    # A preset link opens its window.
    last_month = client.get(reverse("reports:usage") + list(links.values())[1])
    assert last_month.status_code == 200
    html = last_month.content.decode()
    assert 'aria-current="true"' in html
    assert re.search(r'class="button current" href="[^"]*start=2026-10-01', html)


def test_presets_in_january_reach_back_into_last_year(client, scenario, monkeypatch):
    # 31 December 2026 23:30 UTC is already 1 January 2027 in Paris.
    monkeypatch.setattr(
        "django.utils.timezone.now", lambda: datetime(2026, 12, 31, 23, 30, tzinfo=UTC)
    )
    client.force_login(scenario.campus.admin)
    html = client.get(reverse("reports:usage")).content.decode()
    windows = [
        re.search(r"start=([\d-]+)&end=([\d-]+)", query).groups()
        for query in _presets(html).values()
    ]
    assert windows == [
        ("2027-01-01", "2027-02-01"),
        ("2026-12-01", "2027-01-01"),
        ("2027-01-01", "2028-01-01"),
        ("2025-09-01", "2026-09-01"),
    ]


def _charts(html: str) -> list[str]:
    return re.findall(r"<figure class=\"card chart[^\"]*\"[^>]*>(.*?)</figure>", html, re.S)


def _titles(chart: str) -> str:
    """The chart's text (matplotlib writes every label as a <text> element)."""
    return " ".join(re.findall(r"<text[^>]*>([^<]*)</text>", chart))


@pytest.mark.parametrize(
    ("group_by", "then", "count", "inside", "absent"),
    [
        # Hours and amounts per partner, named.
        ("partner", "", 2, ["Servier", "Lycée Jean Zay"], ["WL-HPLC-01", "Taux d"]),
        # Per project kind, by their labels.
        ("project_kind", "", 2, ["Pédagogique", "Industriel"], ["Servier"]),
        # Per equipment: utilisation too.
        ("equipment", "", 3, ["WL-HPLC-01", "TO-RHEO-01", "Taux d"], ["Servier"]),
        # Per month: months in words, never as "2026-06".
        ("month", "", 2, ["juin 2026", "mars 2026"], ["2026-06", "Servier"]),
        # Two dimensions: booked, used hours and amounts stacked by the second.
        ("partner", "month", 3, ["Servier", "juin 2026"], ["2026-06"]),
        # With equipment: and a heat map of utilisation.
        ("equipment", "month", 4, ["WL-HPLC-01", "octobre 2026", "Taux d"], ["2026-10"]),
    ],
)
def test_charts_follow_the_grouping(
    client, scenario, frozen, group_by, then, count, inside, absent
):
    client.force_login(scenario.campus.admin)
    params = {**PARAMS, "group_by": group_by, "then": then}
    html = client.get(reverse("reports:usage"), params).content.decode()
    charts = _charts(html)
    assert len(charts) == count
    text = unescape(" ".join(_titles(chart) for chart in charts))
    for name in inside:
        assert name in text
    for name in absent:
        assert name not in text


def test_page_in_english(client, scenario, frozen):
    client.force_login(scenario.campus.admin)
    response = client.get(
        reverse("reports:usage"),
        {**PARAMS, "group_by": "equipment", "then": "month"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    table = _table(response.content.decode())
    assert "June 2026" in table
    # Thousands grouped: the open hours of two equipment over eight months.
    assert re.search(r'<td class="num">\d,\d{3}\.\d\d</td>', table)
    assert '<td class="num">416.00\xa0€</td>' in table
    text = " ".join(_titles(chart) for chart in _charts(response.content.decode()))
    assert "June 2026" in text and "Booked hours" in text


def test_thousands_grouped_in_french(client, scenario, frozen):
    client.force_login(scenario.campus.admin)
    response = client.get(reverse("reports:usage"), {**PARAMS, "group_by": "equipment"})
    table = _table(response.content.decode())
    assert re.search(r'<td class="num">\d\xa0\d{3},\d\d</td>', table)


def test_idle_equipment_on_the_page(client, scenario, frozen):
    client.force_login(scenario.campus.admin)
    # In 2020 nothing was booked: both equipment show, with zeros.
    window = {"start": "2020-01-01", "end": "2020-02-01", "group_by": "equipment"}
    table = _table(client.get(reverse("reports:usage"), window).content.decode())
    for code in ("WL-HPLC-01", "TO-RHEO-01"):
        row = re.search(rf"<tr>\s*<td>{code}</td>(.*?)</tr>", table, re.S)
        assert row is not None
        cells = re.findall(r'<td class="num">([^<]*)</td>', row.group(1))
        assert cells[1] == "0,00" and cells[-1] == "0,0\xa0%"
