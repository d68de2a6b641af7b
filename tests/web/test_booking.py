"""The booking form: one equipment, a session, a weekly series; results, rule errors with
their codes, per-occurrence refusals and alternatives that fill the form again."""

from __future__ import annotations

import html
import re
from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest

from core.models import AuditEntry
from core.roles import SYSTEM
from equipment.services import equipment_create
from reservations.models import Reservation, Series

from .conftest import FAR, WED
from .helpers import done, post, ticked

pytestmark = pytest.mark.django_db


def alternative_links(page: str) -> list[str]:
    return [html.unescape(u) for u in re.findall(r'<a href="([^"]+)" class="alternative">', page)]


def test_book_button_prefills_the_equipment(client, campus):
    client.force_login(campus.researcher)
    page = client.get(f"/book/?equipment={campus.rheometer.pk}").content.decode()
    assert ticked(page) == [str(campus.rheometer.pk)]
    assert f'value="{campus.hplc.pk}" id="id_equipment_{campus.hplc.pk}">' in page
    # Only the user's projects are offered.
    assert "Thèse émulsions" in page and "Projet ouvert" in page
    assert "TP formulation" not in page and "Servier" not in page
    # Overriding rules is for managers only.
    assert 'name="override"' not in page


def test_single_booking_shows_the_confirmation_in_french(client, campus):
    response = post(
        client, campus.researcher, campus.rheometer, campus.research, WED, "10:00", "12:00"
    )
    assert response.status_code == 302 and response["Location"] == "/book/done/"
    (booked,) = Reservation.objects.all()
    assert (booked.booked_by, booked.project, booked.equipment) == (
        campus.researcher,
        campus.research,
        campus.rheometer,
    )
    assert booked.status == "confirmed" and booked.expected_participants == 2
    assert booked.start.isoformat() == "2026-12-02T09:00:00+00:00"  # 10:00 in Paris
    page = done(client)
    assert "mercredi 2 décembre 2026" in page
    assert "10:00–12:00" in page and "Mesures de viscosité" in page
    assert f'data-reservation="{booked.pk}"' in page
    assert "confirmé" in page  # the status, translated


def test_single_booking_confirmation_in_english(client, campus):
    post(client, campus.researcher, campus.rheometer, campus.research, WED, "10:00", "12:00")
    page = done(client, HTTP_ACCEPT_LANGUAGE="en")
    assert "1 reservation created." in page
    assert "Wednesday 2 December 2026" in page and "confirmed" in page


def test_rule_error_is_shown_next_to_the_form_with_its_code(client, campus):
    response = post(
        client,
        campus.researcher,
        campus.rheometer,
        campus.research,
        WED,
        "07:00",
        "08:00",
        language="en",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "The reservation is outside the opening hours." in page
    assert '<code class="code">outside_opening_hours</code>' in page
    # The form keeps what was typed.
    assert 'value="2026-12-02T07:00"' in page and "Mesures de viscosité" in page
    assert not Reservation.objects.exists()


def test_conflict_in_french_lists_alternatives_that_fill_the_form(client, campus, book):
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    response = post(
        client, campus.researcher, campus.rheometer, campus.open_research, WED, "11:00", "12:00"
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "L&#x27;équipement est déjà réservé sur ce créneau." in page
    assert '<code class="code">conflict</code>' in page
    links = alternative_links(page)
    starts = [parse_qs(urlsplit(u).query)["start"][0] for u in links]
    # Really different choices: later that day, earlier that day, another day.
    assert starts == ["2026-12-02T12:00", "2026-12-02T09:00", "2026-12-03T11:00"]
    query = parse_qs(urlsplit(links[0]).query)
    assert query == {
        "equipment": [str(campus.rheometer.pk)],
        "project": [str(campus.open_research.pk)],
        "start": ["2026-12-02T12:00"],
        "end": ["2026-12-02T13:00"],
        "title": ["Mesures de viscosité"],
        "expected_participants": ["2"],
    }
    assert Reservation.objects.count() == 1
    # Following the link fills the form with the alternative.
    form = client.get(links[0]).content.decode()
    assert 'value="2026-12-02T12:00"' in form and 'value="2026-12-02T13:00"' in form
    assert f'<option value="{campus.open_research.pk}" selected>' in form
    assert ticked(form) == [str(campus.rheometer.pk)]
    assert 'value="Mesures de viscosité"' in form


def test_alternatives_include_equipment_of_the_same_category_and_site(client, campus, book):
    twin = equipment_create(
        actor=SYSTEM,
        code="TO-RHEO-02",
        name="Rhéomètre TA",
        category=campus.rheo,
        site=campus.other_site,
    )
    book(campus.researcher, campus.research, campus.rheometer, WED, "08:00", "16:00")
    response = post(
        client, campus.researcher, campus.rheometer, campus.research, WED, "10:00", "12:00"
    )
    found = [parse_qs(urlsplit(u).query) for u in alternative_links(response.content.decode())]
    assert [(q["equipment"][0], q["start"][0]) for q in found] == [
        # Later that day (nothing free earlier), then the same time the next and the
        # previous day: never two overlapping slots.
        (str(campus.rheometer.pk), "2026-12-02T16:00"),
        (str(campus.rheometer.pk), "2026-12-03T10:00"),
        (str(campus.rheometer.pk), "2026-12-01T10:00"),
        (str(twin.pk), "2026-12-02T10:00"),
    ]


def test_session_books_several_equipment_together(client, campus):
    twin = equipment_create(
        actor=SYSTEM,
        code="TO-RHEO-02",
        name="Rhéomètre TA",
        category=campus.rheo,
        site=campus.other_site,
    )
    post(
        client, campus.researcher, [campus.rheometer, twin], campus.research, WED, "10:00", "12:00"
    )
    booked = list(Reservation.objects.order_by("equipment__code"))
    assert [r.equipment for r in booked] == [campus.rheometer, twin]
    assert booked[0].session_id is not None and booked[0].session_id == booked[1].session_id
    page = done(client, HTTP_ACCEPT_LANGUAGE="en")
    assert "2 reservations created." in page


def test_refused_session_names_the_busy_equipment(client, campus, book):
    twin = equipment_create(
        actor=SYSTEM,
        code="TO-RHEO-02",
        name="Rhéomètre TA",
        category=campus.rheo,
        site=campus.other_site,
    )
    book(campus.researcher, campus.research, twin, WED, "10:00", "11:00")
    response = post(
        client,
        campus.researcher,
        [campus.rheometer, twin],
        campus.open_research,
        WED,
        "10:00",
        "12:00",
        language="en",
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "<td>TO-RHEO-02</td><td>already booked" in page
    assert "<td>TO-RHEO-01</td>" not in page
    assert Reservation.objects.count() == 1


def test_weekly_series_by_count_builds_the_rrule(client, campus):
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        date(2026, 11, 30),
        "09:00",
        "11:00",
        repeat="on",
        weekdays=["MO", "WE"],
        repeat_end="count",
        count=4,
    )
    assert response.status_code == 302
    (series,) = Series.objects.all()
    assert series.rrule == "FREQ=WEEKLY;BYDAY=MO,WE;COUNT=4"
    days = [r.start.date().isoformat() for r in Reservation.objects.order_by("start")]
    assert days == ["2026-11-30", "2026-12-02", "2026-12-07", "2026-12-09"]
    page = done(client)
    assert "lundi 7 décembre 2026" in page


def test_weekly_series_until_a_date_skips_school_holidays(client, campus):
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        FAR,
        "09:00",
        "11:00",
        repeat="on",
        repeat_end="until",
        until="2027-01-13",
        skip_school_holidays="on",
    )
    assert response.status_code == 302
    (series,) = Series.objects.all()
    # No weekday ticked: the day of the start.
    assert series.rrule == "FREQ=WEEKLY;BYDAY=WE;UNTIL=20270113"
    assert series.skip_school_holidays is True
    days = [r.start.date().isoformat() for r in Reservation.objects.order_by("start")]
    assert days == ["2026-12-16", "2027-01-06", "2027-01-13"]
    page = done(client, HTTP_ACCEPT_LANGUAGE="en")
    assert "Skipped occurrences" in page
    assert page.count('<code class="code">school_holiday</code>') == 2
    assert "Wednesday 23 December 2026" in page and "Wednesday 30 December 2026" in page


def test_series_skipping_conflicts_lists_the_skipped_occurrence(client, campus, book):
    book(campus.researcher, campus.research, campus.rheometer, WED, "09:00", "10:00")
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        WED,
        "09:00",
        "11:00",
        repeat="on",
        repeat_end="count",
        count=3,
        skip_conflicts="on",
    )
    assert response.status_code == 302
    assert Reservation.objects.filter(project=campus.teaching).count() == 2
    page = done(client)
    assert page.count('<code class="code">conflict</code>') == 1
    assert "mercredi 2 décembre 2026" in page


def test_refused_series_lists_every_failing_occurrence(client, campus):
    # Research books 60 days ahead at most: the last weeks of a ten-week series are refused.
    response = post(
        client,
        campus.researcher,
        campus.rheometer,
        campus.research,
        WED,
        "10:00",
        "12:00",
        repeat="on",
        repeat_end="count",
        count=10,
        language="en",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "Some occurrences break the booking rules: nothing was booked." in page
    assert page.count('<code class="code">beyond_horizon</code>') == 2 + 1
    assert "Wednesday 3 February 2027" in page and "Wednesday 27 January 2027" in page
    assert not Reservation.objects.exists()


def test_refused_series_of_conflicts_answers_409_with_alternatives(client, campus, book):
    book(campus.researcher, campus.research, campus.rheometer, WED, "09:00", "10:00")
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        WED,
        "09:00",
        "11:00",
        repeat="on",
        repeat_end="count",
        count=3,
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert page.count('<code class="code">conflict</code>') == 2  # the error and its row
    assert len(alternative_links(page)) == 3
    assert Reservation.objects.count() == 1


def test_teaching_booking_displaces_research_and_shows_only_busy_time(client, campus, book):
    campus.researcher.first_name, campus.researcher.last_name = "Claire", "Dubois"
    campus.researcher.save()
    victim = book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        FAR,
        "10:00",
        "12:00",
        title="Thèse confidentielle",
    ).reservations[0]
    response = post(
        client, campus.teacher, campus.rheometer, campus.teaching, FAR, "10:00", "12:00"
    )
    assert response.status_code == 302
    victim.refresh_from_db()
    assert victim.status == "displaced"
    page = done(client, HTTP_ACCEPT_LANGUAGE="en")
    assert "Displaced reservations" in page
    assert "TO-RHEO-01 · Wednesday 16 December 2026 10:00–12:00 (research)" in page
    assert "Thèse confidentielle" not in page and "Dubois" not in page


def test_industrial_booking_awaits_approval(client, campus, qualified):
    post(client, campus.industrial, campus.hplc, campus.confidential, WED, "10:00", "12:00")
    (booked,) = Reservation.objects.all()
    assert booked.status == "pending"
    page = done(client, HTTP_ACCEPT_LANGUAGE="en")
    assert "1 awaits a manager's approval." in page


def test_project_of_someone_else_is_refused_by_the_form(client, campus):
    response = post(
        client,
        campus.researcher,
        campus.rheometer,
        campus.teaching,
        WED,
        "10:00",
        "12:00",
        language="en",
    )
    assert response.status_code == 400
    assert '<code class="code">invalid_choice</code>' in response.content.decode()
    assert not Reservation.objects.exists()


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ("2026-10-25T02:30", "happens twice in Europe/Paris"),  # the autumn change
        ("2027-03-28T02:30", "does not exist in Europe/Paris"),  # the spring change
    ],
)
def test_local_times_made_ambiguous_by_daylight_saving_are_refused(client, campus, start, message):
    client.force_login(campus.teacher)
    response = client.post(
        "/book/",
        {
            "equipment": [campus.rheometer.pk],
            "project": campus.teaching.pk,
            "start": start,
            "end": start[:11] + "05:00",
            "title": "Nuit",
            "expected_participants": 1,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page and '<code class="code">ambiguous_time</code>' in page


def test_dates_beyond_the_calendar_are_refused_by_the_form(client, campus):
    client.force_login(campus.teacher)
    response = client.post(
        "/book/",
        {
            "equipment": [campus.rheometer.pk],
            "project": campus.teaching.pk,
            "start": "9999-12-31T22:00",
            "end": "9999-12-31T23:00",
            "title": "Fin des temps",
            "expected_participants": 1,
            "repeat": "on",
            "until": "9999-12-31",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert page.count("Choose a date between 1900 and 2199.") == 3
    assert page.count('<code class="code">out_of_range</code>') == 3
    assert not Reservation.objects.exists()


def test_series_ending_before_it_starts_is_explained_at_its_end(client, campus):
    response = post(
        client,
        campus.teacher,
        campus.rheometer,
        campus.teaching,
        WED,
        "09:00",
        "11:00",
        repeat="on",
        repeat_end="until",
        until="2026-11-30",
        language="en",
    )
    assert response.status_code == 400
    page = response.content.decode()
    until = page[page.index('<label for="id_until">') : page.index('<label for="id_count">')]
    assert "UNTIL is before the first occurrence." in until
    assert '<code class="code">invalid</code>' in until
    assert not Reservation.objects.exists()


def test_missing_fields_are_named_with_their_code(client, campus):
    client.force_login(campus.researcher)
    response = client.post(
        "/book/", {"repeat": "on", "repeat_end": "count"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert page.count('<code class="code">required</code>') == 7  # 6 fields and the count


def test_manager_may_override_a_rule_and_it_is_audited(client, campus):
    campus.rheometer.managers.add(campus.eq_manager)
    campus.open_research.members.add(campus.eq_manager)
    client.force_login(campus.eq_manager)
    assert 'name="override"' in client.get("/book/").content.decode()
    response = post(
        client,
        campus.eq_manager,
        campus.rheometer,
        campus.open_research,
        WED,
        "07:00",
        "08:00",
        override="on",
    )
    assert response.status_code == 302
    (entry,) = AuditEntry.objects.filter(object_type="reservation")
    assert entry.overridden == ["outside_opening_hours"]


def test_done_page_without_a_booking_goes_back_to_the_form(client, campus):
    client.force_login(campus.researcher)
    response = client.get("/book/done/")
    assert response.status_code == 302 and response["Location"] == "/book/"


def test_a_conflict_names_the_equipment_in_the_way_and_days_in_words(client, campus, book):
    """French dates say the day in full ("mercredi", never the ambiguous "mar")."""
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    response = post(
        client, campus.researcher, campus.rheometer, campus.open_research, WED, "11:00", "12:00"
    )
    page = response.content.decode()
    assert "TO-RHEO-01 · mercredi 2 décembre 2026 10:00–12:00" in page
