"""`GET /api/v1/equipment/?free_from=&free_to=`: what could be booked over a period."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.roles import SYSTEM
from equipment.services import equipment_create, equipment_update
from reservations.models import Closure
from reservations.services import reservation_create

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")


def codes(client, query):
    response = client.get(f"/api/v1/equipment/?{query}")
    assert response.status_code == 200, response.json()
    return sorted(e["code"] for e in response.json()["results"])


def test_free_filter_excludes_busy_closed_inactive_and_shut(client_for, campus):
    start = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
    end = datetime(2026, 12, 1, 12, 0, tzinfo=PARIS)
    reservation_create(
        user=campus.researcher,
        project=campus.open_research,
        equipment=[campus.rheometer],
        start=start,
        end=end,
        title="Mesures",
        now=datetime(2026, 11, 23, 8, 0, tzinfo=PARIS),
    )
    closed = equipment_create(
        actor=SYSTEM, code="TO-RHEO-02", name="R2", category=campus.rheo, site=campus.other_site
    )
    Closure.objects.create(equipment=closed, start=start, end=end, reason="Panne")
    broken = equipment_create(
        actor=SYSTEM, code="WL-X-01", name="X", category=campus.chroma, site=campus.site
    )
    equipment_update(actor=SYSTEM, equipment=broken, status="maintenance")
    client = client_for(campus.outsider)
    window = "free_from=2026-12-01T10:00:00%2B01:00&free_to=2026-12-01T12:00:00%2B01:00"
    assert codes(client, window) == ["WL-HPLC-01"]
    later = "free_from=2026-12-01T14:00:00&free_to=2026-12-01T16:00:00"
    assert codes(client, later) == ["TO-RHEO-01", "TO-RHEO-02", "WL-HPLC-01"]
    night = "free_from=2026-12-01T20:00:00&free_to=2026-12-01T22:00:00"
    assert codes(client, night) == []


def test_free_filter_needs_an_ordered_window(client_for, campus):
    client = client_for(campus.outsider)
    response = client.get(
        "/api/v1/equipment/?free_from=2026-12-01T12:00:00&free_to=2026-12-01T10:00:00"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    missing = client.get("/api/v1/equipment/?free_from=2026-12-01T12:00:00")
    assert missing.status_code == 400


def test_free_filter_excludes_site_and_campus_wide_closures(client_for, campus):
    client = client_for(campus.outsider)
    Closure.objects.create(
        site=campus.site,
        start=datetime(2026, 12, 1, 0, 0, tzinfo=PARIS),
        end=datetime(2026, 12, 2, 0, 0, tzinfo=PARIS),
        reason="Coupure",
    )
    Closure.objects.create(
        start=datetime(2026, 12, 3, 0, 0, tzinfo=PARIS),
        end=datetime(2026, 12, 4, 0, 0, tzinfo=PARIS),
        reason="Journée du campus",
    )
    site_day = "free_from=2026-12-01T10:00:00&free_to=2026-12-01T12:00:00"
    assert codes(client, site_day) == ["TO-RHEO-01"]  # the HPLC's site is closed
    campus_day = "free_from=2026-12-03T10:00:00&free_to=2026-12-03T12:00:00"
    assert codes(client, campus_day) == []
