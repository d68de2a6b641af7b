"""iCalendar feeds (SPEC §4): content read by three parsers, daylight saving, statuses,
SEQUENCE, visibility (SPEC §6), tokens, conditional requests and query counts.

Time is frozen at Monday 2026-03-16 08:00 Europe/Paris; Europe/Paris goes to summer time
on Sunday 29 March 2026 and back on Sunday 25 October 2026.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from icalendar import Calendar

from calendars.events import closure_events, reservation_events
from calendars.feeds import feed_reservations
from calendars.ics_writer import PRODID, reference_calendar, render_calendar
from calendars.reader import Reader
from core.roles import SYSTEM
from partners.services import feed_token_for
from reservations.models import Closure, Reservation
from reservations.services import (
    closure_create,
    closure_delete,
    release_no_shows,
    reservation_cancel,
    reservation_create,
    reservation_reject,
    reservation_update,
)

from .ics import calendar_property, parse_all

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)  # a Monday
HOST = "booking.example.org"


@pytest.fixture(autouse=True)
def frozen(monkeypatch, settings):
    # The feed views read the clock through `django.utils.timezone`.
    monkeypatch.setattr("calendars.views.timezone.now", lambda: NOW)
    settings.SITE_URL = f"https://{HOST}"


def at(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def book(user, project, equipment, start, *, hours=2, title="Mesures", now=NOW) -> Reservation:
    outcome = reservation_create(
        user=user,
        project=project,
        equipment=[equipment],
        start=start,
        end=start + timedelta(hours=hours),
        title=title,
        now=now,
    )
    return outcome.reservations[0]


def uid(item) -> str:
    kind = "closure" if isinstance(item, Closure) else "reservation"
    return f"{kind}-{item.pk}@{HOST}"


def get(path: str, user=None, *, token: str | None = None, client=None, **headers):
    """GET a feed in English with the user's feed token (or the token given)."""
    client = client or Client()
    if token is None and user is not None:
        token = feed_token_for(user=user).key
    query = f"?token={token}" if token is not None else ""
    return client.get(path + query, HTTP_ACCEPT_LANGUAGE="en", **headers)


def feed_of(path: str, user) -> tuple[bytes, dict]:
    response = get(path, user)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    return response.content, parse_all(response.content)


def equipment_path(equipment) -> str:
    return f"/calendars/equipment/{equipment.pk}.ics"


# --- content and daylight saving ----------------------------------------------------------


def test_equipment_feed_times_across_daylight_saving(campus):
    before_spring = book(campus.researcher, campus.research, campus.rheometer, at(2026, 3, 27, 9))
    after_spring = book(campus.researcher, campus.research, campus.rheometer, at(2026, 3, 30, 9))
    before_autumn = book(campus.teacher, campus.teaching, campus.rheometer, at(2026, 10, 23, 9))
    after_autumn = book(campus.teacher, campus.teaching, campus.rheometer, at(2026, 10, 26, 9))

    body, events = feed_of(equipment_path(campus.rheometer), campus.admin)

    assert set(events) == {
        uid(r) for r in (before_spring, after_spring, before_autumn, after_autumn)
    }
    # 09:00 in Paris is 08:00Z in winter time and 07:00Z in summer time.
    assert events[uid(before_spring)]["start"] == utc(2026, 3, 27, 8)
    assert events[uid(before_spring)]["end"] == utc(2026, 3, 27, 10)
    assert events[uid(after_spring)]["start"] == utc(2026, 3, 30, 7)
    assert events[uid(after_spring)]["end"] == utc(2026, 3, 30, 9)
    assert events[uid(before_autumn)]["start"] == utc(2026, 10, 23, 7)
    assert events[uid(after_autumn)]["start"] == utc(2026, 10, 26, 8)
    assert events[uid(after_autumn)]["end"] == utc(2026, 10, 26, 10)
    # Local wall times with the zone, never floating or shifted.
    assert b"DTSTART;TZID=Europe/Paris:20260330T090000\r\n" in body
    assert b"DTSTART;TZID=Europe/Paris:20261026T090000\r\n" in body


def test_equipment_feed_carries_the_required_properties(campus):
    booked = book(campus.researcher, campus.research, campus.rheometer, at(2026, 3, 24, 10))

    body, events = feed_of(equipment_path(campus.rheometer), campus.researcher)

    cal = Calendar.from_ical(body)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]) == PRODID
    assert calendar_property(body, "X-WR-CALNAME") == "TO-RHEO-01 – Rhéomètre Anton Paar"
    (vtimezone,) = cal.walk("VTIMEZONE")
    assert str(vtimezone["TZID"]) == "Europe/Paris"
    (event,) = cal.walk("VEVENT")
    assert str(event["UID"]) == f"reservation-{booked.pk}@{HOST}"
    assert booked.updated_at == event.DTSTAMP
    assert event["SEQUENCE"] == 0
    assert booked.updated_at == event.LAST_MODIFIED
    assert booked.created_at == event.CREATED
    assert str(event["STATUS"]) == "CONFIRMED"
    assert str(event["LOCATION"]) == "Rhéomètre Anton Paar, Plateau Tours"
    assert str(event["URL"]) == f"https://{HOST}/api/v1/reservations/{booked.pk}/"
    # The booker sees the details.
    assert str(event["SUMMARY"]) == "Mesures"
    assert str(event["DESCRIPTION"]) == (
        "Project: Thèse émulsions (research)\n"
        "Partner: Université d'Orléans\n"
        "Booked by: chercheur\n"
        "Participants: 1\n"
        "Status: confirmed"
    )
    assert events[uid(booked)]["sequence"] == 0


def test_fast_writer_matches_icalendar_byte_for_byte(campus):
    """The feed's own serialisation must equal icalendar's for the same events."""
    campus.rheometer.room = "Salle 12, bâtiment B; aile « sud »"
    campus.rheometer.save()
    campus.research.name = "Thèse, émulsions; phase \\N 2 \\ fin"
    campus.research.save()
    campus.researcher.first_name, campus.researcher.last_name = "Claire,", "Dupré\r\nBis"
    campus.researcher.save()
    campus.confidential.name = "Servier, validation; \\N HPLC \\"
    campus.confidential.save()
    long_title = "Étalonnage; viscosité, « crème » \\ gel – " * 4
    book(campus.researcher, campus.research, campus.rheometer, at(2026, 3, 30, 9), title=long_title)
    book(campus.industrial, campus.confidential, campus.rheometer, at(2026, 3, 31, 9))
    closure_create(
        user=campus.admin,
        start=at(2026, 5, 1, 0),
        end=at(2026, 5, 2, 0),
        reason="Fête du travail",
        now=NOW,
        kind="holiday",
    )
    closure_create(
        user=campus.admin,
        start=at(2026, 4, 20, 8),
        end=at(2026, 4, 20, 12),
        reason="Maintenance",
        now=NOW,
        equipment=campus.rheometer,
    )
    rows = feed_reservations(Reservation.objects.all(), NOW)
    reader = Reader.of(campus.admin)  # every detail
    events = reservation_events(rows, reader) + closure_events(
        Closure.objects.all(), campus.rheometer
    )
    assert len(events) == 4

    fast = render_calendar(name="Test ; feed", uid="u@x", events=events)
    reference = reference_calendar(name="Test ; feed", uid="u@x", events=events)

    assert fast == reference.to_ical()
    assert b"\r\n " in fast  # long lines were folded


# --- statuses, window and SEQUENCE -------------------------------------------------------------


def test_statuses_and_the_window(campus):
    rheo = campus.rheometer
    confirmed = book(campus.researcher, campus.research, rheo, at(2026, 3, 24, 10))
    pending = book(campus.industrial, campus.confidential, rheo, at(2026, 3, 25, 10))
    rejected = book(campus.industrial, campus.confidential, rheo, at(2026, 3, 26, 10))
    reservation_reject(
        reservation=rejected, user=campus.admin, now=NOW + timedelta(hours=1), reason="Non"
    )
    cancelled = book(campus.researcher, campus.research, rheo, at(2026, 3, 31, 10))
    reservation_cancel(reservation=cancelled, user=campus.researcher, now=NOW + timedelta(hours=1))
    displaced = book(campus.researcher, campus.research, rheo, at(2026, 4, 8, 10))
    teaching = book(campus.teacher, campus.teaching, rheo, at(2026, 4, 8, 9))
    completed = book(campus.researcher, campus.research, rheo, at(2026, 3, 17, 10))
    release_no_shows(now=at(2026, 3, 17, 12))
    # Cancelled 29 days ago: still sent as CANCELLED; cancelled 40 days ago: gone.
    recent = book(
        campus.researcher, campus.research, rheo, at(2026, 2, 20, 10), now=NOW - timedelta(days=31)
    )
    reservation_cancel(reservation=recent, user=campus.researcher, now=NOW - timedelta(days=29))
    old = book(
        campus.researcher, campus.research, rheo, at(2026, 2, 9, 10), now=NOW - timedelta(days=40)
    )
    reservation_cancel(reservation=old, user=campus.researcher, now=NOW - timedelta(days=39))
    # The window: 90 days back to 365 days ahead.
    last_day = book(campus.teacher, campus.teaching, rheo, at(2027, 3, 15, 9))
    too_old = book(campus.researcher, campus.research, rheo, at(2026, 3, 19, 10))
    Reservation.objects.filter(pk=too_old.pk).update(
        start=NOW - timedelta(days=91),
        end=NOW - timedelta(days=91, hours=-2),
        blocked_until=NOW - timedelta(days=91, hours=-2),
    )
    too_far = book(campus.researcher, campus.research, rheo, at(2026, 3, 20, 10))
    Reservation.objects.filter(pk=too_far.pk).update(
        start=NOW + timedelta(days=366),
        end=NOW + timedelta(days=366, hours=2),
        blocked_until=NOW + timedelta(days=366, hours=2),
    )

    _, events = feed_of(equipment_path(rheo), campus.admin)

    statuses = {key: value["status"] for key, value in events.items()}
    assert statuses == {
        uid(confirmed): "CONFIRMED",
        uid(pending): "TENTATIVE",
        uid(rejected): "CANCELLED",
        uid(cancelled): "CANCELLED",
        uid(displaced): "CANCELLED",
        uid(teaching): "CONFIRMED",
        uid(completed): "CONFIRMED",
        uid(recent): "CANCELLED",
        uid(last_day): "CONFIRMED",
    }
    completed.refresh_from_db()
    assert completed.status == "completed"
    assert events[uid(cancelled)]["sequence"] == 1
    assert events[uid(displaced)]["sequence"] == 1


def test_sequence_follows_a_move_then_a_cancel(campus):
    booked = book(campus.researcher, campus.research, campus.rheometer, at(2026, 3, 24, 10))
    path = equipment_path(campus.rheometer)
    assert feed_of(path, campus.researcher)[1][uid(booked)]["sequence"] == 0

    moved = reservation_update(
        reservation=booked,
        user=campus.researcher,
        now=NOW + timedelta(hours=1),
        start=at(2026, 3, 30, 14),
        end=at(2026, 3, 30, 16),
    )
    _, events = feed_of(path, campus.researcher)
    assert events[uid(booked)] == {
        "start": utc(2026, 3, 30, 12),
        "end": utc(2026, 3, 30, 14),
        "status": "CONFIRMED",
        "sequence": 1,
        "summary": "Mesures",
    }

    reservation_cancel(reservation=moved, user=campus.researcher, now=NOW + timedelta(hours=2))
    _, events = feed_of(path, campus.researcher)
    assert events[uid(booked)]["status"] == "CANCELLED"
    assert events[uid(booked)]["sequence"] == 2
    assert list(events) == [uid(booked)]  # same UID throughout


# --- visibility ---------------------------------------------------------------------------


SECRETS = (b"Formule", b"secr", b"Servier", b"validation", b"industriel")


def test_another_partner_reads_only_busy_time_in_an_equipment_feed(campus):
    secret = book(
        campus.industrial,
        campus.confidential,
        campus.rheometer,
        at(2026, 3, 25, 10),
        title="Formule secrète X",
    )
    research = book(campus.researcher, campus.research, campus.rheometer, at(2026, 3, 26, 10))

    for reader in (campus.outsider, campus.researcher, campus.teacher):
        body, events = feed_of(equipment_path(campus.rheometer), reader)
        assert events[uid(secret)]["summary"] == "Reserved (industrial)"
        for word in SECRETS:
            assert word not in body, (reader, word)
        event = next(e for e in Calendar.from_ical(body).walk("VEVENT") if e["UID"] == uid(secret))
        assert "DESCRIPTION" not in event
        assert str(event["URL"]) == f"https://{HOST}/equipment/{campus.rheometer.pk}/"
        assert str(event["LOCATION"]) == "Rhéomètre Anton Paar, Plateau Tours"

    # The researcher's own booking in full, others' research bookings neutral.
    _, events = feed_of(equipment_path(campus.rheometer), campus.researcher)
    assert events[uid(research)]["summary"] == "Mesures"
    _, events = feed_of(equipment_path(campus.rheometer), campus.teacher)
    assert events[uid(research)]["summary"] == "Reserved (research)"
    # The booker and platform managers see the details.
    for reader in (campus.industrial, campus.admin):
        body, events = feed_of(equipment_path(campus.rheometer), reader)
        assert events[uid(secret)]["summary"] == "Formule secrète X"
        assert b"Servier" in body


def test_project_feed_is_404_when_the_project_is_invisible(campus):
    book(campus.researcher, campus.research, campus.rheometer, at(2026, 3, 24, 10))
    confidential = f"/calendars/projects/{campus.research.pk}.ics"
    assert get(confidential, campus.outsider).status_code == 404
    assert get(confidential, campus.teacher).status_code == 404
    for reader in (campus.researcher, campus.referent, campus.admin):
        _, events = feed_of(confidential, reader)
        assert [e["summary"] for e in events.values()] == ["Mesures"]
    # A project open to all: an outsider may subscribe, but sees none of its bookings
    # (even as busy time, which would tell that this project holds the slot: SPEC §6).
    book(campus.researcher, campus.open_research, campus.rheometer, at(2026, 3, 25, 10))
    _, events = feed_of(f"/calendars/projects/{campus.open_research.pk}.ics", campus.outsider)
    assert events == {}
    _, events = feed_of(f"/calendars/projects/{campus.open_research.pk}.ics", campus.researcher)
    assert [e["summary"] for e in events.values()] == ["Mesures"]
    assert get("/calendars/projects/999999.ics", campus.admin).status_code == 404


def test_partner_feed_is_404_outside_the_partner(campus):
    book(campus.researcher, campus.research, campus.rheometer, at(2026, 3, 24, 10))
    book(campus.researcher, campus.open_research, campus.rheometer, at(2026, 3, 25, 10))
    path = f"/calendars/partners/{campus.orleans.pk}.ics"
    for reader in (campus.outsider, campus.teacher, campus.industrial, campus.eq_manager):
        response = get(path, reader)
        assert response.status_code == 404, reader
        assert response["Content-Type"] == "text/plain; charset=utf-8"
    for reader in (campus.researcher, campus.referent, campus.admin):
        _, events = feed_of(path, reader)
        assert sorted(e["summary"] for e in events.values()) == ["Mesures", "Mesures"]


def test_my_feed_lists_my_bookings_and_my_projects(campus):
    mine = book(campus.researcher, campus.research, campus.rheometer, at(2026, 3, 24, 10))
    campus.research.members.add(campus.outsider)
    colleague = book(campus.outsider, campus.research, campus.rheometer, at(2026, 3, 25, 10))
    other = book(campus.teacher, campus.teaching, campus.rheometer, at(2026, 3, 26, 10))

    _, events = feed_of("/calendars/me.ics", campus.researcher)
    assert set(events) == {uid(mine), uid(colleague)}
    assert events[uid(colleague)]["summary"] == "Mesures"  # in full: the same project
    _, events = feed_of("/calendars/me.ics", campus.teacher)
    assert set(events) == {uid(other)}


def test_equipment_feed_shows_its_closures_its_sites_and_all_sites(campus):
    def close(reason, start, end, **where):
        closure, _ = closure_create(
            user=campus.admin, start=start, end=end, reason=reason, now=NOW, **where
        )
        return closure

    own = close("Maintenance", at(2026, 4, 20, 8), at(2026, 4, 20, 12), equipment=campus.rheometer)
    site = close("Inventaire", at(2026, 4, 21, 8), at(2026, 4, 21, 19), site=campus.other_site)
    everywhere = close("Fête du travail", at(2026, 5, 1, 0), at(2026, 5, 2, 0), kind="holiday")
    close("Autre site", at(2026, 4, 22, 8), at(2026, 4, 22, 19), site=campus.site)
    close("Autre équipement", at(2026, 4, 23, 8), at(2026, 4, 23, 19), equipment=campus.hplc)

    body, events = feed_of(equipment_path(campus.rheometer), campus.outsider)

    assert events == {
        uid(own): {
            "start": utc(2026, 4, 20, 6),
            "end": utc(2026, 4, 20, 10),
            "status": "CONFIRMED",
            "sequence": 0,
            "summary": "Closed: Maintenance",
        },
        uid(site): {
            "start": utc(2026, 4, 21, 6),
            "end": utc(2026, 4, 21, 17),
            "status": "CONFIRMED",
            "sequence": 0,
            "summary": "Closed: Inventaire",
        },
        # Whole local days are all-day events.
        uid(everywhere): {
            "start": date(2026, 5, 1),
            "end": date(2026, 5, 2),
            "status": "CONFIRMED",
            "sequence": 0,
            "summary": "Closed: Fête du travail",
        },
    }
    assert b"LOCATION:All sites\r\n" in body


# --- access -------------------------------------------------------------------------------


def test_token_or_login_else_401(campus, client_for):
    path = equipment_path(campus.rheometer)
    assert get(path).status_code == 401
    refused = get(path, token="not-a-token")
    assert refused.status_code == 401
    assert refused["Content-Type"] == "text/plain; charset=utf-8"
    assert get(path, campus.outsider).status_code == 200
    logged_in = Client()
    logged_in.force_login(campus.outsider)
    assert get(path, client=logged_in).status_code == 200
    assert get(path, client=logged_in, token="not-a-token").status_code == 200
    assert (
        Client().post(path + f"?token={feed_token_for(user=campus.outsider).key}").status_code
        == 405
    )
    assert get("/calendars/equipment/999999.ics", campus.admin).status_code == 404


def test_rotated_token_is_refused(campus, client_for):
    path = equipment_path(campus.rheometer)
    old = feed_token_for(user=campus.researcher).key
    assert get(path, token=old).status_code == 200

    response = client_for(campus.researcher).post("/api/v1/me/feed-token/")
    assert response.status_code == 200
    new = response.json()["feed_token"]

    assert new != old
    assert get(path, token=old).status_code == 401
    assert get(path, token=new).status_code == 200
    assert get("/calendars/me.ics", token=old).status_code == 401


def test_inactive_users_token_is_refused(campus):
    key = feed_token_for(user=campus.researcher).key
    campus.researcher.is_active = False
    campus.researcher.save()
    assert get("/calendars/me.ics", token=key).status_code == 401


# --- conditional requests -----------------------------------------------------------------


def test_unchanged_feed_answers_304_and_changes_give_a_new_etag(campus):
    booked = book(campus.researcher, campus.research, campus.rheometer, at(2026, 3, 24, 10))
    path = equipment_path(campus.rheometer)
    first = get(path, campus.researcher)
    etag, last_modified = first["ETag"], first["Last-Modified"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert last_modified == "Mon, 16 Mar 2026 07:00:00 GMT"  # the booking's updated_at

    assert get(path, campus.researcher, HTTP_IF_NONE_MATCH=etag).status_code == 304
    not_modified = get(path, campus.researcher, HTTP_IF_MODIFIED_SINCE=last_modified)
    assert not_modified.status_code == 304
    assert not_modified.content == b""
    assert not_modified["ETag"] == etag

    # A status change: new ETag and a later Last-Modified (whole seconds, rounded down).
    later = NOW + timedelta(hours=1, microseconds=900_000)
    reservation_cancel(reservation=booked, user=campus.researcher, now=later)
    changed = get(path, campus.researcher, HTTP_IF_NONE_MATCH=etag)
    assert changed.status_code == 200
    assert changed["ETag"] != etag
    assert changed["Last-Modified"] == "Mon, 16 Mar 2026 08:00:00 GMT"
    (event,) = Calendar.from_ical(changed.content).walk("VEVENT")
    assert event.DTSTAMP.isoformat() == "2026-03-16T08:00:00+00:00"
    assert get(path, campus.researcher, HTTP_IF_MODIFIED_SINCE=last_modified).status_code == 200

    # A closure appears, then goes: the ETag follows the content.
    closure, _ = closure_create(
        user=campus.admin,
        start=at(2026, 4, 20, 8),
        end=at(2026, 4, 20, 12),
        reason="Maintenance",
        now=NOW,
        equipment=campus.rheometer,
    )
    with_closure = get(path, campus.researcher, HTTP_IF_NONE_MATCH=changed["ETag"])
    assert with_closure.status_code == 200
    closure_delete(closure=closure, user=campus.admin)
    without = get(path, campus.researcher, HTTP_IF_NONE_MATCH=with_closure["ETag"])
    assert without.status_code == 200
    assert without["ETag"] == changed["ETag"]


def test_etag_depends_on_the_reader(campus):
    book(campus.industrial, campus.confidential, campus.rheometer, at(2026, 3, 25, 10))
    path = equipment_path(campus.rheometer)
    assert get(path, campus.admin)["ETag"] != get(path, campus.outsider)["ETag"]


# --- query counts -------------------------------------------------------------------------


def add_reservations(campus, count: int) -> None:
    """Many confirmed research bookings of the rheometer, written directly (a fixture)."""
    first = at(2026, 3, 17, 10)
    Reservation.objects.bulk_create(
        Reservation(
            equipment=campus.rheometer,
            project=campus.research,
            booked_by=campus.researcher,
            start=first + timedelta(days=n),
            end=first + timedelta(days=n, hours=2),
            blocked_until=first + timedelta(days=n, hours=2),
            title=f"Essai {n}",
            status="confirmed",
            priority="research",
            revision=0,
            status_changed_at=NOW,
            created_at=NOW,
            updated_at=NOW,
        )
        for n in range(count)
    )


@pytest.mark.parametrize(
    ("kind", "queries"),
    # + 1 to record the reader's ETag when the feed changed (FeedState: read with the token,
    # and so are the equipment of an equipment feed and its closures).
    [("equipment", 5), ("project", 6), ("partner", 6), ("me", 5)],
)
def test_a_feed_costs_a_fixed_number_of_queries(campus, kind, queries):
    paths = {
        "equipment": equipment_path(campus.rheometer),
        "project": f"/calendars/projects/{campus.research.pk}.ics",
        "partner": f"/calendars/partners/{campus.orleans.pk}.ics",
        "me": "/calendars/me.ics",
    }
    key = feed_token_for(user=campus.referent).key
    campus.research.members.add(campus.referent)
    closure_create(
        user=campus.admin, start=at(2026, 5, 1, 0), end=at(2026, 5, 2, 0), reason="1er mai", now=NOW
    )

    def measure(expected_events: int) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = get(paths[kind], token=key)
        assert response.status_code == 200
        events = parse_all(response.content)
        reservations = [k for k in events if k.startswith("reservation-")]
        assert len(reservations) == expected_events
        return len(ctx.captured_queries)

    add_reservations(campus, 1)
    one = measure(1)
    Reservation.objects.all().delete()
    add_reservations(campus, 30)
    thirty = measure(30)

    assert one == thirty == queries


def test_session_login_costs_two_more_queries_than_a_token(campus, django_assert_num_queries):
    add_reservations(campus, 3)
    client = Client()
    client.force_login(campus.researcher)
    # Session, user, full-view projects, managed equipment, reservations, and the
    # reader's feed state read and recorded (a token reads the state with itself).
    with django_assert_num_queries(7):
        response = get("/calendars/me.ics", client=client)
    assert response.status_code == 200
    assert len(parse_all(response.content)) == 3


def test_partner_feed_leaves_out_what_the_reader_may_not_see(campus, make_user):
    """A member of one of the partner's projects reads only what they see in full."""
    member = make_user("membre")
    campus.open_research.members.add(member)
    secret = book(campus.researcher, campus.research, campus.rheometer, at(2026, 3, 24, 10))
    mine = book(member, campus.open_research, campus.rheometer, at(2026, 3, 25, 10), title="Moi")
    body, events = feed_of(f"/calendars/partners/{campus.orleans.pk}.ics", member)
    assert set(events) == {uid(mine)}
    assert uid(secret).encode() not in body
    _, events = feed_of(f"/calendars/partners/{campus.orleans.pk}.ics", campus.referent)
    assert set(events) == {uid(mine), uid(secret)}


def test_last_modified_moves_when_a_closure_is_deleted(campus, monkeypatch):
    """No row's own time says a closure was deleted: the remembered ETag does."""
    closure, _displaced = closure_create(
        user=campus.admin,
        equipment=campus.rheometer,
        start=at(2026, 5, 4, 8),
        end=at(2026, 5, 4, 12),
        reason="Entretien",
        now=NOW,
    )
    path = equipment_path(campus.rheometer)
    first = get(path, campus.researcher)
    since = first["Last-Modified"]
    assert get(path, campus.researcher, HTTP_IF_MODIFIED_SINCE=since).status_code == 304
    closure_delete(closure=closure, user=campus.admin)
    monkeypatch.setattr("calendars.views.timezone.now", lambda: NOW + timedelta(minutes=5))
    again = get(path, campus.researcher, HTTP_IF_MODIFIED_SINCE=since)
    assert again.status_code == 200
    assert b"Entretien" not in again.content
    assert again["Last-Modified"] != first["Last-Modified"]


def test_an_equipment_manager_reads_their_equipment_in_full(campus):
    from equipment.services import equipment_update, qualification_grant

    qualification_grant(
        actor=SYSTEM, user=campus.industrial, equipment=campus.hplc, valid_until=date(2027, 1, 1)
    )
    equipment_update(actor=SYSTEM, equipment=campus.hplc, policy={"approval_required_for": []})
    on_hplc = book(
        campus.industrial, campus.confidential, campus.hplc, at(2026, 3, 25, 10), title="Formule X"
    )
    on_rheometer = book(
        campus.industrial, campus.confidential, campus.rheometer, at(2026, 3, 25, 10)
    )
    body, events = feed_of(equipment_path(campus.hplc), campus.eq_manager)
    assert events[uid(on_hplc)]["summary"] == "Formule X"
    assert b"Servier" in body
    _, events = feed_of(equipment_path(campus.rheometer), campus.eq_manager)
    assert events[uid(on_rheometer)]["summary"] == "Reserved (industrial)"


def test_the_feeds_follow_the_one_visibility_rule(campus, make_user):
    """calendars.reader.Reader mirrors selectors.reservations_visible_to for everyone."""
    from equipment.services import qualification_grant
    from reservations.selectors import reservations_visible_to

    qualification_grant(
        actor=SYSTEM, user=campus.industrial, equipment=campus.hplc, valid_until=date(2027, 1, 1)
    )
    campus.open_research.members.add(make_user("membre"))
    book(campus.researcher, campus.research, campus.rheometer, at(2026, 3, 24, 10))
    book(campus.researcher, campus.open_research, campus.rheometer, at(2026, 3, 24, 14))
    book(campus.teacher, campus.teaching, campus.rheometer, at(2026, 3, 25, 10))
    book(campus.industrial, campus.confidential, campus.hplc, at(2026, 3, 26, 10))
    rows = list(Reservation.objects.values_list("pk", "project_id", "booked_by_id", "equipment_id"))
    assert len(rows) == 4
    for user in type(campus.admin).objects.all():
        reader = Reader.of(user)
        mirrored = {
            pk
            for pk, project, booker, equipment in rows
            if reader.sees_in_full(project_id=project, booked_by_id=booker, equipment_id=equipment)
        }
        assert mirrored == set(reservations_visible_to(user).values_list("pk", flat=True)), user


def test_feeds_are_private_to_their_reader(campus):
    """A session-read feed has one URL for everyone: no shared cache may keep it."""
    response = get(equipment_path(campus.rheometer), campus.researcher)
    assert {"Cookie", "Accept-Language"} <= {v.strip() for v in response["Vary"].split(",")}
    assert "private" in response["Cache-Control"]
