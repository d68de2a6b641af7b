"""The catalogue page (SPEC §8): search ignoring accents and case, filters by site,
category and "I am qualified", the pager keeping them."""

from __future__ import annotations

import re
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
from reservations.models import Closure, Reservation

from .conftest import NOW, WED, at, local

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
    assert re.search(r'name="qualified"[^>]*\bchecked', page)
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


def test_free_filter_finds_free_equipment_and_hides_busy_closed_inactive_and_shut(
    client, campus, book
):
    """Times are read in Europe/Paris, as the API's free filter reads them."""
    book(campus.researcher, campus.open_research, campus.rheometer, WED, "10:00", "12:00")
    closed = equipment_create(
        actor=SYSTEM, code="TO-RHEO-02", name="R2", category=campus.rheo, site=campus.other_site
    )
    Closure.objects.create(equipment=closed, start=at(WED, "09:00"), end=at(WED, "13:00"))
    broken = equipment_create(
        actor=SYSTEM, code="WL-X-01", name="X", category=campus.chroma, site=campus.site
    )
    equipment_update(actor=SYSTEM, equipment=broken, status="maintenance")
    client.force_login(campus.outsider)

    def free(start: str, end: str, more: str = "") -> list[str]:
        return codes(client, f"free_from={local(WED, start)}&free_to={local(WED, end)}{more}")

    assert free("10:00", "12:00") == ["WL-HPLC-01"]
    assert free("11:30", "12:30") == ["WL-HPLC-01"]  # overlapping the booking is busy
    assert free("14:00", "16:00") == ["TO-RHEO-01", "TO-RHEO-02", "WL-HPLC-01"]
    assert free("20:00", "22:00") == []  # out of opening hours
    # The other filters still apply.
    assert free("14:00", "16:00", f"&site={campus.other_site.pk}") == ["TO-RHEO-01", "TO-RHEO-02"]
    assert free("14:00", "16:00", "&q=hplc") == ["WL-HPLC-01"]
    # Without the window every equipment is listed.
    assert codes(client) == ["TO-RHEO-01", "TO-RHEO-02", "WL-HPLC-01", "WL-X-01"]
    page = client.get(
        f"/equipment/?free_from={local(WED, '14:00')}&free_to={local(WED, '16:00')}",
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert '<label for="id_free_from">Free from</label>' in page
    assert f'value="{local(WED, "14:00")}"' in page


def test_free_filter_hides_equipment_of_a_closed_site(client, campus):
    Closure.objects.create(site=campus.site, start=at(WED, "00:00"), end=at(WED, "23:59"))
    client.force_login(campus.teacher)
    assert codes(client, f"free_from={local(WED, '10:00')}&free_to={local(WED, '12:00')}") == [
        "TO-RHEO-01"
    ]


def test_a_no_show_frees_its_slot_in_the_free_filter(client, campus, book, monkeypatch):
    """Past its check-in grace a booking is a no-show: it is recorded before filtering."""
    equipment_update(actor=SYSTEM, equipment=campus.rheometer, requires_check_in=True)
    booking = book(campus.researcher, campus.open_research, campus.rheometer, WED, "10:00", "12:00")
    client.force_login(campus.teacher)
    window = f"free_from={local(WED, '10:30')}&free_to={local(WED, '11:30')}"
    assert codes(client, window) == ["WL-HPLC-01"]
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(WED, "10:45"))
    assert codes(client, window) == ["TO-RHEO-01", "WL-HPLC-01"]
    assert Reservation.objects.get(pk=booking.reservations[0].pk).status == "no_show"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (
            f"free_from={local(WED, '12:00')}&free_to={local(WED, '10:00')}",
            "free_to",
            "The end must come after the start.",
        ),
        (
            f"free_from={local(WED, '12:00')}&free_to={local(WED, '12:00')}",
            "free_to",
            "The end must come after the start.",
        ),
        (
            "free_from=tomorrow&free_to=" + local(WED, "10:00"),
            "free_from",
            "Enter a date and time.",
        ),
        (f"free_from={local(WED, '12:00')}", "free_to", "Give the end of the period too."),
        (f"free_to={local(WED, '12:00')}", "free_from", "Give the start of the period too."),
    ],
)
def test_a_wrong_free_window_is_shown_next_to_its_field_and_left_out(
    client, campus, query, field, message
):
    client.force_login(campus.teacher)
    response = client.get(f"/equipment/?{query}", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'<span class="error" id="id_{field}_error">{message}</span>' in page
    assert codes(client, query) == ["TO-RHEO-01", "WL-HPLC-01"]


def test_free_filter_costs_a_fixed_number_of_queries(
    client, campus, book, django_assert_max_num_queries
):
    client.force_login(campus.researcher)
    window = f"free_from={local(WED, '09:00')}&free_to={local(WED, '17:00')}&qualified=on"
    client.get(f"/equipment/?{window}")
    with django_assert_max_num_queries(16) as first:
        client.get(f"/equipment/?{window}")
    for n in range(6):
        item = equipment_create(
            actor=SYSTEM,
            code=f"WL-PH-{n}",
            name="pH-mètre",
            category=campus.chroma,
            site=campus.site,
            requires_qualification=n % 3 == 2,
        )
        if n % 3 == 0:
            book(campus.researcher, campus.open_research, item, WED, "10:00", "11:00")
        if n % 3 == 1:
            Closure.objects.create(equipment=item, start=at(WED, "08:00"), end=at(WED, "18:00"))
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert client.get(f"/equipment/?{window}").status_code == 200
