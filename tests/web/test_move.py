"""Moving one's reservation from "my reservations": every rule again, a refusal in place."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from reservations.models import Reservation

from .conftest import WED, at, local

pytestmark = pytest.mark.django_db


def test_my_reservations_offer_to_move_a_future_booking(client, campus, book):
    mine = book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    client.force_login(campus.researcher)
    page = client.get("/my/").content.decode()
    assert f'href="/my/{mine.reservations[0].pk}/move/"' in page


def test_move_to_free_times(client, campus, book):
    mine = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    client.force_login(campus.researcher)
    form = client.get(f"/my/{mine.pk}/move/").content.decode()
    assert f'value="{local(WED, "10:00")}"' in form
    response = client.post(
        f"/my/{mine.pk}/move/",
        {"start": local(WED, "14:00"), "end": local(WED, "16:00"), "next": "/my/"},
    )
    assert response.status_code == 302 and response["Location"] == "/my/"
    mine.refresh_from_db()
    assert (mine.start, mine.end, mine.revision) == (at(WED, "14:00"), at(WED, "16:00"), 1)


def test_a_refused_move_is_explained_with_times_to_take_instead(client, campus, book):
    mine = book(
        campus.researcher, campus.research, campus.rheometer, WED, "08:00", "09:00"
    ).reservations[0]
    book(campus.teacher, campus.teaching, campus.rheometer, WED, "14:00", "16:00")
    client.force_login(campus.researcher)
    response = client.post(
        f"/my/{mine.pk}/move/",
        {"start": local(WED, "14:00"), "end": local(WED, "15:00")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "The equipment is already booked at this time." in page
    assert '<code class="code">conflict</code>' in page
    assert page.count('class="alternative"') >= 1
    # An alternative's link fills the form with its times.
    link = page.split('class="alternative" href="')[1].split('"')[0].replace("&amp;", "&")
    start = parse_qs(urlsplit(link).query)["start"][0]
    assert f'value="{start}"' in client.get(link).content.decode()
    mine.refresh_from_db()
    assert mine.start == at(WED, "08:00")  # nothing changed


def test_someone_elses_booking_cannot_be_moved(client, campus, book):
    theirs = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    client.force_login(campus.outsider)
    assert client.get(f"/my/{theirs.pk}/move/").status_code == 404
    response = client.post(
        f"/my/{theirs.pk}/move/", {"start": local(WED, "14:00"), "end": local(WED, "16:00")}
    )
    assert response.status_code == 404
    assert Reservation.objects.get(pk=theirs.pk).start == at(WED, "10:00")


def test_an_ended_booking_is_not_offered_to_move(client, campus, book, frozen_now):
    mine = book(
        campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    Reservation.objects.filter(pk=mine.pk).update(status="completed")
    client.force_login(campus.researcher)
    page = client.get(f"/my/{mine.pk}/move/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This reservation can no longer be moved." in page
    client.post(f"/my/{mine.pk}/move/", {"start": local(WED, "14:00"), "end": local(WED, "16:00")})
    assert Reservation.objects.get(pk=mine.pk).start == at(WED, "10:00")
    assert f'href="/my/{mine.pk}/move/"' not in client.get("/my/").content.decode()
