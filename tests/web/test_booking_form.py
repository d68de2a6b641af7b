"""The booking form of SPEC §8: equipment picker by site and category, repetition daily,
weekly or every N weeks, term presets from the zone B school calendar, school holidays
skipped by default for classes, the free-time preview, and results grouped by week."""

from __future__ import annotations

import os
import re
from datetime import date

import pytest

from core.french_calendars import school_calendar_end, term_end
from core.roles import SYSTEM
from equipment.selectors import search_key
from equipment.services import equipment_create
from reservations.forms import build_rrule
from reservations.models import Reservation, Series
from reservations.recurrence import expand
from tests.web.conftest import wait_until

from .conftest import FAR, PARIS, WED, at, local
from .helpers import done, post

MONDAY = date(2026, 11, 30)
SCREENSHOTS = os.environ.get("BOOKING_SCREENSHOTS", "")


# --- pure: the RRULE, the term presets, the search words ----------------------------------


@pytest.mark.parametrize(
    ("options", "rule"),
    [
        ({"frequency": "once"}, None),
        ({"frequency": "daily", "count": 5}, "FREQ=DAILY;COUNT=5"),
        (
            {"frequency": "daily", "weekdays": ["FR", "MO", "TU", "WE", "TH"], "count": 10},
            "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=10",
        ),
        ({"frequency": "daily", "interval": 2, "count": 3}, "FREQ=DAILY;INTERVAL=2;COUNT=3"),
        # No day ticked: the day of the start (a Monday).
        (
            {"frequency": "weekly", "until": date(2027, 1, 13)},
            "FREQ=WEEKLY;BYDAY=MO;UNTIL=20270113",
        ),
        (
            {"frequency": "weekly", "interval": 2, "weekdays": ["TH", "TU"], "count": 4},
            "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;COUNT=4",
        ),
    ],
)
def test_build_rrule(options, rule):
    assert build_rrule(start_day=MONDAY, **options) == rule


def test_every_other_week_rule_is_expanded_by_the_recurrence_module():
    rule = build_rrule(
        frequency="weekly", start_day=MONDAY, interval=2, weekdays=["MO", "WE"], count=4
    )
    found = expand(rule, at(MONDAY, "09:00"), at(MONDAY, "11:00"), PARIS)
    assert [s.astimezone(PARIS).strftime("%a %d/%m %H:%M") for s, _e in found] == [
        "Mon 30/11 09:00",
        "Wed 02/12 09:00",
        "Mon 14/12 09:00",
        "Wed 16/12 09:00",
    ]


@pytest.mark.parametrize(
    ("day", "preset", "last"),
    [
        # Christmas holidays of zone B start on Saturday 19 December 2026.
        (date(2026, 11, 23), "next_holidays", date(2026, 12, 18)),
        (date(2026, 11, 23), "school_year_end", date(2027, 7, 2)),
        # From inside the holidays: the next ones (winter, from 20 February 2027).
        (date(2026, 12, 22), "next_holidays", date(2027, 2, 19)),
        # The eve of the holidays is itself the last day.
        (date(2026, 12, 17), "next_holidays", date(2026, 12, 18)),
        # Beyond the published calendar (it ends with the summer of 2028): unknown.
        (date(2028, 9, 10), "next_holidays", None),
        (date(2028, 1, 10), "school_year_end", date(2028, 7, 3)),
        (date(2028, 9, 10), "school_year_end", None),
    ],
)
def test_term_presets_follow_the_zone_b_calendar(day, preset, last):
    assert term_end(preset, day) == last


def test_school_calendar_end_is_the_last_published_summer():
    assert school_calendar_end(2026) == date(2028, 8, 31)
    assert school_calendar_end(2029) == date(2028, 8, 31)


def test_search_words_ignore_case_and_accents():
    assert search_key("TO-RHEO-01 Rhéomètre Anton Paar") == "to-rheo-01 rheometre anton paar"


# --- the page ---------------------------------------------------------------------------


def page_of(client, user, query: str = "", **headers) -> str:
    client.force_login(user)
    response = client.get("/book/" + query, **headers)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_equipment_is_picked_with_checkboxes_by_site_and_category(client, campus):
    spare = equipment_create(
        actor=SYSTEM,
        code="WL-HPLC-02",
        name="Chaîne HPLC Waters",
        category=campus.chroma,
        site=campus.site,
    )
    page = page_of(client, campus.researcher, f"?equipment={spare.pk}")
    assert (
        "<select"
        not in page[page.index('id="equipment-picker"') : page.index('<label for="id_project"')]
    )
    legends = re.findall(r"<legend>([^<]+)</legend>", page)
    # Sites by name, then categories, each with its equipment.
    assert legends[:5] == ["Équipements", "Plateau Tours", "Rhéologie", "We Lab", "Chromatographie"]
    codes = re.findall(r'<label for="id_equipment_\d+">([A-Z0-9-]+) –', page)
    assert codes == ["TO-RHEO-01", "WL-HPLC-01", "WL-HPLC-02"]
    assert f'name="equipment" value="{spare.pk}" id="id_equipment_{spare.pk}" checked>' in page
    # Words without accents, for the search box (which JavaScript reveals).
    assert 'data-search="to-rheo-01 rheometre anton paar plateau tours rheologie"' in page
    assert '<div class="field equipment-search" hidden>' in page
    assert "/static/js/booking.js" in page and "/static/css/booking.css" in page


@pytest.mark.django_db
def test_daily_series_every_other_day(client, campus):
    response = post(
        client,
        campus.researcher,
        campus.rheometer,
        campus.research,
        MONDAY,
        "09:00",
        "10:00",
        frequency="daily",
        interval=2,
        repeat_end="count",
        count=3,
    )
    assert response.status_code == 302
    (series,) = Series.objects.all()
    assert series.rrule == "FREQ=DAILY;INTERVAL=2;COUNT=3"
    days = [r.start.astimezone(PARIS).date() for r in Reservation.objects.order_by("start")]
    assert days == [MONDAY, date(2026, 12, 2), date(2026, 12, 4)]


@pytest.mark.django_db
def test_every_other_week_on_two_days_until_a_date(client, campus):
    response = post(
        client,
        campus.researcher,
        campus.rheometer,
        campus.research,
        MONDAY,
        "14:00",
        "16:00",
        frequency="weekly",
        interval=2,
        weekdays=["TU", "TH"],
        until="2026-12-18",
    )
    assert response.status_code == 302
    (series,) = Series.objects.all()
    assert series.rrule == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH;UNTIL=20261218"
    days = [r.start.astimezone(PARIS).date().isoformat() for r in Reservation.objects.all()]
    assert sorted(days) == ["2026-12-01", "2026-12-03", "2026-12-15", "2026-12-17"]


@pytest.mark.django_db
def test_once_ignores_the_repetition_fields(client, campus):
    response = post(
        client,
        campus.researcher,
        campus.rheometer,
        campus.research,
        WED,
        "10:00",
        "12:00",
        frequency="once",
        weekdays=["MO"],
        repeat_end="count",
    )
    assert response.status_code == 302
    assert Reservation.objects.count() == 1 and not Series.objects.exists()


@pytest.mark.django_db
def test_term_preset_without_javascript_sets_the_last_day(client, campus):
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        MONDAY,
        "09:00",
        "11:00",
        frequency="weekly",
        term="next_holidays",
    )
    assert response.status_code == 302
    (series,) = Series.objects.all()
    assert series.rrule == "FREQ=WEEKLY;BYDAY=MO;UNTIL=20261218"
    assert Reservation.objects.count() == 3  # 30 November, 7 and 14 December


@pytest.mark.django_db
def test_term_preset_beyond_the_published_calendar_is_refused(client, campus):
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        date(2028, 9, 11),
        "09:00",
        "11:00",
        frequency="weekly",
        term="school_year_end",
        language="en",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The zone B school calendar does not say when that is" in page
    assert '<code class="code">school_calendar_unknown</code>' in page
    assert not Reservation.objects.exists()


@pytest.mark.django_db
def test_a_class_skips_school_holidays_by_default(client, campus):
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        FAR,
        "09:00",
        "11:00",
        frequency="weekly",
        until="2027-01-13",
        language="en",
    )
    assert response.status_code == 302
    (series,) = Series.objects.all()
    assert series.skip_school_holidays is True
    days = [r.start.astimezone(PARIS).date().isoformat() for r in Reservation.objects.all()]
    assert sorted(days) == ["2026-12-16", "2027-01-06", "2027-01-13"]
    page = done(client, HTTP_ACCEPT_LANGUAGE="en")
    assert "Wednesday 23 December 2026 09:00–11:00: school holiday" in page


@pytest.mark.django_db
def test_a_class_may_choose_not_to_skip_school_holidays(client, campus):
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        FAR,
        "09:00",
        "11:00",
        frequency="weekly",
        until="2027-01-13",
        school_holidays="keep",
    )
    assert response.status_code == 302
    assert Series.objects.get().skip_school_holidays is False
    assert Reservation.objects.count() == 5


@pytest.mark.django_db
def test_research_does_not_skip_school_holidays_by_default(client, campus):
    response = post(
        client,
        campus.researcher,
        campus.rheometer,
        campus.research,
        WED,
        "10:00",
        "12:00",
        frequency="weekly",
        repeat_end="count",
        count=4,
    )
    assert response.status_code == 302
    assert Series.objects.get().skip_school_holidays is False
    days = [r.start.astimezone(PARIS).date().isoformat() for r in Reservation.objects.all()]
    assert "2026-12-23" in days and len(days) == 4


@pytest.mark.django_db
def test_a_research_project_may_skip_school_holidays(client, campus):
    response = post(
        client,
        campus.researcher,
        campus.rheometer,
        campus.research,
        WED,
        "10:00",
        "12:00",
        frequency="weekly",
        repeat_end="count",
        count=4,
        school_holidays="skip",
    )
    assert response.status_code == 302
    assert Series.objects.get().skip_school_holidays is True
    days = [r.start.astimezone(PARIS).date().isoformat() for r in Reservation.objects.all()]
    assert sorted(days) == ["2026-12-02", "2026-12-09", "2026-12-16"]  # not the 23rd


@pytest.mark.django_db
def test_the_default_asks_when_school_holidays_are_not_published(client, campus):
    # The autumn of 2028 is beyond the published calendar (it ends on 31 August 2028).
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        date(2028, 8, 28),
        "09:00",
        "11:00",
        frequency="weekly",
        repeat_end="count",
        count=3,
        language="en",
    )
    assert response.status_code == 400
    page = response.content.decode()
    field = page[page.index('id="id_school_holidays"') :]
    assert "The zone B school holidays after 31 August 2028 are not published yet" in field
    assert '<code class="code">school_calendar_unknown</code>' in field
    # Choosing leaves the form's question answered (the service then applies its rules).
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        date(2028, 8, 28),
        "09:00",
        "11:00",
        frequency="weekly",
        repeat_end="count",
        count=3,
        school_holidays="keep",
        language="en",
    )
    page = response.content.decode()
    assert "school_calendar_unknown" not in page
    # Past the form, the service refuses it by its own rule: too far ahead for now.
    assert response.status_code == 400 and '<code class="code">beyond_horizon</code>' in page
    assert not Reservation.objects.exists()


@pytest.mark.django_db
def test_show_free_time_without_javascript(client, campus, book):
    book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        WED,
        "10:00",
        "12:00",
        title="Thèse confidentielle",
    )
    client.force_login(campus.teacher)
    response = client.post(
        "/book/",
        {
            "equipment": [campus.rheometer.pk, campus.hplc.pk],
            "start": local(WED, "14:00"),
            "title": "TP émulsions",
            "frequency": "weekly",
            "weekdays": ["WE"],
            "preview": "1",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 200
    page = response.content.decode()
    results = page[page.index('id="free-time-results"') : page.index('id="id_title"')]
    assert "Wednesday 2 December 2026" in results
    rheometer = results[results.index(f'data-equipment="{campus.rheometer.pk}"') :]
    assert "Free: 08:00–10:00, 12:00–19:00" in rheometer
    assert "Busy: 10:00–12:00 (booked)" in rheometer
    hplc = results[results.index(f'data-equipment="{campus.hplc.pk}"') :]
    assert "Free: 08:00–19:00" in hplc
    # Busy time only: another partner's title stays hidden.
    assert "Thèse confidentielle" not in page
    # The form comes back as typed, without complaints, and nothing is booked.
    assert 'value="TP émulsions"' in page and 'value="2026-12-02T14:00"' in page
    assert 'value="weekly" id="id_frequency_2" checked' in page
    assert 'class="error"' not in page
    assert Reservation.objects.count() == 1


@pytest.mark.django_db
def test_show_free_time_in_french_names_the_day(client, campus):
    client.force_login(campus.teacher)
    page = client.post(
        "/book/",
        {
            "equipment": [campus.rheometer.pk],
            "start": local(date(2027, 3, 9), "09:00"),
            "preview": "1",
        },
    ).content.decode()
    assert "mardi 9 mars 2027" in page
    assert not re.search(r"\bmar\.? 9 [Mm]ar", page)


@pytest.mark.django_db
def test_results_are_grouped_by_week_with_the_session_on_one_row(client, campus):
    twin = equipment_create(
        actor=SYSTEM,
        code="TO-RHEO-02",
        name="Rhéomètre TA",
        category=campus.rheo,
        site=campus.other_site,
    )
    third = equipment_create(
        actor=SYSTEM,
        code="TO-RHEO-03",
        name="Rhéomètre Malvern",
        category=campus.rheo,
        site=campus.other_site,
    )
    response = post(
        client,
        campus.teacher,
        [campus.rheometer, twin, third],
        campus.teaching,
        MONDAY,
        "09:00",
        "11:00",
        frequency="weekly",
        weekdays=["MO", "WE"],
        repeat_end="count",
        count=3,
    )
    assert response.status_code == 302
    assert Reservation.objects.count() == 9
    page = done(client, HTTP_ACCEPT_LANGUAGE="en")
    assert "9 reservations created." in page
    weeks = re.findall(r'<h2 id="week-[\d-]+">([^<]+)</h2>', page)
    assert weeks == ["Week of 30 November 2026", "Week of 7 December 2026"]
    rows = re.findall(r'<li class="booked-row">(.*?)</li>', page, re.S)
    assert len(rows) == 3  # one row per time, the three rheometers on it
    assert "Monday 30 November 2026, 09:00–11:00" in rows[0]
    assert re.findall(r"TO-RHEO-0\d", rows[0]) == ["TO-RHEO-01", "TO-RHEO-02", "TO-RHEO-03"]
    assert "Wednesday 2 December 2026" in rows[1] and "Monday 7 December 2026" in rows[2]
    french = done(client)
    assert "lundi 30 novembre 2026, 09:00–11:00" in french


@pytest.mark.django_db
def test_results_list_displaced_bookings_and_skipped_dates_in_words(client, campus, book):
    book(campus.researcher, campus.research, campus.rheometer, FAR, "09:00", "10:00")
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        FAR,
        "09:00",
        "11:00",
        frequency="weekly",
        until="2027-01-06",
    )
    assert response.status_code == 302
    page = done(client)
    assert "mercredi 16 décembre 2026" in page
    # The holidays, in words, with the code for the curious.
    assert "mercredi 23 décembre 2026 09:00–11:00: vacances scolaires" in page
    assert page.count('<code class="code">school_holiday</code>') == 2
    displaced = page[page.index('class="displaced"') :]
    assert "TO-RHEO-01 · mercredi 16 décembre 2026 09:00–10:00" in displaced


@pytest.mark.django_db
def test_the_term_buttons_ask_the_server_for_the_last_day(client, campus):
    """The buttons' dates come from core.french_calendars, on the server."""
    page = page_of(client, campus.teacher)
    assert 'data-term="next_holidays"' in page and 'data-term="school_year_end"' in page
    assert 'data-url="/book/term-end/"' in page

    def ask(term: str, start: str, **headers):
        return client.get("/book/term-end/", {"term": term, "start": start}, **headers)

    answer = ask("next_holidays", "2026-11-23T09:00", HTTP_ACCEPT_LANGUAGE="en").json()
    assert answer == {"until": "2026-12-18", "words": "Last day set to Friday 18 December 2026."}
    assert ask("school_year_end", "2026-11-23T09:00").json()["until"] == "2027-07-02"
    refused = ask("school_year_end", "2028-09-11T09:00")
    assert refused.status_code == 400 and refused.json()["code"] == "school_calendar_unknown"
    assert ask("whenever", "2026-11-23T09:00").status_code == 400
    assert ask("next_holidays", "soon").status_code == 400
    assert ask("next_holidays", "2027-02-30T09:00").status_code == 400
    # Only the day counts: 02:30 does not exist on 28 March 2027, the term still does.
    assert ask("school_year_end", "2027-03-28T02:30").json()["until"] == "2027-07-02"
    # Digits that are not ASCII are not ids (int("²") raises): the form, not a 500.
    for url in ("/book/", "/book/free-time/"):
        assert client.get(url, {"equipment": "²"}).status_code == 200
    client.logout()
    assert ask("next_holidays", "2026-11-23T09:00").status_code == 302


@pytest.mark.django_db
def test_the_free_time_fragment_spans_the_opening_hours(client, campus):
    """The bars run over the chosen equipment's opening hours (08:00-19:00 by default),
    widened to the longest day among them."""
    client.force_login(campus.teacher)

    def fragment(*equipment) -> str:
        query = {"equipment": [e.pk for e in equipment], "start": local(WED, "14:00")}
        response = client.get("/book/free-time/", query, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200
        return response.content.decode()

    page = fragment(campus.rheometer)
    assert "Wednesday 2 December 2026" in page and "bars from 08:00 to 19:00" in page
    # Free 08:00-19:00: the whole bar.
    assert 'class="seg seg-free" style="left: 0.00%; width: 100.00%"' in page
    long_day = equipment_create(
        actor=SYSTEM,
        code="TO-LONG",
        name="Ouvert tard",
        category=campus.rheo,
        site=campus.site,
        policy={"opening_hours": {"wed": [["07:00", "22:00"]]}},
    )
    both = fragment(campus.rheometer, long_day)
    assert "bars from 07:00 to 22:00" in both
    # One scale for every bar: the rheometer's 08:00-19:00 on the 07:00-22:00 bar.
    rheometer = both[both.index(f'data-equipment="{campus.rheometer.pk}"') :]
    assert 'class="seg seg-free" style="left: 6.67%; width: 73.33%"' in rheometer
    assert "Tick equipment" in fragment()


@pytest.mark.django_db
def test_the_free_time_of_ten_equipment_costs_the_queries_of_one(
    client, campus, django_assert_num_queries
):
    more = [
        equipment_create(
            actor=SYSTEM, code=f"TO-P{n}", name=f"Poste {n}", category=campus.rheo, site=campus.site
        )
        for n in range(9)
    ]
    client.force_login(campus.teacher)

    def count(equipment) -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        query = {"equipment": [e.pk for e in equipment], "start": local(WED, "14:00")}
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/book/free-time/", query).status_code == 200
        return len(ctx.captured_queries)

    count([campus.rheometer])  # warms the caches
    one = count([campus.rheometer])
    ten = count([campus.rheometer, *more])
    assert one == ten


# --- in the browser -------------------------------------------------------------------------


@pytest.fixture
def phone_or_desktop(new_page):
    """A logged-in page of the given width (conftest's `new_page`: every request must go to
    the live server)."""

    def make(user, *, width: int):
        return new_page(user, viewport={"width": width, "height": 900})

    return make


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [pytest.param(1366, id="desktop"), pytest.param(390, id="phone")])
def test_search_filters_equipment_and_the_preview_draws_free_time(
    phone_or_desktop, live_server, campus, book, width
):
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    page = phone_or_desktop(campus.teacher, width=width)
    page.goto(f"{live_server.url}/book/?start={local(WED, '14:00')}")
    rheometer = page.locator(f"#id_equipment_{campus.rheometer.pk}")
    hplc = page.locator(f"#id_equipment_{campus.hplc.pk}")
    assert fits(page)
    # Typed without accents, the search finds "Rhéomètre" and hides the rest, site included.
    page.fill("#equipment-search", "rheometre")
    assert rheometer.is_visible() and hplc.is_hidden()
    assert page.locator("fieldset.equipment-site", has_text="We Lab").is_hidden()
    assert page.locator("#equipment-search-status").inner_text() == "1 sur 2 affichés"
    rheometer.check()
    # A ticked equipment stays in sight whatever is typed next.
    page.fill("#equipment-search", "hplc")
    assert rheometer.is_visible() and hplc.is_visible()
    page.fill("#equipment-search", "")
    # The free time of the ticked equipment that day, drawn and written.
    item = page.locator(
        f"#free-time-results .free-time-item[data-equipment='{campus.rheometer.pk}']"
    )
    item.wait_for()
    assert "mercredi 2 décembre 2026" in page.locator("#free-time-results").inner_text()
    assert "08:00–10:00, 12:00–19:00" in item.inner_text()
    assert item.locator(".day-bar .seg-busy").count() == 1
    assert item.locator(".day-bar .seg-free").count() == 2
    hplc.check()
    page.locator(
        f"#free-time-results .free-time-item[data-equipment='{campus.hplc.pk}']"
    ).wait_for()
    assert fits(page)
    # A term button fills the last day: the eve of the Christmas holidays.
    page.locator("button[data-term='next_holidays']").click()
    wait_until(
        page, lambda: page.input_value("#id_until") == "2026-12-18", what="the term's last day"
    )
    assert "vendredi 18 décembre 2026" in page.locator("#term-status").inner_text()
    assert page.locator("#id_term").is_hidden()
    assert fits(page)
    if SCREENSHOTS:
        page.screenshot(path=f"{SCREENSHOTS}/book-{width}.png", full_page=True)
    # Opened pre-filled (a calendar selection, a "Book" button): ticked, and previewed.
    page.goto(f"{live_server.url}/book/?equipment={campus.hplc.pk}&start={local(WED, '09:00')}")
    ticked = page.locator("input[name=equipment]:checked")
    assert ticked.evaluate_all("els => els.map(e => e.value)") == [str(campus.hplc.pk)]
    page.locator(
        f"#free-time-results .free-time-item[data-equipment='{campus.hplc.pk}']"
    ).wait_for()


@pytest.mark.django_db
def test_enter_in_a_field_books_rather_than_previews(client, campus):
    page = page_of(client, campus.researcher, HTTP_ACCEPT_LANGUAGE="en")
    form = page[page.index('<form method="post" class="card form" id="booking-form"') :]
    submits = re.findall(r'<(?:input|button) type="submit"[^>]*>', form)
    # The browser submits with the first one when Enter is pressed in a field.
    assert 'value="Book"' in submits[0] and 'name="preview"' in submits[1]
    assert form.count('<button type="submit">') == 1


@pytest.mark.django_db
def test_skipping_unknown_school_holidays_is_refused_at_the_choice(client, campus):
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        date(2029, 1, 8),
        "09:00",
        "11:00",
        frequency="weekly",
        repeat_end="count",
        count=2,
        school_holidays="skip",
        language="en",
    )
    assert response.status_code == 400
    page = response.content.decode()
    field = page[page.index('id="id_school_holidays"') : page.index('id="id_skip_conflicts"')]
    assert '<code class="code">school_calendar_unknown</code>' in field
    assert not Reservation.objects.exists()
