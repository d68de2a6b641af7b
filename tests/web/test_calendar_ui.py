"""The interactive calendars (SPEC §8): the JSON busy time they read (SPEC §6 visibility,
editable only what the reader may move, a fixed number of queries), and in Debian's
Chromium, on a desktop and on a phone: moving one's booking by dragging it, a refusal shown
in place, selecting free time to open the booking form pre-filled."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.roles import SYSTEM
from equipment.models import Equipment
from equipment.services import equipment_create
from reservations.models import Reservation
from reservations.services import closure_create
from tests.web.conftest import block_top, wait_until

from .conftest import NOW, WED, at, local

MONDAY = WED - timedelta(days=2)  # the week of WED


def feed(client, user, query: str, **headers):
    client.force_login(user)
    return client.get(f"/calendar/events/{query}", **headers)


def week_of(equipment) -> str:
    return f"?equipment={equipment.pk}&start={MONDAY}&end={MONDAY + timedelta(days=7)}"


def reservations_in(found: list[dict]) -> list[dict]:
    return [e for e in found if e["extendedProps"]["kind"] == "reservation"]


# --- the JSON feed ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_outsider_sees_busy_time_and_its_priority_only(client, campus, book):
    booked = book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        WED,
        "10:00",
        "12:00",
        title="Rhéologie émulsion E12",
    ).reservations[0]
    response = feed(client, campus.outsider, week_of(campus.rheometer), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Rhéologie émulsion E12" not in body and "Thèse" not in body and "chercheur" not in body
    (event,) = reservations_in(response.json())
    assert event["start"] == "2026-12-02T10:00:00" and event["end"] == "2026-12-02T12:00:00"
    assert event["title"] == "Busy (research)"
    assert event["classNames"] == ["block-reservation", "prio-research"]
    assert event["editable"] is False
    assert event["extendedProps"]["reservation"] is None
    assert event["id"] != f"reservation-{booked.pk}"
    assert event["resourceId"] == campus.rheometer.pk


@pytest.mark.django_db
def test_the_booker_sees_it_in_full_and_may_move_it(client, campus, book, monkeypatch):
    booked = book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        WED,
        "10:00",
        "12:00",
        title="Rhéologie émulsion E12",
    ).reservations[0]
    response = feed(client, campus.researcher, week_of(campus.rheometer), HTTP_ACCEPT_LANGUAGE="en")
    (event,) = reservations_in(response.json())
    assert event["title"] == "Rhéologie émulsion E12"
    assert event["editable"] is True
    assert event["extendedProps"]["reservation"] == booked.pk
    lines = event["extendedProps"]["lines"]
    assert lines[0] == "Wednesday 2 December 2026, 10:00–12:00"
    assert "Thèse émulsions (Université d'Orléans)" in lines
    # Once started, it is used: no longer to be moved.
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(WED, "10:30"))
    response = feed(client, campus.researcher, week_of(campus.rheometer))
    assert reservations_in(response.json())[0]["editable"] is False


@pytest.mark.django_db
def test_cancelled_bookings_leave_the_calendar(client, campus, book):
    booked = book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    before = feed(client, campus.researcher, week_of(campus.rheometer))
    assert len(reservations_in(before.json())) == 1  # it was there
    Reservation.objects.filter(pk=booked.reservations[0].pk).update(status="cancelled")
    response = feed(client, campus.researcher, week_of(campus.rheometer))
    assert reservations_in(response.json()) == []


@pytest.mark.django_db
def test_managers_may_move_the_bookings_of_their_equipment(client, campus, qualified, book):
    book(campus.researcher, campus.research, campus.hplc, WED, "10:00", "12:00", title="Dosage")
    (event,) = reservations_in(feed(client, campus.eq_manager, week_of(campus.hplc)).json())
    assert (event["title"], event["editable"]) == ("Dosage", True)
    found = feed(client, campus.teacher, week_of(campus.hplc), HTTP_ACCEPT_LANGUAGE="en").json()
    (event,) = reservations_in(found)
    assert (event["title"], event["editable"]) == ("Busy (research)", False)


@pytest.mark.django_db
def test_closures_buffers_and_equipment_out_of_service(client, campus, book):
    Equipment.objects.filter(pk=campus.rheometer.pk).update(policy_overrides={"buffer_minutes": 30})
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    closure_create(
        user=campus.admin,
        equipment=campus.rheometer,
        start=at(WED, "17:00"),
        end=at(WED, "19:00"),
        reason="Nettoyage",
        now=NOW,
    )
    Equipment.objects.filter(pk=campus.hplc.pk).update(status=Equipment.Status.MAINTENANCE)
    days = f"&start={MONDAY}&end={MONDAY + timedelta(days=7)}"
    query = f"?site={campus.site.pk}&site={campus.other_site.pk}{days}"
    found = feed(client, campus.outsider, query, HTTP_ACCEPT_LANGUAGE="en").json()
    backgrounds = [
        (e["extendedProps"]["kind"], e["resourceId"], e["start"], e["end"], e["title"])
        for e in found
        if e.get("display") == "background"
    ]
    assert backgrounds == [
        ("buffer", campus.rheometer.pk, "2026-12-02T12:00:00", "2026-12-02T12:30:00", "Buffer"),
        (
            "closure",
            campus.rheometer.pk,
            "2026-12-02T17:00:00",
            "2026-12-02T19:00:00",
            "Closed: Nettoyage",
        ),
        (
            "maintenance",
            campus.hplc.pk,
            "2026-11-30T00:00:00",
            "2026-12-07T00:00:00",
            "Out of service",
        ),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "",
        "?equipment=1",
        "?equipment=x&start=2026-11-30&end=2026-12-07",
        "?equipment=1&start=2026-12-07&end=2026-11-30",
        "?equipment=1&start=2026-11-30&end=2027-11-30",
        "?equipment=1&start=9999-11-30&end=9999-12-07",
        "?equipment=99999999999999999999&start=2026-11-30&end=2026-12-07",
    ],
)
def test_bad_queries_are_refused_in_words(client, campus, query):
    response = feed(client, campus.outsider, query, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert response.json() == {"code": "invalid", "detail": "Invalid input."}


@pytest.mark.django_db
def test_anonymous_readers_are_sent_to_log_in(client, campus):
    response = client.get(f"/calendar/events/{week_of(campus.rheometer)}")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.django_db
def test_the_feed_costs_the_same_queries_for_many_bookings(
    client, campus, book, django_assert_num_queries
):
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    query = f"?site={campus.other_site.pk}&start={MONDAY}&end={MONDAY + timedelta(days=7)}"
    client.force_login(campus.outsider)
    # Session, user, equipment, reservations, closures.
    with django_assert_num_queries(5):
        assert len(client.get(f"/calendar/events/{query}").json()) == 1
    for n in range(10):
        extra = equipment_create(
            actor=SYSTEM,
            code=f"TO-X-{n:02d}",
            name=f"Extra {n}",
            category=campus.rheo,
            site=campus.other_site,
        )
        for hour in (8, 10, 12, 14):
            book(
                campus.researcher,
                campus.research,
                extra,
                WED,
                f"{hour:02d}:00",
                f"{hour + 1:02d}:30",
            )
        closure_create(
            user=campus.admin,
            equipment=extra,
            start=at(WED, "17:00"),
            end=at(WED, "18:00"),
            reason="Nettoyage",
            now=NOW,
        )
    with django_assert_num_queries(5):
        found = client.get(f"/calendar/events/{query}").json()
    assert len(found) == 1 + 10 * 4 + 10


# --- the pages ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("today", "monday"),
    [
        (date(2026, 11, 27), "2026-11-23"),  # a Friday: open today
        (date(2026, 11, 28), "2026-11-30"),  # Saturday and Sunday: closed to the week's end
        (date(2026, 11, 29), "2026-11-30"),
    ],
)
def test_the_equipment_page_opens_on_the_current_or_next_open_week(
    client, campus, monkeypatch, today, monday
):
    monkeypatch.setattr("django.utils.timezone.now", lambda: at(today, "20:00"))
    client.force_login(campus.outsider)
    page = client.get(f"/equipment/{campus.rheometer.pk}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.context["calendar"]["date"] == monday
    assert page.context["grid"].first_day == date.fromisoformat(monday)
    assert f'href="?week={monday}#week">This week' in page.content.decode()


@pytest.mark.django_db
def test_pages_carry_the_calendar_settings(client, campus):
    client.force_login(campus.outsider)
    page = client.get(f"/equipment/{campus.rheometer.pk}/?week={WED}", HTTP_ACCEPT_LANGUAGE="en")
    settings = page.context["calendar"]
    assert settings["date"] == str(MONDAY) and settings["view"] == "timeGridWeek"
    assert settings["events"] == f"/calendar/events/?equipment={campus.rheometer.pk}"
    assert settings["words"]["buttons"]["dayGridMonth"] == "Month"
    assert 'id="calendar-config"' in page.content.decode()
    Equipment.objects.filter(pk=campus.hplc.pk).update(status=Equipment.Status.MAINTENANCE)
    page = client.get(f"/planning/?date={WED}&view=day&site={campus.site.pk}")
    settings = page.context["calendar"]
    assert settings["view"] == "resourceTimelineDay" and settings["date"] == str(WED)
    assert settings["resources"] == [
        {
            "id": campus.hplc.pk,
            "title": "WL-HPLC-01 · Chaîne HPLC Agilent 1260 (maintenance)",
            "extendedProps": {
                "bookable": False,
                "click_minutes": 60,
                "url": f"/equipment/{campus.hplc.pk}/",
            },
        }
    ]


@pytest.mark.django_db
def test_the_calendar_settings_come_from_the_policy_and_paris(client, campus):
    """The grid a drag snaps to and what a click selects are the equipment's policy; the
    calendar's zone is Paris's offset (winter here); phones open on a day."""
    from equipment.services import equipment_update

    equipment_update(
        actor=SYSTEM,
        equipment=campus.rheometer,
        policy={"granularity_minutes": 30, "min_duration_minutes": 120},
    )
    client.force_login(campus.outsider)
    page = client.get(f"/equipment/{campus.rheometer.pk}/?week={WED}")
    settings = page.context["calendar"]
    assert settings["timeZone"] == "+01:00"
    assert (settings["snap_minutes"], settings["click_minutes"]) == (30, 120)
    assert (settings["narrow_view"], settings["narrow_date"]) == ("timeGridDay", str(WED))
    # The library snaps from the first minute shown: it is on the grid counted from midnight.
    equipment_update(
        actor=SYSTEM,
        equipment=campus.rheometer,
        policy={"granularity_minutes": 45, "min_duration_minutes": 90, "max_duration_minutes": 450},
    )
    shown = client.get(f"/equipment/{campus.rheometer.pk}/?week={WED}").context["calendar"]
    assert shown["snap_minutes"] == 45
    assert shown["first_minute"] % 45 == 0 and shown["first_minute"] <= 8 * 60
    equipment_update(
        actor=SYSTEM,
        equipment=campus.rheometer,
        policy={
            "granularity_minutes": 30,
            "min_duration_minutes": 120,
            "max_duration_minutes": None,
        },
    )
    # Without a day asked for: today in the shown week (the fixtures' "now" is Monday).
    page = client.get(f"/equipment/{campus.rheometer.pk}/")
    assert page.context["calendar"]["narrow_date"] == str(NOW.date())
    # The planning across equipment on 30- and 20-minute grids snaps to 10 minutes; a
    # click selects each one's own duration.
    equipment_update(
        actor=SYSTEM,
        equipment=campus.hplc,
        policy={"granularity_minutes": 20, "min_duration_minutes": 40},
    )
    settings = client.get(f"/planning/?date={WED}").context["calendar"]
    assert {r["id"] for r in settings["resources"]} == {campus.rheometer.pk, campus.hplc.pk}
    assert settings["snap_minutes"] == 10
    clicks = {r["id"]: r["extendedProps"]["click_minutes"] for r in settings["resources"]}
    assert clicks == {campus.rheometer.pk: 120, campus.hplc.pk: 60}
    assert settings["narrow_view"] == "resourceTimelineDay"


@pytest.mark.parametrize(
    ("policy", "minutes"),
    [
        ({}, 60),  # 15-minute grid, 30 to 480 minutes: an hour
        ({"min_duration_minutes": 90}, 90),
        ({"granularity_minutes": 45, "min_duration_minutes": 45}, 90),  # on the grid
        ({"max_duration_minutes": 45}, 45),
        ({"granularity_minutes": 20, "min_duration_minutes": 20, "max_duration_minutes": 50}, 40),
    ],
)
def test_a_click_selects_an_hour_within_the_policy(policy, minutes):
    from reservations.web.calendar_feed import click_minutes

    assert click_minutes(Equipment(policy_overrides=policy)) == minutes


def test_paris_offset_follows_daylight_saving():
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from reservations.web.calendar_feed import paris_offset

    utc = ZoneInfo("UTC")
    assert paris_offset(datetime(2027, 3, 28, 0, 59, tzinfo=utc)) == "+01:00"
    assert paris_offset(datetime(2027, 3, 28, 1, 0, tzinfo=utc)) == "+02:00"
    assert paris_offset(datetime(2026, 10, 25, 1, 0, tzinfo=utc)) == "+01:00"


# --- in the browser -------------------------------------------------------------------------

WIDTHS = [pytest.param(1366, id="desktop"), pytest.param(390, id="phone")]


@pytest.fixture
def open_page(new_page):
    """A page of the given width, logged in, with or without JavaScript."""

    def make(user, *, width: int, locale: str = "fr-FR", javascript: bool = True):
        return new_page(
            user,
            viewport={"width": width, "height": 900},
            locale=locale,
            java_script_enabled=javascript,
        )

    return make


def drag(page, box: dict, dy: float) -> None:
    """Press in the middle of a block and let it go `dy` pixels lower, in small steps."""
    x = box["x"] + box["width"] / 2
    y = box["y"] + min(10, box["height"] / 2)
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x, y + 5, steps=2)
    page.mouse.move(x, y + dy, steps=12)
    page.mouse.up()


def equipment_calendar(page, live_server, equipment, booked):
    """The equipment page on the week of WED, `booked` in the middle of the screen: its box."""
    page.goto(f"{live_server.url}/equipment/{equipment.pk}/?week={WED}")
    block = page.locator(f".calendar .ec-event[data-reservation='{booked.pk}']")
    block.wait_for()
    # The server's grid gave way to the calendar.
    assert (
        page.locator("#week .server-week").is_hidden() and page.locator("#week .pager").is_hidden()
    )
    # Nothing runs off the screen, on a phone either.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    block.evaluate("el => el.scrollIntoView({block: 'start'})")
    page.evaluate("window.scrollBy(0, -200)")
    return block.bounding_box()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", WIDTHS)
def test_drag_ones_booking_to_another_time(open_page, live_server, campus, book, width):
    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    page = open_page(campus.researcher, width=width, locale="en-US")
    box = equipment_calendar(page, live_server, campus.rheometer, booked)
    drag(page, box, box["height"])  # two hours later
    notice = page.locator(".calendar-notice")
    notice.wait_for(state="visible")
    assert notice.inner_text() == "The reservation was moved."
    booked.refresh_from_db()
    assert (booked.start, booked.end) == (at(WED, "12:00"), at(WED, "14:00"))
    # The calendar reads the busy time again: the block now sits two hours lower.
    below = box["y"] + box["height"] / 2
    wait_until(page, lambda: block_top(page, booked.pk) > below, what="the block to move down")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", WIDTHS)
def test_a_refused_move_is_explained_and_the_block_goes_back(
    open_page, live_server, campus, book, width
):
    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    book(campus.teacher, campus.teaching, campus.rheometer, WED, "14:00", "16:00")
    page = open_page(campus.researcher, width=width, locale="en-US")
    box = equipment_calendar(page, live_server, campus.rheometer, booked)
    top = page.locator(".calendar-mount").bounding_box()["y"]
    drag(page, box, 2 * box["height"])  # onto the class at 14:00
    notice = page.locator(".calendar-notice.error")
    notice.wait_for(state="visible")
    assert notice.get_attribute("role") == "alert"
    assert "already booked" in notice.inner_text()
    booked.refresh_from_db()
    assert (booked.start, booked.end) == (at(WED, "10:00"), at(WED, "12:00"))
    # Back at 10:00 for two hours, measured from the top of the calendar (the notice above
    # it pushed the page down).
    mount = page.locator(".calendar-mount").bounding_box()
    back = page.locator(f".ec-event[data-reservation='{booked.pk}']").bounding_box()
    assert abs((back["y"] - mount["y"]) - (box["y"] - top)) < 2
    assert abs(back["height"] - box["height"]) < 2


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", WIDTHS)
def test_select_free_time_to_open_the_booking_form(open_page, live_server, campus, book, width):
    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    page = open_page(campus.researcher, width=width)
    box = equipment_calendar(page, live_server, campus.rheometer, booked)
    if width >= 600:
        # In French, weeks from Monday.
        assert page.locator(".calendar .ec-title").inner_text() == "30 nov. – 6 déc. 2026"
        assert page.locator(".calendar .ec-col-head").first.inner_text().startswith("lun.")
    else:
        # A phone opens on the day asked for; the other views stay a button away.
        assert page.locator(".calendar .ec-title").inner_text() == "2 décembre 2026"
        toolbar = page.locator(".calendar .ec-toolbar")
        for name in ("Jour", "Semaine", "Mois", "Liste"):
            assert toolbar.get_by_role("button", name=name, exact=True).is_visible(), name
    hour = box["height"] / 2
    x = box["x"] + box["width"] / 2
    # From 14:00 to 16:00 the same Wednesday: four and six hours below 10:00.
    page.mouse.move(x, box["y"] + 4 * hour + 5)
    page.mouse.down()
    page.mouse.move(x, box["y"] + 5 * hour, steps=5)
    page.mouse.move(x, box["y"] + 6 * hour - 5, steps=5)
    page.mouse.up()
    page.wait_for_url(f"{live_server.url}/book/?**")
    page.wait_for_selector("input[name=equipment]:checked")  # the form has loaded
    assert page.locator("input[name=equipment]:checked").evaluate_all(
        "els => els.map(e => e.value)"
    ) == [str(campus.rheometer.pk)]
    assert page.input_value("#id_start") == local(WED, "14:00")
    assert page.input_value("#id_end") == local(WED, "16:00")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("zone", ["America/New_York", "Asia/Tokyo"])
def test_the_calendar_shows_paris_time_whatever_the_browsers_zone(
    new_page, live_server, campus, book, zone
):
    """Blocks at their Paris times and the now line at Paris's now, in a browser set to
    New York (6 hours behind) or Tokyo (8 hours ahead)."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "16:00", "17:00"
    ).reservations[0]
    page = new_page(campus.researcher, viewport={"width": 1366, "height": 900}, timezone_id=zone)
    # 16:30 in Paris: 10:30 in New York, 00:30 the next day in Tokyo.
    page.clock.set_fixed_time(datetime(2026, 12, 2, 15, 30, tzinfo=ZoneInfo("UTC")))
    assert page.evaluate("new Date().getHours()") != 16
    page.goto(f"{live_server.url}/equipment/{campus.rheometer.pk}/?week={WED}")
    block = page.locator(f".calendar .ec-event[data-reservation='{booked.pk}']")
    block.wait_for()
    assert "16:00" in block.inner_text()
    line = page.locator(".calendar .ec-now-indicator")
    line.wait_for()
    box, now = block.bounding_box(), line.bounding_box()
    # Half-way down the 16:00-17:00 block, in the Wednesday column.
    assert abs(now["y"] - (box["y"] + box["height"] / 2)) < 4, (now, box)
    assert box["x"] - 2 <= now["x"] <= box["x"] + box["width"]


@pytest.mark.django_db(transaction=True)
def test_a_click_selects_the_equipments_own_duration(open_page, live_server, campus, book):
    """Two hours on an equipment whose shortest booking is two hours (not the browser's
    fixed hour)."""
    from equipment.services import equipment_update

    equipment_update(
        actor=SYSTEM,
        equipment=campus.rheometer,
        policy={"granularity_minutes": 30, "min_duration_minutes": 120},
    )
    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    page = open_page(campus.researcher, width=1366)
    box = equipment_calendar(page, live_server, campus.rheometer, booked)
    hour = box["height"] / 2
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + 4 * hour + 5)  # 14:00
    page.wait_for_url(f"{live_server.url}/book/?**")
    page.wait_for_selector("input[name=equipment]:checked")
    assert page.input_value("#id_start") == local(WED, "14:00")
    assert page.input_value("#id_end") == local(WED, "16:00")


@pytest.mark.django_db(transaction=True)
def test_a_block_opens_its_details_and_the_planning_shows_every_equipment(
    open_page, live_server, campus, book
):
    book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        WED,
        "10:00",
        "12:00",
        title="Rhéologie émulsion E12",
    )
    Equipment.objects.filter(pk=campus.hplc.pk).update(status=Equipment.Status.MAINTENANCE)
    page = open_page(campus.outsider, width=1366, locale="en-US")
    page.goto(f"{live_server.url}/planning/?date={WED}&view=day")
    page.wait_for_selector(".calendar .ec-event")
    assert "December 2, 2026" in page.locator(".calendar .ec-title").inner_text()
    assert (
        page.locator("#planning-grid").is_hidden() and page.locator("#planning-pager").is_hidden()
    )
    resources = page.locator(".calendar").inner_text()
    assert "TO-RHEO-01" in resources and "WL-HPLC-01" in resources  # every equipment
    assert page.locator(".calendar .resource-out-of-service").inner_text().startswith("WL-HPLC-01")
    assert page.locator(".calendar .ec-bg-event.block-maintenance").count() == 1
    link = page.locator(".calendar .resource-out-of-service a")
    assert link.get_attribute("href") == f"/equipment/{campus.hplc.pk}/"
    page.locator(".calendar .ec-event").first.click()
    details = page.locator(".calendar-details")
    details.wait_for(state="visible")
    assert "Busy (research)" in details.inner_text()
    assert "Rhéologie émulsion E12" not in page.content()
    # A click on the rheometer's row an hour and a half after the booking: an hour from 13:30.
    box = page.locator(".calendar .ec-event").first.bounding_box()
    hour = box["width"] / 2
    page.mouse.click(box["x"] + box["width"] + 1.5 * hour + 4, box["y"] + box["height"] / 2)
    page.wait_for_url(f"{live_server.url}/book/?**")
    page.wait_for_selector("input[name=equipment]:checked")  # the form has loaded
    assert page.locator("input[name=equipment]:checked").evaluate_all(
        "els => els.map(e => e.value)"
    ) == [str(campus.rheometer.pk)]
    assert page.input_value("#id_start") == local(WED, "13:30")
    assert page.input_value("#id_end") == local(WED, "14:30")


@pytest.mark.django_db(transaction=True)
def test_the_planning_calendar_draws_busy_blocks_in_priority_colours(
    open_page, live_server, campus, book
):
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    book(campus.teacher, campus.teaching, campus.rheometer, WED, "14:00", "17:00")
    page = open_page(campus.outsider, width=1366)
    page.goto(f"{live_server.url}/planning/?view=day&date={WED}")
    blocks = page.locator(".calendar .ec-event.block-reservation")
    blocks.first.wait_for()
    assert blocks.count() == 2
    colours = blocks.evaluate_all("els => els.map(e => getComputedStyle(e).backgroundColor)")
    assert colours == ["rgb(21, 101, 192)", "rgb(46, 125, 50)"]  # research, pedagogical
    research, teaching = (blocks.nth(i).bounding_box() for i in range(2))
    # 10:00–12:00 and 14:00–17:00: two hours, then three, two hours apart.
    hour = research["width"] / 2
    assert abs(teaching["width"] - 3 * hour) < 3
    assert abs(teaching["x"] - (research["x"] + 4 * hour)) < 3
    # Others' bookings are busy time: labelled with their priority, no title.
    assert "Mesures" not in blocks.first.inner_text() + blocks.nth(1).inner_text()
    assert blocks.first.get_attribute("title").startswith("mercredi 2 décembre 2026, 10:00–12:00")


@pytest.mark.django_db(transaction=True)
def test_without_javascript_the_planning_grid_stays(open_page, live_server, campus, book):
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    book(campus.teacher, campus.teaching, campus.rheometer, WED, "14:00", "17:00")
    page = open_page(campus.outsider, width=1366, javascript=False)
    page.goto(f"{live_server.url}/planning/?view=day&date={WED}")
    assert page.locator(".calendar").is_hidden()
    assert page.locator("#planning-pager").is_visible()
    blocks = page.locator(".block-reservation")
    assert blocks.count() == 2
    colours = blocks.evaluate_all("els => els.map(e => getComputedStyle(e).backgroundColor)")
    assert colours == ["rgb(21, 101, 192)", "rgb(46, 125, 50)"]  # research, pedagogical
    research, teaching = (blocks.nth(i).bounding_box() for i in range(2))
    track = page.locator(f"tr[data-equipment='{campus.rheometer.pk}'] .track").bounding_box()
    # 10:00–12:00 and 14:00–17:00 on an 08:00–19:00 day: the CSS placed them.
    assert round((research["x"] - track["x"]) / track["width"] * 11, 1) == 2.0
    assert round(research["width"] / track["width"] * 11, 1) == 2.0
    assert round((teaching["x"] - track["x"]) / track["width"] * 11, 1) == 6.0
    assert "Mesures" not in blocks.first.inner_text() + blocks.nth(1).inner_text()
    assert blocks.first.get_attribute("title").startswith("10:00–12:00 · ")


@pytest.mark.django_db(transaction=True)
def test_month_and_list_views_and_a_day_opened_from_the_month(open_page, live_server, campus, book):
    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    page = open_page(campus.researcher, width=1366, locale="en-US")
    equipment_calendar(page, live_server, campus.rheometer, booked)
    toolbar = page.locator(".calendar .ec-toolbar")
    toolbar.get_by_role("button", name="List").click()
    assert "10:00" in page.locator(".calendar .ec-list").inner_text()
    toolbar.get_by_role("button", name="Month").click()
    assert page.locator(".calendar .ec-title").inner_text() == "November 2026"
    toolbar.get_by_role("button", name="Next").click()
    assert page.locator(".calendar .ec-title").inner_text() == "December 2026"
    # A day of the month opens hour by hour.
    page.locator(".calendar .ec-day").nth(10).click(position={"x": 5, "y": 40})
    assert (
        page.locator(".calendar .ec-title").inner_text() == "December 10, 2026"
    )  # the grid starts on Monday 30 November
