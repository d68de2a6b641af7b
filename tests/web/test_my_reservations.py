"""My reservations: upcoming and past, cancel (this, following, series), check-in and
check-out through the services, managers checking in for users, fixed query counts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.roles import SYSTEM
from equipment.services import equipment_create
from reservations.models import Reservation, UsageRecord

from .conftest import NOW, WED

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)
YESTERDAY = NOW - timedelta(days=1)


@pytest.fixture
def today_hplc(qualified, book):
    """The researcher's HPLC booking this morning, starting in 15 minutes."""
    return book(
        qualified.researcher,
        qualified.research,
        qualified.hplc,
        TODAY,
        "08:15",
        "10:00",
        now=YESTERDAY,
        title="Dosage matin",
    ).reservations[0]


def my_page(client, user, **headers) -> str:
    client.force_login(user)
    response = client.get("/my/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def section(page: str, name: str) -> str:
    start = page.index(f'<section id="{name}">')
    return page[start : page.index("</section>", start)]


def test_lists_upcoming_and_past_of_the_user_and_their_projects(client, campus, book):
    mine = book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        WED,
        "10:00",
        "12:00",
        title="Ma mesure",
    ).reservations[0]
    past = book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        date(2026, 11, 20),
        "10:00",
        "12:00",
        now=NOW - timedelta(days=5),
        title="Hier",
    ).reservations[0]
    # A colleague joins the project: they see its bookings too.
    campus.research.members.add(campus.outsider)
    others = book(
        campus.teacher,
        campus.teaching,
        campus.rheometer,
        WED,
        "14:00",
        "16:00",
        title="TP du lycée",
    ).reservations[0]
    page = my_page(client, campus.outsider)
    assert f'data-reservation="{mine.pk}"' in section(page, "upcoming")
    assert f'data-reservation="{past.pk}"' in section(page, "past")
    assert f'data-reservation="{others.pk}"' not in page and "TP du lycée" not in page
    assert "mer 2 décembre 2026" in page and "ven 20 novembre 2026" in page
    # Upcoming live bookings can be cancelled (after a confirmation); past ones cannot.
    assert f'href="/my/{mine.pk}/cancel/?next=' in page
    assert f'href="/my/{past.pk}/cancel/' not in page


def test_page_in_english(client, campus, book):
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    page = my_page(client, campus.researcher, HTTP_ACCEPT_LANGUAGE="en")
    assert "My reservations" in page and "Upcoming" in page
    assert "Wed 2 December 2026" in page and ">Cancel<" in page


def test_cancel_one_reservation(client, campus, book):
    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    client.force_login(campus.researcher)
    response = client.post(f"/my/{booked.pk}/cancel/", {"next": "/my/"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == "/my/"
    booked.refresh_from_db()
    assert booked.status == "cancelled"
    assert "Cancelled: 1 reservation." in client.get("/my/").content.decode()


def test_cancel_following_occurrences_of_a_series(client, campus):
    client.force_login(campus.teacher)
    client.post(
        "/book/",
        {
            "equipment": [campus.rheometer.pk],
            "project": campus.teaching.pk,
            "start": "2026-12-02T09:00",
            "end": "2026-12-02T11:00",
            "title": "TP",
            "expected_participants": 12,
            "repeat": "on",
            "repeat_end": "count",
            "count": 4,
            "school_holidays": "keep",  # 23 December is in the school holidays
        },
    )
    first, _second, third, _fourth = Reservation.objects.order_by("start")
    page = my_page(client, campus.teacher)
    # One row for the series, its four dates below it, each with its cancel link.
    assert section(page, "upcoming").count('class="group-head"') == 1
    assert page.count("/cancel/?next=") == 4
    confirm = client.get(f"/my/{third.pk}/cancel/").content.decode()
    assert confirm.count('name="scope"') == 3
    assert "(2 dates)" in confirm and "(4 dates)" in confirm
    client.post(f"/my/{third.pk}/cancel/", {"scope": "following"})
    assert [r.status for r in Reservation.objects.order_by("start")] == [
        "confirmed",
        "confirmed",
        "cancelled",
        "cancelled",
    ]
    client.post(f"/my/{first.pk}/cancel/", {"scope": "series"})
    assert set(Reservation.objects.values_list("status", flat=True)) == {"cancelled"}


def test_cancelling_an_invisible_reservation_is_404(client, campus, book):
    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    client.force_login(campus.outsider)
    for action in ("cancel", "check-in", "check-out"):
        assert client.post(f"/my/{booked.pk}/{action}/").status_code == 404
    assert client.get(f"/my/{booked.pk}/cancel/").status_code == 404
    assert client.post("/my/999999/cancel/").status_code == 404
    booked.refresh_from_db()
    assert booked.status == "confirmed"


def test_actions_answer_only_post_and_cancel_asks_first(client, campus, book):
    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    client.force_login(campus.researcher)
    for action in ("check-in", "check-out"):
        assert client.get(f"/my/{booked.pk}/{action}/").status_code == 405
    # GET is the confirmation step: it changes nothing.
    confirm = client.get(f"/my/{booked.pk}/cancel/", HTTP_ACCEPT_LANGUAGE="en")
    assert confirm.status_code == 200
    page = confirm.content.decode()
    assert f'action="/my/{booked.pk}/cancel/"' in page and "Confirm the cancellation" in page
    assert 'type="hidden" name="scope" value="this"' in page  # not a series: no choice
    booked.refresh_from_db()
    assert booked.status == "confirmed"


def test_bad_scope_is_refused_with_a_code(client, campus, book):
    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    client.force_login(campus.researcher)
    client.post(f"/my/{booked.pk}/cancel/", {"scope": "everything"})
    booked.refresh_from_db()
    assert booked.status == "confirmed"
    assert "[invalid]" in client.get("/my/").content.decode()


def test_check_in_then_check_out(client, campus, today_hplc):
    page = my_page(client, campus.researcher, HTTP_ACCEPT_LANGUAGE="en")
    assert f'action="/my/{today_hplc.pk}/check-in/"' in page
    assert f'action="/my/{today_hplc.pk}/check-out/"' not in page
    client.post(f"/my/{today_hplc.pk}/check-in/", HTTP_ACCEPT_LANGUAGE="en")
    usage = UsageRecord.objects.get(reservation=today_hplc)
    assert usage.checked_in_by == campus.researcher
    assert usage.checked_in_at == NOW + timedelta(minutes=15)  # not before the start
    page = my_page(client, campus.researcher, HTTP_ACCEPT_LANGUAGE="en")
    assert "Checked in: Dosage matin." in page
    assert f'action="/my/{today_hplc.pk}/check-out/"' in page
    client.post(f"/my/{today_hplc.pk}/check-out/")
    today_hplc.refresh_from_db()
    assert today_hplc.status == "completed"


def test_check_in_outside_its_window_shows_the_error_and_code(client, campus, book):
    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    page = my_page(client, campus.researcher)
    assert f'action="/my/{booked.pk}/check-in/"' not in page  # not offered yet
    client.post(f"/my/{booked.pk}/check-in/", HTTP_ACCEPT_LANGUAGE="en")
    page = client.get("/my/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Check in from shortly before the start until the end. [check_in_closed]" in page
    assert not UsageRecord.objects.exists()


def test_equipment_manager_checks_in_for_a_user(client, campus, today_hplc):
    page = my_page(client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="en")
    managed = section(page, "managed-today")
    assert "Dosage matin" in managed
    assert f'action="/my/{today_hplc.pk}/check-in/"' in managed
    client.post(f"/my/{today_hplc.pk}/check-in/")
    assert UsageRecord.objects.get(reservation=today_hplc).checked_in_by == campus.eq_manager


def test_non_managers_have_no_managed_section(client, campus, today_hplc):
    page = my_page(client, campus.teacher)
    assert 'id="managed-today"' not in page and "Dosage matin" not in page


def test_past_grace_an_unchecked_booking_reads_as_no_show(client, campus, book, monkeypatch):
    from equipment.services import equipment_update

    equipment_update(actor=SYSTEM, equipment=campus.rheometer, requires_check_in=True)
    booked = book(
        campus.researcher, campus.research, campus.rheometer, TODAY, "08:15", "10:00", now=YESTERDAY
    ).reservations[0]
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW + timedelta(minutes=50))
    page = my_page(client, campus.researcher, HTTP_ACCEPT_LANGUAGE="en")
    booked.refresh_from_db()
    assert booked.status == "no_show"
    assert "no show" in page


def test_my_reservations_cost_the_same_queries_for_many_rows(
    client, campus, book, django_assert_num_queries
):
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        date(2026, 11, 20),
        "10:00",
        "12:00",
        now=NOW - timedelta(days=5),
    )
    client.force_login(campus.researcher)
    client.get("/my/")  # makes the user's feed token
    # 7 for the page, referent or not, the feed token, teacher or not (the planner link);
    # 2 for the waitlist (waiting, recent).
    with django_assert_num_queries(12):
        client.get("/my/")
    for n in range(10):
        extra = equipment_create(
            actor=SYSTEM,
            code=f"TO-X-{n}",
            name=f"X {n}",
            category=campus.rheo,
            site=campus.other_site,
        )
        for day in (date(2026, 11, 20), WED, WED + timedelta(days=1)):
            book(
                campus.researcher,
                campus.research,
                extra,
                day,
                "14:00",
                "15:00",
                now=NOW - timedelta(days=5),
            )
    with django_assert_num_queries(12):
        page = client.get("/my/").content.decode()
    assert page.count("data-reservation=") == 2 + 30


def test_a_started_reservation_offers_no_cancel(client, qualified, today_hplc, monkeypatch):
    """The service refuses to cancel it (check out instead): the page offers no button."""
    cancel = f'href="/my/{today_hplc.pk}/cancel/'
    assert cancel in section(my_page(client, qualified.researcher), "upcoming")
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW + timedelta(minutes=20))
    assert cancel not in section(my_page(client, qualified.researcher), "upcoming")


@pytest.fixture
def workstations(campus):
    """Two more workstations on the rheometer's site: a class books three at once."""
    return [campus.rheometer] + [
        equipment_create(
            actor=SYSTEM,
            code=f"TO-POSTE-{n}",
            name=f"Poste {n}",
            category=campus.rheo,
            site=campus.other_site,
        )
        for n in (1, 2)
    ]


@pytest.fixture
def weekly_class(campus, book, workstations):
    """The teacher's class on three workstations, weekly for four weeks: 12 reservations."""
    return book(
        campus.teacher,
        campus.teaching,
        workstations,
        WED,
        "09:00",
        "11:00",
        title="TP émulsions",
        rrule="FREQ=WEEKLY;COUNT=4",
        skip_school_holidays=False,  # 23 December is in the holidays
    ).reservations


def group_of(page: str, key: str) -> str:
    start = page.index(f'data-group="{key}"')
    return page[start : page.index("</tbody>", start)]


def test_a_series_on_three_workstations_is_one_row_with_its_dates_below(
    client, campus, weekly_class
):
    assert len(weekly_class) == 12
    page = section(my_page(client, campus.teacher, HTTP_ACCEPT_LANGUAGE="en"), "upcoming")
    assert page.count('class="group-head"') == 1
    group = group_of(page, f"series-{weekly_class[0].series_id}")
    head = group[: group.index('class="occurrences"')]
    assert "Wed 2 December 2026 → Wed 23 December 2026" in head
    assert "TO-POSTE-1" in head and "TO-POSTE-2" in head and "TO-RHEO-01" in head
    assert "4 dates" in group and "<details>" in group
    # Every reservation is listed once, under its date; one cancel link per date.
    assert group.count("data-reservation=") == 12
    assert group.count("/cancel/?next=") == 4


def test_a_single_session_is_one_row_with_its_equipment(client, campus, book, workstations):
    booked = book(
        campus.teacher, campus.teaching, workstations, WED, "14:00", "16:00", title="TP"
    ).reservations
    page = section(my_page(client, campus.teacher), "upcoming")
    assert page.count('class="group-head"') == 1
    group = group_of(page, f"session-{booked[0].session_id}")
    assert "<details>" not in group and group.count("data-reservation=") == 3
    assert group.count("/cancel/?next=") == 1


def test_cancelling_this_one_of_a_session_cancels_every_equipment_of_that_date(
    client, campus, weekly_class
):
    second_date = sorted(weekly_class, key=lambda r: (r.start, r.pk))[3]
    client.force_login(campus.teacher)
    confirm = client.get(f"/my/{second_date.pk}/cancel/", HTTP_ACCEPT_LANGUAGE="en")
    assert "All 3 equipment of the session are cancelled at this time." in confirm.content.decode()
    response = client.post(
        f"/my/{second_date.pk}/cancel/",
        {"scope": "this", "next": "/my/"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response["Location"] == "/my/"
    cancelled = Reservation.objects.filter(status="cancelled")
    assert {r.start for r in cancelled} == {second_date.start}
    assert cancelled.count() == 3
    page = client.get("/my/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Cancelled: 3 reservations." in page
    # Cancelled ones are no longer listed as upcoming: 9 remain, in 3 dates.
    upcoming = section(page, "upcoming")
    assert upcoming.count("data-reservation=") == 9 and "3 dates" in upcoming
    assert "cancelled" not in upcoming.lower().replace("cancel/", "")


def test_cancelling_following_dates_of_a_session_series(client, campus, weekly_class):
    ordered = sorted(weekly_class, key=lambda r: (r.start, r.pk))
    client.force_login(campus.teacher)
    client.post(f"/my/{ordered[6].pk}/cancel/", {"scope": "following"})
    statuses = [r.status for r in Reservation.objects.order_by("start", "pk")]
    assert statuses == ["confirmed"] * 6 + ["cancelled"] * 6


def test_a_refused_cancel_of_a_session_date_cancels_nothing(
    client, campus, weekly_class, monkeypatch
):
    """All or nothing, in the service: the page calls it once for the whole date, and a
    failure after the rows are written leaves every equipment booked."""
    import reservations.services.changes as changes
    import reservations.web.mine as mine
    from reservations.exceptions import BookingError

    real = mine.reservation_cancel
    calls = []

    def spy(**kwargs):
        calls.append(kwargs)
        return real(**kwargs)

    def fail_after_writing(*args, **kwargs):
        raise BookingError("started")

    monkeypatch.setattr(mine, "reservation_cancel", spy)
    monkeypatch.setattr(changes, "reservations_did", fail_after_writing)
    first = sorted(weekly_class, key=lambda r: (r.start, r.pk))[0]
    client.force_login(campus.teacher)
    client.post(f"/my/{first.pk}/cancel/", {"scope": "this"})
    assert len(calls) == 1 and calls[0]["whole_session"] is True
    assert not Reservation.objects.filter(status="cancelled").exists()


def test_cancel_confirmation_of_a_started_reservation_offers_no_button(
    client, qualified, today_hplc, monkeypatch
):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW + timedelta(minutes=20))
    client.force_login(qualified.researcher)
    page = client.get(f"/my/{today_hplc.pk}/cancel/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This reservation can no longer be cancelled." in page
    assert "Confirm the cancellation" not in page


def test_cancel_confirmation_returns_only_to_this_site(client, campus, book):
    booked = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    client.force_login(campus.researcher)
    page = client.get(f"/my/{booked.pk}/cancel/?next=/my/partner/").content.decode()
    assert 'name="next" value="/my/partner/"' in page
    page = client.get(f"/my/{booked.pk}/cancel/?next=https://evil.example/").content.decode()
    assert 'value="https://evil.example/"' not in page and 'name="next" value="/my/"' in page


def test_the_personal_feed_link_carries_the_feed_token(client, campus, settings):
    from partners.services import feed_token_for

    page = my_page(client, campus.researcher)
    key = feed_token_for(user=campus.researcher).key
    assert f"{settings.SITE_URL}/calendars/me.ics?token={key}" in page
    client.logout()  # the address alone opens the feed
    feed = client.get(f"/calendars/me.ics?token={key}")
    assert feed.status_code == 200 and feed["Content-Type"].startswith("text/calendar")


def test_a_referent_reads_their_partners_bookings(client, campus, book):
    """The referent of Orléans sees its research (even confidential), nothing of others."""
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
        campus.teacher,
        campus.teaching,
        campus.rheometer,
        WED,
        "14:00",
        "16:00",
        title="TP du lycée",
    ).reservations[0]
    mine_page = my_page(client, campus.referent, HTTP_ACCEPT_LANGUAGE="en")
    assert 'href="/my/partner/"' in mine_page
    response = client.get("/my/partner/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    page = section(response.content.decode(), "partner")
    assert "Université d&#x27;Orléans" in page
    assert f'data-reservation="{research.pk}"' in page and "Thèse mesure" in page
    assert f'data-reservation="{teaching.pk}"' not in page and "TP du lycée" not in page


def test_the_partner_view_is_for_referents_only(client, campus, book):
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    page = my_page(client, campus.researcher)
    assert 'href="/my/partner/"' not in page
    response = client.get("/my/partner/")
    assert response.status_code == 302 and response["Location"] == "/my/"
