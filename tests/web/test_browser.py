"""Real browser tests: Debian's Chromium, headless, driven by Playwright against the live
server. Every request a page makes must go to the live server (no CDN, no network)."""

from __future__ import annotations

import pytest

from reservations.models import Reservation

from .conftest import WED, local

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def open_page(new_page):
    """A page at 1280 px (French unless told), logged in when given a user."""
    return lambda user=None, *, locale="fr-FR": new_page(user, locale=locale)


def test_log_in_through_the_login_page(open_page, live_server, campus):
    page = open_page()
    page.goto(f"{live_server.url}/planning/")
    assert "/accounts/login/" in page.url
    assert page.locator("h1").inner_text() == "Connexion"
    page.fill("#id_username", "chercheur")
    page.fill("#id_password", "pw-chercheur")
    page.click("form[action='/accounts/login/'] button[type=submit]")
    page.wait_for_url(f"{live_server.url}/planning/")
    assert page.locator("h1").inner_text().startswith("Planning")
    assert page.locator("nav a[href='/my/']").is_visible()


def test_book_from_the_form_and_see_the_confirmation(open_page, live_server, campus):
    page = open_page(campus.researcher)
    page.goto(f"{live_server.url}/equipment/{campus.rheometer.pk}/")
    page.click("#book-this")
    page.wait_for_selector("input[name=equipment]:checked")  # the form has loaded
    assert page.locator("input[name=equipment]:checked").evaluate_all(
        "els => els.map(e => e.value)"
    ) == [str(campus.rheometer.pk)]
    page.select_option("#id_project", str(campus.research.pk))
    page.fill("#id_start", local(WED, "10:00"))
    page.fill("#id_end", local(WED, "12:00"))
    page.fill("#id_title", "Viscosité crème A")
    page.click("#booking-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/book/done/")
    confirmation = page.locator(".confirmation").inner_text()
    assert "mercredi 2 décembre 2026" in confirmation
    assert "10:00–12:00" in confirmation and "Viscosité crème A" in confirmation
    (booked,) = Reservation.objects.all()
    assert (booked.title, booked.status) == ("Viscosité crème A", "confirmed")


def test_conflict_shows_alternatives_and_one_click_books_it(open_page, live_server, campus, book):
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    page = open_page(campus.researcher, locale="en-US")
    page.goto(f"{live_server.url}/book/?equipment={campus.rheometer.pk}")
    page.select_option("#id_project", str(campus.open_research.pk))
    page.fill("#id_start", local(WED, "11:00"))
    page.fill("#id_end", local(WED, "12:00"))
    page.fill("#id_title", "Essai rapide")
    page.click("#booking-form button[type=submit]")
    refusal = page.locator("#refusal")
    assert "The equipment is already booked at this time." in refusal.inner_text()
    assert refusal.locator("code.code").first.inner_text() == "conflict"
    alternatives = page.locator("a.alternative")
    assert alternatives.count() == 3
    alternatives.first.click()
    page.wait_for_load_state()
    assert page.input_value("#id_start") == local(WED, "12:00")
    assert page.input_value("#id_end") == local(WED, "13:00")
    assert page.input_value("#id_title") == "Essai rapide"
    page.click("#booking-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/book/done/")
    assert "12:00–13:00" in page.locator(".confirmation").inner_text()
    assert Reservation.objects.filter(project=campus.open_research).count() == 1


def test_cancel_from_my_reservations(open_page, live_server, campus, book):
    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    page = open_page(campus.researcher, locale="en-US")
    page.goto(f"{live_server.url}/my/")
    row = page.locator(f"#upcoming tr:has(li[data-reservation='{booked.pk}'])")
    row.get_by_role("link", name="Cancel").click()
    page.wait_for_load_state()
    page.get_by_role("button", name="Confirm the cancellation").click()
    page.wait_for_load_state()
    assert "Cancelled: 1 reservation." in page.locator(".messages").inner_text()
    # A cancelled booking leaves the upcoming ones.
    assert page.locator(f"#upcoming [data-reservation='{booked.pk}']").count() == 0
    booked.refresh_from_db()
    assert booked.status == "cancelled"


def test_approve_from_the_queue(open_page, live_server, qualified, book):
    campus = qualified
    pending = book(
        campus.industrial,
        campus.confidential,
        campus.hplc,
        WED,
        "10:00",
        "12:00",
        title="Validation lot 42",
    ).reservations[0]
    page = open_page(campus.eq_manager, locale="en-US")
    page.goto(f"{live_server.url}/manage/approvals/")
    row = page.locator(f"tr[data-reservation='{pending.pk}']")
    row.locator("input[name=reason]").fill("Créneau confirmé")
    row.get_by_role("button", name="Approve").click()
    page.wait_for_load_state()
    assert "Approved: Validation lot 42." in page.locator(".messages").inner_text()
    assert page.locator(f"tr[data-reservation='{pending.pk}']").count() == 0
    pending.refresh_from_db()
    assert pending.status == "confirmed"


def test_pages_load_nothing_from_outside(open_page, live_server, campus):
    page = open_page(campus.admin)
    for path in (
        "/equipment/",
        f"/equipment/{campus.hplc.pk}/",
        "/planning/",
        "/book/",
        "/my/",
        "/manage/approvals/",
        "/manage/closures/",
        "/accounts/login/",
    ):
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        # The stylesheet is ours and applied.
        assert (
            page.locator("header.topbar").evaluate("el => getComputedStyle(el).backgroundColor")
            == "rgb(11, 110, 105)"
        )
