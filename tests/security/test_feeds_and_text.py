"""Feed tokens compared in constant time, control characters refused by the API and
stripped from feeds (SPEC §13, §14)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from ical.calendar_stream import IcsCalendarStream
from icalendar import Calendar

from calendars import views as feed_views
from partners.services import feed_token_for
from reservations.models import Reservation
from reservations.services import reservation_create

from ..calendars.ics import parse_all

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)  # a Monday
START = datetime(2026, 3, 18, 10, 0, tzinfo=PARIS)
CONTROL_CHARACTERS = (
    "Les caractères de contrôle ne sont pas autorisés "
    "(hormis les tabulations et les sauts de ligne)."
)


@pytest.fixture(autouse=True)
def frozen(monkeypatch, settings):
    monkeypatch.setattr("calendars.views.timezone.now", lambda: NOW)
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    settings.SITE_URL = "https://booking.example.org"


def book(campus, title: str = "Mesures") -> Reservation:
    outcome = reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=[campus.rheometer],
        start=START,
        end=START + timedelta(hours=2),
        title=title,
        now=NOW,
    )
    return outcome.reservations[0]


def feed(path: str, token: str):
    return Client().get(f"{path}?token={token}", HTTP_ACCEPT_LANGUAGE="en")


# --- feed tokens ------------------------------------------------------------------------


def test_a_feed_token_still_opens_its_feed_and_a_near_miss_does_not(campus):
    book(campus)
    key = feed_token_for(user=campus.researcher).key
    path = "/calendars/me.ics"
    assert feed(path, key).status_code == 200
    # Same lookup prefix, wrong rest; wrong case; truncated; extended; too short to look up.
    near = key[:-1] + ("A" if key[-1] != "A" else "B")
    for wrong in (near, key.swapcase(), key[:-3], key + "x", key[:8], key[:4], ""):
        assert feed(path, wrong).status_code == 401, wrong


def test_the_feed_token_is_compared_with_compare_digest(campus, monkeypatch):
    key = feed_token_for(user=campus.researcher).key
    compared = []
    real = feed_views.hmac.compare_digest

    def spy(a, b):
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(feed_views.hmac, "compare_digest", spy)
    assert feed("/calendars/me.ics", key).status_code == 200
    assert compared == [(key.encode(), key.encode())]


# --- control characters --------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["Mesures\x00", "Mes\x07ures", "\x1bMesures", "Mesures\x7f"])
def test_the_api_refuses_control_characters_in_a_title(campus, client_for, bad):
    response = client_for(campus.researcher).post(
        "/api/v1/reservations/",
        {
            "equipment": campus.rheometer.pk,
            "project": campus.research.pk,
            "start": START.isoformat(),
            "end": (START + timedelta(hours=2)).isoformat(),
            "title": bad,
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["fields"]) == ["title"]
    assert body["fields"]["title"] == [CONTROL_CHARACTERS]
    assert not Reservation.objects.exists()


def test_tabs_and_line_breaks_stay_allowed(campus, client_for):
    response = client_for(campus.researcher).post(
        "/api/v1/reservations/",
        {
            "equipment": campus.rheometer.pk,
            "project": campus.research.pk,
            "start": START.isoformat(),
            "end": (START + timedelta(hours=2)).isoformat(),
            "title": "Mesures\tHPLC",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()


def test_the_api_refuses_control_characters_everywhere_with_the_field_named(campus, client_for):
    admin = client_for(campus.admin)
    partner = admin.post(
        "/api/v1/partners/",
        {"name": "Labo\x08", "kind": "company", "rate_category": "industrial"},
        format="json",
    )
    assert partner.status_code == 400
    assert list(partner.json()["fields"]) == ["name"]
    closure = admin.post(
        "/api/v1/closures/",
        {
            "equipment": campus.rheometer.pk,
            "start": START.isoformat(),
            "end": (START + timedelta(hours=2)).isoformat(),
            "reason": "Maintenance\x0c",
        },
        format="json",
    )
    assert closure.status_code == 400 and list(closure.json()["fields"]) == ["reason"]
    nested = admin.patch(
        f"/api/v1/equipment/{campus.rheometer.pk}/",
        {"description": "ok", "policy": {"opening_hours": {"mon": [["08:00\x01", "19:00"]]}}},
        format="json",
    )
    assert nested.status_code == 400
    assert list(nested.json()["fields"]) == ["policy.opening_hours.mon.0.0"]
    form = admin.post("/api/v1/sites/", {"name": "Site\x02"})  # a form body, not JSON
    assert form.status_code == 400 and list(form.json()["fields"]) == ["name"]


def test_a_stored_title_with_control_characters_is_stripped_from_feeds(campus):
    reservation = book(campus)
    # A row written before the API refused them (PostgreSQL stores no NUL at all).
    Reservation.objects.filter(pk=reservation.pk).update(title="Mes\x0bu\x1bres\x07 HPLC\x7f")
    key = feed_token_for(user=campus.researcher).key
    for path in ("/calendars/me.ics", f"/calendars/equipment/{campus.rheometer.pk}.ics"):
        response = feed(path, key)
        assert response.status_code == 200
        body = response.content
        assert not any(byte < 0x20 and byte not in b"\r\n\t" for byte in body)
        # `ical` is strict: it rejected the whole feed before.
        events = IcsCalendarStream.calendar_from_ics(body.decode()).events
        assert [event.summary for event in events] == ["Mesures HPLC"]
        assert str(next(iter(Calendar.from_ical(body).walk("VEVENT")))["SUMMARY"]) == (
            "Mesures HPLC"
        )
        parse_all(body)  # and the three parsers agree
