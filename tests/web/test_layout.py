"""Every main page fits the screen (SPEC §8): no sideways scrolling at 390 px (a phone) nor
at 1366 px (a laptop), as the user who uses it; the menu folds behind a button on a phone;
a skip link leads to the content. Debian's Chromium, headless, against the live server."""

from __future__ import annotations

import re
from datetime import date

import pytest

from planner.models import Plan
from planner.services import plan_create, plan_solve_start
from reservations.models import Reservation
from tests.conftest import reservation_row
from waitlist.models import WaitlistEntry
from waitlist.services import waitlist_join

from .conftest import NOW, WED, at

pytestmark = pytest.mark.django_db(transaction=True)

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 900}


@pytest.fixture
def open_page(new_page):
    """A page of the given size, logged in as the given user."""
    return lambda user, viewport, *, locale="fr-FR": new_page(
        user, viewport=viewport, locale=locale
    )


@pytest.fixture
def busy(qualified, book):
    """Bookings on every page: a weekly class on two equipment, a single booking, a
    pending industrial request in the approvals queue."""
    campus = qualified
    book(
        campus.teacher,
        campus.teaching,
        [campus.rheometer, campus.hplc],
        WED,
        "09:00",
        "11:00",
        title="TP formulation des émulsions, groupe B",
        rrule="FREQ=WEEKLY;COUNT=3",
    )
    book(campus.researcher, campus.research, campus.rheometer, WED, "14:00", "16:00")
    book(
        campus.industrial,
        campus.confidential,
        campus.hplc,
        WED,
        "14:00",
        "17:00",
        title="Validation lot 42 – stabilité accélérée",
    )
    # The researcher waits for the HPLC's afternoon (my reservations, the managers' waitlist).
    waitlist_join(
        user=campus.researcher,
        project=campus.open_research,
        equipment_ids=[campus.hplc.pk],
        start=at(WED, "14:00"),
        end=at(WED, "16:00"),
        title="Chromatographie des extraits",
        now=NOW,
    )
    solved_plan(campus)
    return campus


def solved_plan(campus) -> Plan:
    """A term plan solved by the worker (run at once): two classes side by side on
    Tuesdays, one displacing a research booking, and one left out (too few equipment)."""
    reservation_row(
        campus,
        at(date(2027, 1, 12), "08:00"),
        90,
        project=campus.open_research,
        at=NOW,
    )
    slot = [{"weekday": "tue", "start": "08:00", "end": "10:00"}]
    plan = plan_create(
        user=campus.teacher,
        name="Semestre de printemps : travaux pratiques de formulation",
        term_start=date(2027, 1, 4),
        term_end=date(2027, 1, 24),
        requests=[
            {
                "project": campus.teaching,
                "title": "TP rhéologie des émulsions, groupe A",
                "equipment_choices": [campus.rheometer.pk],
                "duration_minutes": 120,
                "allowed_slots": slot,
            },
            {
                "project": campus.teaching,
                "title": "TP chromatographie, groupe B",
                "equipment_choices": [campus.hplc.pk],
                "duration_minutes": 120,
                "allowed_slots": slot,
            },
            {
                "project": campus.teaching,
                "title": "TP en binômes",
                "equipment_choices": [campus.hplc.pk],
                "count": 3,
                "duration_minutes": 60,
                "allowed_slots": slot,
            },
        ],
        now=NOW,
    )
    # The immediate task backend solves it as soon as this (transactional) test commits.
    return plan_solve_start(plan=plan, user=campus.teacher, now=NOW, time_limit_seconds=10)


def width_overflow(page) -> int:
    """How many pixels the document is wider than the viewport (0 when it fits)."""
    return page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def pages_of(campus) -> list[tuple[str, object]]:
    """(path, user) of each main page that must fit, as the user who uses it."""
    series = Reservation.objects.filter(booked_by=campus.teacher).order_by("start", "pk").first()
    plan = Plan.objects.get()
    return [
        ("/equipment/", campus.researcher),
        (f"/equipment/{campus.hplc.pk}/", campus.researcher),
        ("/planning/", campus.teacher),
        ("/book/", campus.teacher),
        ("/my/", campus.teacher),
        ("/my/", campus.eq_manager),
        ("/my/partner/", campus.referent),
        (f"/my/{series.pk}/cancel/", campus.teacher),
        ("/manage/approvals/", campus.eq_manager),
        ("/my/", campus.researcher),  # with a waiting entry
        (f"/waitlist/{WaitlistEntry.objects.get().pk}/cancel/", campus.researcher),
        ("/manage/waitlist/", campus.eq_manager),
        ("/manage/closures/", campus.eq_manager),
        ("/manage/audit/", campus.eq_manager),
        ("/manage/audit/", campus.admin),
        ("/reports/", campus.admin),
        ("/account/", campus.researcher),
        ("/account/password/", campus.researcher),
        ("/accounts/login/", None),
        ("/accounts/password_reset/", None),
        ("/planner/", campus.teacher),
        (f"/planner/{plan.pk}/", campus.teacher),
    ]


@pytest.mark.parametrize("viewport", [PHONE, LAPTOP], ids=["390px", "1366px"])
def test_main_pages_do_not_scroll_sideways(open_page, live_server, busy, viewport):
    too_wide = {}
    for path, user in pages_of(busy):
        page = open_page(user, viewport)
        response = page.goto(f"{live_server.url}{path}")
        assert response.status == 200, path
        overflow = width_overflow(page)
        if overflow > 0:
            too_wide[f"{path} ({getattr(user, 'username', 'anonymous')})"] = overflow
    assert too_wide == {}


def test_the_menu_folds_behind_a_button_on_a_phone(open_page, live_server, busy):
    page = open_page(busy.researcher, PHONE)
    page.goto(f"{live_server.url}/equipment/")
    my_link = page.locator("header nav a[href='/my/']")
    assert not my_link.is_visible()
    page.locator(".nav-menu > summary").click()
    assert my_link.is_visible() and page.locator("header nav a[href='/account/']").is_visible()
    assert width_overflow(page) == 0
    wide = open_page(busy.researcher, LAPTOP)
    wide.goto(f"{live_server.url}/equipment/")
    assert not wide.locator(".nav-menu > summary").is_visible()
    assert wide.locator("header nav a[href='/my/']").is_visible()


def test_the_skip_link_comes_first_and_leads_to_the_content(open_page, live_server, busy):
    page = open_page(busy.researcher, PHONE, locale="en-US")
    page.goto(f"{live_server.url}/my/")
    skip = page.locator("a.skip-link")
    assert not skip.is_visible() or skip.bounding_box()["y"] < 0
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    assert skip.inner_text() == "Skip to the content"
    assert skip.bounding_box()["y"] >= 0
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def test_cancel_one_date_of_a_class_on_a_phone(open_page, live_server, busy):
    """The series is one card; its dates open below it; Cancel is on screen; a confirmation
    step cancels the date on both equipment."""
    page = open_page(busy.teacher, PHONE, locale="en-US")
    page.goto(f"{live_server.url}/my/")
    group = page.locator("#upcoming tbody.group-series")
    assert group.count() == 1
    group.locator("summary").click()
    dates = group.locator("li.occurrence")
    assert dates.count() == 3
    cancel = dates.nth(1).get_by_role("link", name="Cancel")
    box = cancel.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    cancel.click()
    page.wait_for_url(re.compile(r"/my/\d+/cancel/\?next=/my/$"))
    assert width_overflow(page) == 0
    confirm = page.locator("#cancel-confirm")
    assert confirm.locator("li[data-reservation]").count() == 2
    assert confirm.get_by_label("this one", exact=True).is_checked()
    confirm.get_by_role("button", name="Confirm the cancellation").click()
    page.wait_for_url(f"{live_server.url}/my/")
    assert "Cancelled: 2 reservations." in page.locator(".messages").inner_text()
    cancelled = Reservation.objects.filter(status="cancelled")
    assert cancelled.count() == 2 and len({r.start for r in cancelled}) == 1
    assert page.locator("#upcoming li.occurrence").count() == 2


def test_report_charts_stay_readable_on_a_phone(open_page, live_server, busy):
    """At 390 px a chart keeps its drawn size (labels of about 13 px, not 5) and scrolls
    in its own box, which the keyboard can reach; the page itself does not scroll."""
    window = "start=2026-11-30&end=2026-12-21&group_by=equipment"
    sizes = {}
    for name, viewport in (("phone", PHONE), ("laptop", LAPTOP)):
        page = open_page(busy.admin, viewport, locale="en-US")
        page.goto(f"{live_server.url}/reports/?{window}")
        chart = page.locator("figure.chart").first
        chart.wait_for()
        assert width_overflow(page) == 0, name
        sizes[name] = page.evaluate(
            """() => Math.min(...[...document.querySelectorAll('figure.chart svg text')]
                 .map(t => t.getBoundingClientRect().height).filter(h => h > 0))"""
        )
        if name == "phone":
            assert chart.evaluate("el => el.scrollWidth > el.clientWidth")
            assert chart.get_attribute("tabindex") == "0"
            assert page.locator(".chart-hint").is_visible()
    assert sizes["phone"] >= 10, sizes
    assert abs(sizes["phone"] - sizes["laptop"]) < 2, sizes
