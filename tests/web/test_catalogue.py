"""The catalogue page (SPEC §8): search ignoring accents and case, filters by site,
category and "I am qualified", the pager keeping them."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.roles import SYSTEM
from equipment.models import Equipment
from equipment.services import (
    category_update,
    equipment_create,
    equipment_update,
    qualification_grant,
    site_update,
)

from .conftest import NOW

pytestmark = pytest.mark.django_db


def codes(client, query: str = "", **headers) -> list[str]:
    response = client.get(f"/equipment/?{query}", **headers)
    assert response.status_code == 200
    page = response.content.decode()
    return [item.code for item in Equipment.objects.order_by("code") if f">{item.code}</a>" in page]


@pytest.mark.parametrize(
    "query",
    ["rheometre", "RHÉOMÈTRE", "Rhéomètre", "rHeOmEtRe", "rhéometre anton", "cremes", "CRÈMES"],
)
def test_search_ignores_accents_and_case(client, campus, query):
    client.force_login(campus.teacher)
    assert codes(client, f"q={query}") == ["TO-RHEO-01"]


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("chaine", ["WL-HPLC-01"]),  # "Chaîne" in the name
        ("wl-hplc", ["WL-HPLC-01"]),  # the code
        ("orleans", ["WL-HPLC-01"]),  # the site's city, "Orléans"
        ("rheologie", ["TO-RHEO-01"]),  # the category, "Rhéologie"
        ("plateau tours", ["TO-RHEO-01"]),  # every word, anywhere
        ("hplc rheometre", []),
        ("100%", []),  # LIKE's wildcards are plain characters
        ("_", []),
    ],
)
def test_search_reads_every_word_of_the_equipment_its_site_and_category(
    client, campus, query, found
):
    client.force_login(campus.teacher)
    assert codes(client, f"q={query}") == found


def test_search_follows_renames(client, campus):
    client.force_login(campus.teacher)
    equipment_update(actor=SYSTEM, equipment=campus.hplc, name="Système Œuvre Ü", room="Salle Été")
    assert codes(client, "q=oeuvre") == ["WL-HPLC-01"]
    assert codes(client, "q=SYSTEME ete u") == ["WL-HPLC-01"]
    assert codes(client, "q=chaine") == []
    site_update(actor=SYSTEM, site=campus.other_site, name="Pôle Santé", city="Châteauroux")
    assert codes(client, "q=pole sante") == ["TO-RHEO-01"]
    assert codes(client, "q=chateauroux") == ["TO-RHEO-01"]
    category_update(actor=SYSTEM, category=campus.chroma, name="Séparation")
    assert codes(client, "q=separation") == ["WL-HPLC-01"]


def test_site_and_category_filters(client, campus):
    client.force_login(campus.teacher)
    assert codes(client, f"site={campus.site.pk}") == ["WL-HPLC-01"]
    assert codes(client, f"category={campus.rheo.pk}") == ["TO-RHEO-01"]
    assert codes(client, f"site={campus.site.pk}&category={campus.rheo.pk}") == []
    # An unknown or unreadable filter is left out: the page still lists.
    assert codes(client, "site=999999&category=x") == ["TO-RHEO-01", "WL-HPLC-01"]
    page = client.get(f"/equipment/?site={campus.site.pk}").content.decode()
    assert f'<option value="{campus.site.pk}" selected>We Lab</option>' in page


def test_i_am_qualified_keeps_what_i_may_use(client, campus):
    """The HPLC needs a qualification, the rheometer does not."""
    client.force_login(campus.researcher)
    assert codes(client, "qualified=on") == ["TO-RHEO-01"]
    # An expired qualification does not count; a valid one (until today included) does.
    today = NOW.date()
    qualification_grant(
        actor=SYSTEM,
        user=campus.researcher,
        equipment=campus.hplc,
        valid_until=today - timedelta(days=1),
    )
    assert codes(client, "qualified=on") == ["TO-RHEO-01"]
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=today
    )
    assert codes(client, "qualified=on") == ["TO-RHEO-01", "WL-HPLC-01"]
    page = client.get("/equipment/?qualified=on").content.decode()
    assert 'name="qualified"' in page and "checked" in page
    # The checkbox is described by its help text, which is on the page.
    assert 'aria-describedby="id_qualified_helptext"' in page
    assert 'id="id_qualified_helptext"' in page
    # Someone else's qualification is not mine.
    client.force_login(campus.teacher)
    assert codes(client, "qualified=on") == ["TO-RHEO-01"]
    assert codes(client) == ["TO-RHEO-01", "WL-HPLC-01"]


def test_the_pager_keeps_the_search_and_filters(client, campus):
    for n in range(31):
        equipment_create(
            actor=SYSTEM,
            code=f"TO-VISCO-{n:02d}",
            name=f"Viscosimètre {n}",
            category=campus.rheo,
            site=campus.other_site,
        )
    client.force_login(campus.teacher)
    page = client.get(
        f"/equipment/?q=viscosimetre&site={campus.other_site.pk}&qualified=on",
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert "31 equipment" in page
    assert (
        f'href="?q=viscosimetre&amp;site={campus.other_site.pk}&amp;qualified=on&amp;page=2"'
        in page
    )
    second = codes(client, f"q=viscosimetre&site={campus.other_site.pk}&qualified=on&page=2")
    assert second == ["TO-VISCO-30"]


def test_catalogue_costs_a_fixed_number_of_queries(client, campus, django_assert_max_num_queries):
    client.force_login(campus.researcher)
    client.get("/equipment/")
    with django_assert_max_num_queries(12) as first:
        client.get("/equipment/?q=rheometre&qualified=on")
    for n in range(5):
        equipment_create(
            actor=SYSTEM,
            code=f"WL-PH-{n}",
            name="pH-mètre",
            category=campus.chroma,
            site=campus.site,
            requires_qualification=bool(n % 2),
        )
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get("/equipment/?q=metre&qualified=on")
