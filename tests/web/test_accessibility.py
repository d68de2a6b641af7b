"""Accessibility (SPEC §8, RGAA / WCAG 2.1 AA): axe-core finds no violation of the WCAG 2.1
A and AA rules on the main pages, as the user who uses each one, in French, at 1366 px.

axe is a test-only copy (tests/web/static/axe/, MPL-2.0, from the npm package `axe-core`),
injected from the file by Playwright: the pages still make requests only to the live
server. Debian's Chromium, headless."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from equipment.services import training_request_create
from planner.models import Plan
from reservations.models import Reservation
from reservations.services import closure_create
from waitlist.models import WaitlistEntry

from .conftest import NOW, WED, at
from .test_layout import LAPTOP, PHONE, busy  # noqa: F401 (bookings on every page)

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Path(__file__).parent / "static" / "axe" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def violations(page) -> list[str]:
    """Run axe (WCAG 2.1 A and AA rules) on the page; one readable line per failing node."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        # Evaluated by the browser's devtools, which the page's CSP (no inline script) allows.
        page.evaluate(AXE.read_text())
    found = page.evaluate(
        """tags => axe.run(document, {runOnly: {type: "tag", values: tags}})
            .then(result => result.violations.map(v => ({
                id: v.id,
                nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary),
            })))""",
        WCAG_21_AA,
    )
    return [f"{v['id']} {node}" for v in found for node in v["nodes"]]


@pytest.fixture
def open_page(new_page, live_server):
    """A French page at 1366 px, logged in as the given user, loaded and settled."""

    def make(path: str, user, *, status: int = 200):
        page = new_page(user, viewport=LAPTOP)
        response = page.goto(f"{live_server.url}{path}")
        assert response is not None and response.status == status, path
        page.wait_for_load_state("networkidle")
        return page

    return make


@pytest.fixture
def furnished(busy):  # noqa: F811
    """The bookings of the layout tests, and a closure on the closures page."""
    closure_create(
        user=busy.admin,
        equipment=busy.hplc,
        start=at(WED, "18:00"),
        end=at(WED, "19:00"),
        reason="Nettoyage",
        now=NOW,
    )
    # A training request in the managers' queue (the outsider is not qualified on the HPLC).
    training_request_create(user=busy.outsider, equipment=busy.hplc, message="TP", now=NOW)
    return busy


def reset_link(user) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/accounts/reset/{uid}/{default_token_generator.make_token(user)}/"


def main_pages(campus) -> dict[str, tuple[str, object, int]]:
    """name: (path, user, expected status) of each page checked, as the user who uses it."""
    series = Reservation.objects.filter(booked_by=campus.teacher).order_by("start", "pk").first()
    entry = WaitlistEntry.objects.get()  # the researcher's (tests.web.test_layout.busy)
    plan = Plan.objects.get()
    return {
        "catalogue": ("/equipment/", campus.researcher, 200),
        "equipment": (f"/equipment/{campus.hplc.pk}/", campus.researcher, 200),
        "planning": ("/planning/", campus.teacher, 200),
        "my": ("/my/", campus.teacher, 200),
        "cancel": (f"/my/{series.pk}/cancel/", campus.teacher, 200),
        "move": (f"/my/{series.pk}/move/", campus.teacher, 200),
        "approvals": ("/manage/approvals/", campus.eq_manager, 200),
        "closures": ("/manage/closures/", campus.eq_manager, 200),
        "audit": ("/manage/audit/", campus.eq_manager, 200),
        "training": ("/manage/training/", campus.eq_manager, 200),
        "waitlist": ("/manage/waitlist/", campus.eq_manager, 200),
        "my_waitlist": ("/my/", campus.researcher, 200),
        "waitlist_cancel": (f"/waitlist/{entry.pk}/cancel/", campus.researcher, 200),
        "training_asked": (f"/equipment/{campus.hplc.pk}/", campus.outsider, 200),
        "reports": ("/reports/", campus.admin, 200),
        "account": ("/account/", campus.researcher, 200),
        "login": ("/accounts/login/", None, 200),
        "password_reset": ("/accounts/password_reset/", None, 200),
        # The email's link: redirected to the form choosing the new password.
        "password_reset_confirm": (reset_link(campus.researcher), None, 200),
        "404": ("/no-such-page/", campus.researcher, 404),
        "book": (f"/book/?equipment={campus.hplc.pk}", campus.researcher, 200),
        "partner": ("/my/partner/", campus.referent, 200),
        "403": ("/manage/approvals/", campus.researcher, 403),
        "planner": ("/planner/", campus.teacher, 200),
        "plan": (f"/planner/{plan.pk}/", campus.teacher, 200),
    }


PAGES = [
    "catalogue",
    "equipment",
    "planning",
    "my",
    "cancel",
    "move",
    "approvals",
    "closures",
    "audit",
    "training",
    "waitlist",
    "my_waitlist",
    "waitlist_cancel",
    "training_asked",
    "reports",
    "account",
    "login",
    "password_reset",
    "password_reset_confirm",
    "404",
    "book",
    "partner",
    "403",
    "planner",
    "plan",
]


@pytest.mark.parametrize("name", PAGES)
def test_no_wcag_violation_on_the_main_pages(open_page, furnished, name):
    path, user, status = main_pages(furnished)[name]
    page = open_page(path, user, status=status)
    found = violations(page)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize(
    "path, status",
    [("/test-errors/boom/", 500), ("/test-errors/database-down/", 503)],
    ids=["500", "503"],
)
def test_no_wcag_violation_on_the_500_and_503_pages(open_page, campus, settings, path, status):
    """The handlers' pages, as a crash and a database outage render them on the live
    server (tests.web.test_errors adds the two failing views to the site's URLs)."""
    settings.ROOT_URLCONF = "tests.web.test_errors"
    page = open_page(path, campus.researcher, status=status)
    assert page.locator("main h1").count() == 1
    found = violations(page)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize(
    "name, clicks",
    [
        ("equipment", ["Jour"]),
        ("equipment", ["Mois"]),
        ("equipment", ["Liste"]),
        ("equipment", ["Liste", "button.ec-next"]),
        ("equipment", ["button.ec-next"]),  # the week of the bookings: blocks, pending, closure
        ("planning", ["Jour"]),
        ("planning", ["button.ec-next"]),
    ],
    ids=[
        "equipment-day",
        "equipment-month",
        "equipment-list",
        "equipment-list-next-week",
        "equipment-next-week",
        "planning-day",
        "planning-next-week",
    ],
)
def test_no_wcag_violation_in_the_other_views_of_the_calendars(open_page, furnished, name, clicks):
    path, user, _ = main_pages(furnished)[name]
    page = open_page(path, user)
    toolbar = page.locator(".ec-toolbar")
    for button in clicks:
        if button.startswith("button."):
            toolbar.locator(button).click()
        else:
            toolbar.get_by_role("button", name=button, exact=True).click()
    page.wait_for_load_state("networkidle")
    if "button.ec-next" in clicks:
        page.locator(".ec-event").first.wait_for()
    found = violations(page)
    assert found == [], "\n".join(found)


@pytest.mark.parametrize("name", ["equipment", "planning"])
def test_the_calendar_title_is_whole_on_a_phone(open_page, furnished, name):
    """The period's title (e.g. "30 nov. – 6 déc. 2026") is not cut by the calendar's edge."""
    path, user, _ = main_pages(furnished)[name]
    page = open_page(path, user)
    page.set_viewport_size(PHONE)
    for _ in range(2):  # this week and the next, whose title spans two months
        title = page.locator(".ec-toolbar .ec-title")
        box = title.bounding_box()
        edge = page.locator(".calendar-mount").bounding_box()
        assert box is not None and edge is not None
        assert box["x"] >= edge["x"] and box["x"] + box["width"] <= edge["x"] + edge["width"]
        assert title.evaluate("el => el.scrollWidth <= el.clientWidth")
        assert page.locator(".ec-toolbar").evaluate("el => el.scrollWidth <= el.clientWidth")
        page.locator(".ec-toolbar button.ec-next").click()


@pytest.mark.parametrize("name", ["approvals", "closures", "training", "waitlist"])
def test_manager_tables_label_their_cells_for_phone_cards(open_page, furnished, name):
    path, user, _ = main_pages(furnished)[name]
    page = open_page(path, user)
    headers = page.locator("table.list thead th").evaluate_all(
        "ths => ths.filter(th => !th.querySelector('.visually-hidden'))"
        ".map(th => th.textContent.trim())"
    )
    row = page.locator("table.list tbody tr").first
    labels = row.locator("td").evaluate_all(
        "tds => tds.map(td => td.getAttribute('data-label')).filter(Boolean)"
    )
    assert headers and labels == headers


def test_keyboard_focus_is_visible_in_the_page_and_in_the_menu(open_page, furnished):
    path, user, _ = main_pages(furnished)["my"]
    page = open_page(path, user)

    def ring() -> dict:
        return page.evaluate(
            """() => { const s = getComputedStyle(document.activeElement);
                return {style: s.outlineStyle, width: parseFloat(s.outlineWidth),
                        color: s.outlineColor}; }"""
        )

    page.keyboard.press("Tab")  # the skip link
    page.keyboard.press("Tab")  # the brand, in the teal bar
    in_bar = ring()
    assert in_bar["style"] == "solid" and in_bar["width"] >= 2
    assert in_bar["color"] == "rgb(242, 169, 0)"  # amber on teal
    page.locator("main a").first.focus()
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")
    in_page = ring()
    assert in_page["style"] == "solid" and in_page["width"] >= 2
    assert in_page["color"] == "rgb(29, 42, 51)"  # dark ink on the light page


def test_no_wcag_violation_on_a_conflict_with_its_waitlist_button_nor_once_joined(
    open_page, furnished
):
    """The booking form refused for a conflict shows "join the waitlist"; pressing it lands
    on the confirmation with the position. Both pages pass axe, on a laptop and a phone."""
    campus = furnished
    query = (
        f"equipment={campus.rheometer.pk}&project={campus.confidential.pk}"
        "&start=2026-12-02T14:30&end=2026-12-02T15:30&title=Essai"
    )
    page = open_page(f"/book/?{query}", campus.industrial)
    page.locator("#booking-form button[type=submit]").click()
    offer = page.locator("#waitlist-offer")
    offer.wait_for()
    found = violations(page)
    assert found == [], "\n".join(found)
    offer.get_by_role("button", name="Rejoindre la file d'attente").click()
    page.wait_for_url("**/waitlist/joined/")
    assert "rang 1 dans la file" in page.locator("#waitlist-joined").inner_text()
    found = violations(page)
    assert found == [], "\n".join(found)
    page.set_viewport_size(PHONE)
    assert page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
