"""Closures through the API: who may close what, and displacement of covered bookings."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.roles import SYSTEM
from reservations.models import Closure
from reservations.services import reservation_create

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("reservations.api.booking.timezone.now", lambda: NOW)


def book(campus, start, hours=2):
    return reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=[campus.rheometer],
        start=start,
        end=start + timedelta(hours=hours),
        title="Mesures",
        now=NOW,
    ).reservations[0]


def test_closure_over_a_booking_displaces_it(client_for, campus):
    booked = book(campus, datetime(2026, 12, 1, 9, 0, tzinfo=PARIS))
    untouched = book(campus, datetime(2026, 12, 2, 9, 0, tzinfo=PARIS))
    response = client_for(campus.admin).post(
        "/api/v1/closures/",
        {
            "equipment": campus.rheometer.pk,
            "start": "2026-12-01T00:00:00+01:00",
            "end": "2026-12-02T00:00:00+01:00",
            "reason": "Maintenance annuelle",
            "kind": "maintenance",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert [d["id"] for d in response.json()["displaced"]] == [booked.pk]
    booked.refresh_from_db()
    untouched.refresh_from_db()
    assert booked.status == "displaced"
    assert booked.revision == 1
    assert untouched.status == "confirmed"
    assert booked.audit.filter(action="displace").exists()
    # And the slot is now refused with `closed`.
    again = client_for(campus.researcher).post(
        "/api/v1/reservations/",
        {
            "equipment": campus.rheometer.pk,
            "project": campus.research.pk,
            "start": "2026-12-01T14:00:00+01:00",
            "end": "2026-12-01T16:00:00+01:00",
            "title": "Encore",
        },
        format="json",
    )
    assert again.status_code == 400
    assert again.json()["code"] == "closed"


def test_site_wide_closure_is_for_platform_managers(client_for, campus):
    payload = {
        "site": campus.site.pk,
        "start": "2026-12-24T00:00:00+01:00",
        "end": "2026-12-26T00:00:00+01:00",
        "reason": "Fermeture de Noël",
        "kind": "holiday",
    }
    refused = client_for(campus.eq_manager).post("/api/v1/closures/", payload, format="json")
    assert refused.status_code == 403
    ok = client_for(campus.admin).post("/api/v1/closures/", payload, format="json")
    assert ok.status_code == 201


def hplc_booking(campus, start):
    from equipment.services import qualification_grant

    qualification_grant(
        actor=SYSTEM,
        user=campus.researcher,
        equipment=campus.hplc,
        valid_until=start.date() + timedelta(days=1),
    )
    return reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=[campus.hplc],
        start=start,
        end=start + timedelta(hours=2),
        title="Dosage",
        now=NOW,
    ).reservations[0]


def test_a_site_closure_displaces_that_site_only(client_for, campus):
    on_site = hplc_booking(campus, datetime(2026, 12, 1, 9, tzinfo=PARIS))  # We Lab
    elsewhere = book(campus, datetime(2026, 12, 1, 9, tzinfo=PARIS))  # Plateau Tours
    response = client_for(campus.admin).post(
        "/api/v1/closures/",
        {
            "site": campus.site.pk,
            "start": "2026-12-01T00:00:00+01:00",
            "end": "2026-12-02T00:00:00+01:00",
            "reason": "Coupure électrique",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert [d["id"] for d in response.json()["displaced"]] == [on_site.pk]
    elsewhere.refresh_from_db()
    assert elsewhere.status == "confirmed"


def test_a_campus_wide_closure_displaces_closes_and_shows_everywhere(client_for, campus):
    on_site = hplc_booking(campus, datetime(2026, 12, 1, 9, tzinfo=PARIS))
    elsewhere = book(campus, datetime(2026, 12, 1, 14, tzinfo=PARIS))
    response = client_for(campus.admin).post(
        "/api/v1/closures/",
        {
            "start": "2026-12-01T00:00:00+01:00",
            "end": "2026-12-02T00:00:00+01:00",
            "reason": "Journée du campus",
            "kind": "event",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert sorted(d["id"] for d in response.json()["displaced"]) == sorted(
        [on_site.pk, elsewhere.pk]
    )
    client = client_for(campus.researcher)
    again = client.post(
        "/api/v1/reservations/",
        {
            "equipment": campus.rheometer.pk,
            "project": campus.research.pk,
            "start": "2026-12-01T10:00:00+01:00",
            "end": "2026-12-01T11:00:00+01:00",
            "title": "Encore",
        },
        format="json",
    )
    assert again.status_code == 400 and again.json()["code"] == "closed"
    availability = client.get(
        f"/api/v1/equipment/{campus.rheometer.pk}/availability/",
        {"start": "2026-12-01T00:00:00+01:00", "end": "2026-12-02T00:00:00+01:00"},
    ).json()
    assert [b["kind"] for b in availability["busy"]] == ["closure"]
    assert availability["free"] == []


def test_equipment_manager_closes_own_equipment_only(client_for, campus):
    payload = {
        "start": "2026-12-01T08:00:00+01:00",
        "end": "2026-12-01T12:00:00+01:00",
        "reason": "Étalonnage",
    }
    client = client_for(campus.eq_manager)
    mine = client.post("/api/v1/closures/", {**payload, "equipment": campus.hplc.pk}, format="json")
    assert mine.status_code == 201
    other = client.post(
        "/api/v1/closures/", {**payload, "equipment": campus.rheometer.pk}, format="json"
    )
    assert other.status_code == 403
    assert client_for(campus.researcher).get("/api/v1/closures/").json()["count"] == 1
    deleted = client.delete(f"/api/v1/closures/{mine.json()['id']}/")
    assert deleted.status_code == 204
    assert not Closure.objects.filter(pk=mine.json()["id"]).exists()


def test_closure_with_end_before_start_is_invalid(client_for, campus):
    response = client_for(campus.admin).post(
        "/api/v1/closures/",
        {
            "equipment": campus.rheometer.pk,
            "start": "2026-12-02T00:00:00+01:00",
            "end": "2026-12-01T00:00:00+01:00",
            "reason": "x",
        },
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert not Closure.objects.exists()
