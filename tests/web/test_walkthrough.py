"""Walk-throughs of issue 10's "Done when", in Debian's Chromium (headless), at 1366x900 and
at 390x844, in French unless stated: each as the person who does it every day, through the
pages only (no form posted by the test), every request to the live server. A full-page
screenshot of every main page visited is saved under artifacts/screenshots/ (gitignored;
CI keeps it as an artifact) as <walk-through>-<width>-<page>.png."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from core.roles import SYSTEM
from equipment.services import category_create, equipment_create
from reservations.models import Closure, Reservation, Series
from tests.web.conftest import block_top, wait_until

from .conftest import PARIS, WED, at, local

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.walkthrough]

SCREENSHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
VIEWPORTS = [
    pytest.param({"width": 1366, "height": 900}, id="1366"),
    pytest.param({"width": 390, "height": 844}, id="390"),
]
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def open_page(new_page):
    """A page of the given size (French unless told), logged in, that may download."""
    return lambda user, viewport, *, locale="fr-FR": new_page(
        user, viewport=viewport, locale=locale, accept_downloads=True
    )


@pytest.fixture
def shoot():
    """Save a full-page PNG of the page as <walk-through>-<width>-<name>.png; check it was
    written, and that the page does not scroll sideways."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(page, walkthrough: str, name: str) -> Path:
        width = page.viewport_size["width"]
        overflow = page.evaluate(
            "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{name} is {overflow} px wider than the {width} px screen"
        path = SCREENSHOTS / f"{walkthrough}-{width}-{name}.png"
        path.unlink(missing_ok=True)
        page.screenshot(path=str(path), full_page=True)
        data = path.read_bytes()
        assert len(data) > 1000 and data.startswith(PNG), path
        return path

    return take


def ticked(page) -> list[str]:
    return page.locator("input[name=equipment]:checked").evaluate_all(
        "els => els.map(e => e.value)"
    )


def drag(page, x0: float, y0: float, x1: float, y1: float) -> None:
    """Press, move in small steps, release: what a hand does with a mouse."""
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x0 + (x1 - x0) / 10 + 1, y0 + (y1 - y0) / 10 + 1, steps=2)
    page.mouse.move(x1, y1, steps=12)
    page.mouse.up()


# --- 1. a teacher books a weekly class on three workstations for the school year ----------


@pytest.fixture
def workstations(campus, book):
    """Three workstations of one category at We Lab; a researcher's hour on the second one
    early that Wednesday (busy time on the planning)."""
    category = category_create(actor=SYSTEM, name="Postes de formulation")
    posts = [
        equipment_create(
            actor=SYSTEM,
            code=f"WL-POSTE-0{n}",
            name=f"Poste de formulation {n}",
            category=category,
            site=campus.site,
        )
        for n in (1, 2, 3)
    ]
    book(campus.researcher, campus.open_research, posts[1], WED, "08:00", "09:00")
    return category, posts


# The Wednesdays of the zone B school holidays between 2 December 2026 and 2 July 2027
# (Christmas, winter, spring): a class skips them by default.
HOLIDAY_WEDNESDAYS = [
    date(2026, 12, 23),
    date(2026, 12, 30),
    date(2027, 2, 24),
    date(2027, 3, 3),
    date(2027, 4, 21),
    date(2027, 4, 28),
]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_teacher_books_a_weekly_class_on_three_workstations_from_the_planning(
    open_page, shoot, live_server, campus, workstations, viewport
):
    category, posts = workstations
    page = open_page(campus.teacher, viewport)
    name = "teacher"
    page.goto(f"{live_server.url}/equipment/")
    shoot(page, name, "catalogue")

    # The planning of the category, that Wednesday, across its equipment.
    page.goto(f"{live_server.url}/planning/?view=day&date={WED}&category={category.pk}")
    busy = page.locator(".calendar .ec-event")
    busy.first.wait_for()
    assert busy.count() == 1
    shoot(page, name, "planning")
    # The busy hour (08:00–09:00, the start of the day) gives the scale: x of 08:00, an hour.
    # On a phone the hours scroll sideways under the equipment names: bring 10:00 in sight
    # next to the names, 12:00 well inside the screen (a drag near the edge scrolls the
    # hours along with it).
    busy.first.evaluate("el => el.scrollIntoView({block: 'center'})")
    hour = busy.first.bounding_box()["width"]
    row = page.locator(".calendar a", has_text="WL-POSTE-01").bounding_box()
    names_end = row["x"] + row["width"]
    busy.first.evaluate(
        """(el, target) => {
            let box = el.getBoundingClientRect(), scroller = el.parentElement;
            while (scroller && scroller.scrollWidth <= scroller.clientWidth) {
                scroller = scroller.parentElement;
            }
            if (scroller && scroller !== document.documentElement) {
                scroller.scrollLeft += box.left - target;
            }
        }""",
        names_end + 40 - 2 * hour,
    )
    box = busy.first.bounding_box()
    row = page.locator(".calendar a", has_text="WL-POSTE-01").bounding_box()
    y = row["y"] + row["height"] / 2
    ten, noon = box["x"] + 2 * hour, box["x"] + 4 * hour
    assert names_end < ten and noon < viewport["width"] - 60, "10:00–12:00 not in sight"
    # Drag across the first workstation's free time, 10:00 to 12:00 (the quarter hours
    # snap: inside the first and the last).
    drag(page, ten + hour / 8, y, noon - hour / 8, y)

    # The booking form, pre-filled.
    page.wait_for_url(f"{live_server.url}/book/?**")
    page.wait_for_selector("input[name=equipment]:checked")
    assert ticked(page) == [str(posts[0].pk)]
    assert page.input_value("#id_start") == local(WED, "10:00")
    assert page.input_value("#id_end") == local(WED, "12:00")
    # Two more workstations of the same category, found with the search box.
    page.fill("#equipment-search", "poste")
    for post in posts[1:]:
        page.check(f"#id_equipment_{post.pk}")
    assert sorted(ticked(page)) == sorted(str(p.pk) for p in posts)
    page.fill("#equipment-search", "")
    page.select_option("#id_project", str(campus.teaching.pk))
    page.fill("#id_title", "TP formulation, groupe A")
    page.fill("#id_expected_participants", "12")
    page.check("input[name=frequency][value=weekly]")
    page.locator("button[data-term='school_year_end']").click()
    # The server answers the date: wait for it (the click returns before the answer).
    page.wait_for_selector("#term-status:not(:empty)")
    assert page.input_value("#id_until") == "2027-07-02"
    assert "vendredi 2 juillet 2027" in page.locator("#term-status").inner_text()
    # School holidays: the default (skipped for a class) is left as it is.
    assert page.locator("input[name=school_holidays]:checked").get_attribute("value") == "default"
    for post in posts:  # the free-time preview shows the three
        page.locator(f"#free-time-results .free-time-item[data-equipment='{post.pk}']").wait_for()
    shoot(page, name, "booking-form")
    page.click("#booking-form button[type=submit]")

    # The results, by week, with the holidays skipped in words.
    page.wait_for_url(f"{live_server.url}/book/done/")
    sessions = [WED + timedelta(weeks=n) for n in range(31)]
    sessions = [day for day in sessions if day not in HOLIDAY_WEDNESDAYS]
    assert len(sessions) == 25 and sessions[-1] == date(2027, 6, 30)
    confirmation = page.locator(".confirmation")
    assert "75 réservations créées." in confirmation.inner_text()
    assert confirmation.locator("h2").count() == 25
    assert confirmation.locator("h2").first.inner_text() == "Semaine du 30 novembre 2026"
    assert confirmation.locator("h2").last.inner_text() == "Semaine du 28 juin 2027"
    rows = confirmation.locator("li.booked-row")
    assert rows.count() == 25
    assert rows.first.locator(".when").inner_text() == "mercredi 2 décembre 2026, 10:00–12:00"
    assert rows.first.locator(".equipment-set").inner_text().count("WL-POSTE-0") == 3
    skipped = page.locator("ul.skipped li").all_inner_texts()
    assert len(skipped) == 6
    assert skipped[0].startswith("mercredi 23 décembre 2026 10:00–12:00: vacances scolaires")
    shoot(page, name, "booking-results")

    # The database: one series, three reservations a week, none in the school holidays.
    (series,) = Series.objects.all()
    assert series.skip_school_holidays is True
    booked = Reservation.objects.filter(project=campus.teaching, status="confirmed")
    assert booked.count() == 75
    by_day: dict[date, list[str]] = {}
    for r in booked.select_related("equipment"):
        assert (r.start.astimezone(PARIS).time().hour, r.end.astimezone(PARIS).hour) == (10, 12)
        by_day.setdefault(r.start.astimezone(PARIS).date(), []).append(r.equipment.code)
    assert sorted(by_day) == sessions
    assert all(sorted(codes) == [p.code for p in posts] for codes in by_day.values())

    # My reservations: the class is there.
    page.goto(f"{live_server.url}/my/")
    assert "TP formulation, groupe A" in page.locator("#upcoming").inner_text()
    shoot(page, name, "my-reservations")


# --- 2. a researcher moves their booking on the calendar, then takes an alternative -------


def block_box(page, booked) -> dict:
    """The booking's block, scrolled to the top of the screen: its box."""
    block = page.locator(f".calendar .ec-event[data-reservation='{booked.pk}']")
    # The calendar redraws its blocks when it reads the events again (after a move): the
    # block found may be replaced before it is measured, so measure until one holds still.
    for _attempt in range(50):
        block.wait_for()
        block.evaluate("el => el.scrollIntoView({block: 'start'})")
        page.evaluate("window.scrollBy(0, -200)")
        box = block.bounding_box()
        if box is not None:
            return box
        page.wait_for_timeout(100)
    raise AssertionError(f"the block of reservation {booked.pk} never held still")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_researcher_drags_their_booking_then_takes_an_alternative(
    open_page, shoot, live_server, campus, book, viewport
):
    booked = book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        WED,
        "10:00",
        "12:00",
        title="Rhéologie émulsion E12",
    ).reservations[0]
    book(campus.teacher, campus.teaching, campus.rheometer, WED, "14:00", "16:00", title="TP")
    page = open_page(campus.researcher, viewport)
    name = "researcher"
    page.goto(f"{live_server.url}/equipment/{campus.rheometer.pk}/?week={WED}")
    box = block_box(page, booked)
    shoot(page, name, "equipment")
    box = block_box(page, booked)

    # Two hours later: 12:00–14:00, free.
    x = box["x"] + box["width"] / 2
    y = box["y"] + min(10, box["height"] / 2)
    drag(page, x, y, x, y + box["height"])
    notice = page.locator(".calendar-notice")
    notice.wait_for(state="visible")
    assert notice.inner_text() == "La réservation a été déplacée."
    booked.refresh_from_db()
    assert (booked.start, booked.end) == (at(WED, "12:00"), at(WED, "14:00"))
    below = box["y"] + box["height"] / 2
    wait_until(page, lambda: block_top(page, booked.pk) > below, what="the block to move down")

    # Two hours later again: onto the class at 14:00. Refused in place, the block goes back.
    box = block_box(page, booked)
    top = page.locator(".calendar-mount").bounding_box()["y"]
    x = box["x"] + box["width"] / 2
    y = box["y"] + min(10, box["height"] / 2)
    drag(page, x, y, x, y + box["height"])
    refusal = page.locator(".calendar-notice.error")
    refusal.wait_for(state="visible")
    assert refusal.get_attribute("role") == "alert"
    assert "déjà réservé" in refusal.inner_text()
    booked.refresh_from_db()
    assert (booked.start, booked.end) == (at(WED, "12:00"), at(WED, "14:00"))
    mount = page.locator(".calendar-mount").bounding_box()
    back = page.locator(f".ec-event[data-reservation='{booked.pk}']").bounding_box()
    assert abs((back["y"] - mount["y"]) - (box["y"] - top)) < 2
    assert abs(back["height"] - box["height"]) < 2

    # The class's hour, wanted anyway, through the form: refused, alternatives offered.
    page.locator("#book-this").click()
    page.wait_for_url(f"{live_server.url}/book/?**")
    page.wait_for_selector("input[name=equipment]:checked")
    assert ticked(page) == [str(campus.rheometer.pk)]
    page.select_option("#id_project", str(campus.open_research.pk))
    page.fill("#id_start", local(WED, "14:00"))
    page.fill("#id_end", local(WED, "15:00"))
    page.fill("#id_title", "Essai de stabilité")
    page.click("#booking-form button[type=submit]")
    refusal = page.locator("#refusal")
    refusal.wait_for()
    assert refusal.locator("code.code").first.inner_text() == "conflict"
    assert "TO-RHEO-01" in refusal.locator("ul.conflicts").inner_text()
    alternatives = page.locator("a.alternative")
    assert alternatives.count() >= 2
    shoot(page, name, "booking-form")
    offered = alternatives.first.inner_text()
    with page.expect_navigation():
        alternatives.first.click()
    start, end = page.input_value("#id_start"), page.input_value("#id_end")
    assert (start, end) != (local(WED, "14:00"), local(WED, "15:00"))
    assert page.input_value("#id_title") == "Essai de stabilité"
    page.click("#booking-form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/book/done/")
    confirmation = page.locator(".confirmation").inner_text()
    assert "1 réservation créée." in confirmation and "Essai de stabilité" in confirmation
    shoot(page, name, "booking-results")
    (taken,) = Reservation.objects.filter(title="Essai de stabilité")
    assert taken.status == "confirmed"
    assert taken.start.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M") == start
    assert taken.end.astimezone(PARIS).strftime("%Y-%m-%dT%H:%M") == end
    assert taken.equipment.code in offered
    assert taken.start.astimezone(PARIS).strftime("%H:%M") in offered

    page.goto(f"{live_server.url}/my/")
    upcoming = page.locator("#upcoming").inner_text()
    assert "Rhéologie émulsion E12" in upcoming and "Essai de stabilité" in upcoming
    shoot(page, name, "my-reservations")


# --- 3. a manager approves an industrial request and exports last month's usage -----------


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_manager_approves_a_request_and_exports_last_months_usage(
    open_page, shoot, live_server, qualified, book, viewport
):
    campus = qualified
    # October's use of the HPLC (booked in September), and a pending industrial request.
    october = date(2026, 10, 14)
    book(
        campus.researcher,
        campus.open_research,
        campus.hplc,
        october,
        "09:00",
        "12:00",
        now=datetime(2026, 9, 1, 8, 0, tzinfo=PARIS),
    )
    pending = book(
        campus.industrial,
        campus.confidential,
        campus.hplc,
        WED,
        "10:00",
        "12:00",
        title="Validation lot 42",
    ).reservations[0]
    assert pending.status == "pending"
    page = open_page(campus.eq_manager, viewport)
    name = "manager"

    page.goto(f"{live_server.url}/manage/approvals/")
    row = page.locator(f"tr[data-reservation='{pending.pk}']")
    assert "Validation lot 42" in row.inner_text()
    shoot(page, name, "approvals")
    with page.expect_navigation():
        row.locator("button[formaction$='/approve/']").click()
    assert "Validation lot 42" in page.locator(".messages").inner_text()
    assert page.locator(f"tr[data-reservation='{pending.pk}']").count() == 0
    pending.refresh_from_db()
    assert pending.status == "confirmed"

    # A closure for the pump's maintenance the next day: created, then listed in words.
    page.goto(f"{live_server.url}/manage/closures/")
    assert page.locator("h1").inner_text() == "Fermetures"
    form = page.locator("#closure-form")
    form.locator("select[name=target]").select_option(f"equipment:{campus.hplc.pk}")
    thursday = WED + timedelta(days=1)
    form.locator("input[name=start]").fill(local(thursday, "14:00"))
    form.locator("input[name=end]").fill(local(thursday, "17:00"))
    form.locator("input[name=reason]").fill("Maintenance de la pompe")
    form.locator("select[name=kind]").select_option("maintenance")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    (closure,) = Closure.objects.all()
    assert (closure.equipment_id, closure.reason, closure.kind) == (
        campus.hplc.pk,
        "Maintenance de la pompe",
        "maintenance",
    )
    assert (closure.start, closure.end) == (at(thursday, "14:00"), at(thursday, "17:00"))
    listed = page.locator(f"tr[data-closure='{closure.pk}']")
    text = listed.inner_text()
    assert "WL-HPLC-01" in text and "Maintenance de la pompe" in text, text
    assert "3 décembre 2026" in text and "14:00" in text and "17:00" in text, text
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    shoot(page, name, "closures")

    # Reports: the "last month" preset (October 2026, seen on 23 November), then the CSV.
    page.goto(f"{live_server.url}/reports/")
    presets = page.locator("nav.presets a")
    assert presets.all_inner_texts() == [
        "Ce mois-ci",
        "Mois dernier",
        "Cette année",
        "Année universitaire précédente",
    ]
    presets.nth(1).click()
    page.wait_for_url("**start=2026-10-01&end=2026-11-01**")
    assert page.locator("nav.presets a[aria-current]").inner_text() == "Mois dernier"
    assert "Du 01/10/2026 au 31/10/2026" in page.locator("p.count").first.inner_text()
    assert "Université d'Orléans" in page.locator("table.report").inner_text()
    shoot(page, name, "reports")
    link = page.locator("p.exports a").first
    assert link.inner_text() == "CSV"
    with (
        page.expect_response(lambda r: "format=csv" in r.url) as answer,
        page.expect_download() as download,
    ):
        link.click()
    response = answer.value
    assert response.status == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.value.suggested_filename == "usage_2026-10-01_2026-11-01_partner.csv"
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    headers = rows[0]
    assert headers[0] == "Partenaire" and "Heures réservées" in headers
    assert not any("_" in header for header in headers), headers
    (orleans,) = [r for r in rows[1:] if r[0] == "Université d'Orléans"]
    assert float(orleans[headers.index("Heures réservées")].replace(",", ".")) == 3


# --- 4. a partner referent reads their partner's bookings ---------------------------------


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_referent_reads_their_partners_bookings(
    open_page, shoot, live_server, campus, book, viewport
):
    research = book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        WED,
        "10:00",
        "12:00",
        title="Thèse mesure",
    ).reservations[0]
    teaching = book(
        campus.teacher, campus.teaching, campus.rheometer, WED, "14:00", "16:00", title="TP lycée"
    ).reservations[0]
    page = open_page(campus.referent, viewport)
    page.goto(f"{live_server.url}/my/")
    page.locator("main a[href='/my/partner/']").first.click()
    page.wait_for_url(f"{live_server.url}/my/partner/")
    partner = page.locator("#partner")
    text = partner.inner_text()
    assert "Université d'Orléans" in text
    assert "Thèse mesure" in text and "TP lycée" not in text
    assert partner.locator(f"[data-reservation='{research.pk}']").count() >= 1
    assert partner.locator(f"[data-reservation='{teaching.pk}']").count() == 0
    shoot(page, "referent", "partner")


# --- 5. the language switch ---------------------------------------------------------------


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_language_switch_from_french_to_english_and_back(
    open_page, shoot, live_server, campus, viewport
):
    page = open_page(campus.researcher, viewport)
    page.goto(f"{live_server.url}/account/")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Mon compte chercheur"
    shoot(page, "language", "account")

    def switch(code: str) -> None:
        summary = page.locator(".nav-menu > summary")
        if summary.is_visible():  # on a phone the menu folds behind its button
            summary.click()
        with page.expect_navigation():
            page.locator("header select[name=language]").select_option(code)

    switch("en")
    assert page.url == f"{live_server.url}/account/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "My account chercheur"
    switch("fr")
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.locator("h1").inner_text() == "Mon compte chercheur"
