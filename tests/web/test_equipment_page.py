"""An equipment's page: its week calendar (busy time by priority, closures), week links,
its iCalendar subscription link and the Book button."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from django.conf import settings

from equipment.models import Equipment
from partners.models import FeedToken
from reservations.services import closure_create

from .conftest import NOW, PARIS, WED, at

pytestmark = pytest.mark.django_db


def page_of(client, user, equipment, query: str = "", **headers) -> str:
    client.force_login(user)
    response = client.get(f"/equipment/{equipment.pk}/{query}", **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_week_calendar_shows_busy_time_and_closures(client, campus, qualified, book):
    book(
        campus.researcher,
        campus.research,
        campus.hplc,
        WED,
        "10:00",
        "12:00",
        title="Dosage confidentiel",
    )
    book(campus.industrial, campus.confidential, campus.hplc, WED, "14:00", "16:00")
    closure_create(
        user=campus.admin,
        equipment=campus.hplc,
        start=at(WED, "17:00"),
        end=at(WED, "19:00"),
        reason="Nettoyage",
        now=NOW,
    )
    page = page_of(client, campus.outsider, campus.hplc, f"?week={WED}")
    found = re.findall(r'<span class="block ([^"]*)" style="(top:[^"]*)"', page)
    assert found == [
        ("block-reservation prio-research", "top:18.182%;height:18.182%"),
        ("block-reservation prio-industrial pending", "top:54.545%;height:18.182%"),
        ("block-closure", "top:81.818%;height:18.182%"),
    ]
    assert "Dosage confidentiel" not in page
    assert "lun 30/11" in page and "dim 6/12" in page
    assert "Nettoyage" in page  # closures are public busy time


def test_week_links_and_this_week_by_default(client, campus):
    page = page_of(client, campus.outsider, campus.hplc, HTTP_ACCEPT_LANGUAGE="en")
    assert "Week of 23 November to 29 November 2026" in page
    assert 'href="?week=2026-11-16#week"' in page and 'href="?week=2026-11-30#week"' in page
    page = page_of(
        client, campus.outsider, campus.hplc, "?week=2026-12-03", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert "Week of 30 November to 6 December 2026" in page
    # A bad date falls back to this week rather than failing.
    for bad in ("2026-13-45", "9999-12-31"):
        page = page_of(
            client, campus.outsider, campus.hplc, f"?week={bad}", HTTP_ACCEPT_LANGUAGE="en"
        )
        assert "Week of 23 November to 29 November 2026" in page


def test_feed_link_carries_the_users_token(client, campus):
    page = page_of(client, campus.researcher, campus.hplc)
    token = FeedToken.objects.get(user=campus.researcher).key
    url = f"{settings.SITE_URL}/calendars/equipment/{campus.hplc.pk}.ics?token={token}"
    assert f'value="{url}"' in page
    # The same token on the next visit.
    assert page_of(client, campus.researcher, campus.hplc).count(token) == 2


def test_book_button_links_to_the_prefilled_form(client, campus):
    page = page_of(client, campus.researcher, campus.hplc, HTTP_ACCEPT_LANGUAGE="en")
    assert f'id="book-this" href="/book/?equipment={campus.hplc.pk}"' in page
    Equipment.objects.filter(pk=campus.hplc.pk).update(status=Equipment.Status.MAINTENANCE)
    assert 'id="book-this"' not in page_of(client, campus.researcher, campus.hplc)


def test_page_of_unknown_equipment_is_404(client, campus):
    client.force_login(campus.researcher)
    assert client.get("/equipment/999999/").status_code == 404


def test_a_week_across_the_autumn_change(client, campus, book):
    # Sunday 25 October 2026 the clocks go back: 09:00 stays at 09:00 on both sides.
    booked_at = datetime(2026, 10, 1, 8, 0, tzinfo=PARIS)
    for day in (date(2026, 10, 23), date(2026, 10, 26)):
        book(
            campus.teacher, campus.teaching, campus.rheometer, day, "09:00", "10:00", now=booked_at
        )
    page = page_of(client, campus.teacher, campus.rheometer, "?week=2026-10-19")
    assert page.count('style="top:9.091%;height:9.091%"') == 1
    page = page_of(client, campus.teacher, campus.rheometer, "?week=2026-10-26")
    assert page.count('style="top:9.091%;height:9.091%"') == 1


def test_the_admin_link_is_shown_only_to_who_the_admin_lets_in(client, campus):
    """An equipment manager who is not staff would be refused by the admin: no link."""
    url = f"/equipment/{campus.hplc.pk}/"
    admin_link = f"/admin/equipment/equipment/{campus.hplc.pk}/change/"
    client.force_login(campus.eq_manager)
    assert admin_link not in client.get(url).content.decode()
    campus.admin.is_superuser = True
    campus.admin.save(update_fields=["is_superuser"])
    client.force_login(campus.admin)
    assert admin_link in client.get(url).content.decode()
