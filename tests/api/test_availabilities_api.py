"""Availability of many equipment in one request (`GET /api/v1/availability/`), and what
any availability request costs: a fixed number of queries, one light query for the
no-shows when nothing is overdue, and an overdue reservation still released by it."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.roles import SYSTEM
from equipment.models import Equipment
from equipment.services import equipment_create, equipment_update
from reservations.models import Closure, Reservation, UsageRecord
from tests.conftest import reservation_row

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 10, 0, tzinfo=PARIS)  # a Monday
DAY = {"start": "2026-11-23T00:00:00+01:00", "end": "2026-11-24T00:00:00+01:00"}
URL = "/api/v1/availability/"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("reservations.api.booking.timezone.now", lambda: NOW)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=PARIS)


def workstations(campus, n: int, offset: int = 0) -> list[Equipment]:
    return [
        equipment_create(
            actor=SYSTEM,
            code=f"TO-P{i}",
            name=f"Poste {i}",
            category=campus.rheo,
            site=campus.site if i % 2 else campus.other_site,
        )
        for i in range(offset, offset + n)
    ]


def single(client, equipment: Equipment) -> dict:
    response = client.get(f"/api/v1/equipment/{equipment.pk}/availability/", DAY)
    assert response.status_code == 200
    return response.json()


def many(client, query: str):
    return client.get(f"{URL}?{query}&start={DAY['start']}&end={DAY['end']}".replace("+", "%2B"))


def test_many_equipment_answer_in_the_order_asked_as_one_by_one(client_for, campus):
    desks = workstations(campus, 3)
    reservation_row(campus, at(14), 60)
    reservation_row(campus, at(9), 90, equipment=desks[1], blocked_until=at(11))
    Closure.objects.create(
        site=campus.site, start=at(12), end=at(13), reason="Coupure", created_by=campus.admin
    )
    client = client_for(campus.outsider)
    order = [desks[2], campus.rheometer, desks[1], campus.hplc, desks[0]]
    response = many(client, "equipment=" + ",".join(str(e.pk) for e in order))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["equipment"] for r in results] == [e.pk for e in order]
    assert results == [single(client, e) for e in order]
    assert any(b["kind"] == "buffer" for b in results[2]["busy"])


def test_equipment_may_be_repeated_or_comma_separated(client_for, campus):
    client = client_for(campus.outsider)
    a, b = campus.rheometer.pk, campus.hplc.pk
    repeated = many(client, f"equipment={a}&equipment={b}")
    mixed = many(client, f"equipment={a},{b}&equipment={a}")
    assert repeated.status_code == mixed.status_code == 200
    assert [r["equipment"] for r in repeated.json()["results"]] == [a, b]
    assert mixed.json() == repeated.json()


def test_retired_equipment_answers_as_in_the_single_view(client_for, campus):
    equipment_update(actor=SYSTEM, equipment=campus.hplc, status=Equipment.Status.RETIRED)
    client = client_for(campus.outsider)
    response = many(client, f"equipment={campus.hplc.pk}")
    assert response.json()["results"] == [single(client, campus.hplc)]


def assert_refused(response, code: str, status: int = 400) -> dict:
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["code"] == code
    return body


def test_refusals_carry_catalogue_codes(client_for, campus):
    client = client_for(campus.outsider)
    pk = campus.rheometer.pk
    body = assert_refused(many(client, f"equipment={pk},999998,{pk},999999"), "not_found", 404)
    assert body["missing"] == [999998, 999999]
    assert "999998, 999999" in body["detail"]
    assert_refused(many(client, "equipment=abc"), "bad_filter")
    assert_refused(many(client, "equipment=1;2"), "bad_filter")
    assert_refused(many(client, "equipment="), "no_equipment")
    assert_refused(client.get(URL, DAY), "no_equipment")
    ids = ",".join(str(n) for n in range(1, 202))
    body = assert_refused(many(client, f"equipment={ids}"), "too_many_equipment")
    assert "200" in body["detail"]
    week = {"start": DAY["start"], "end": "2027-01-25T00:00:00+01:00"}  # 63 days
    assert_refused(client.get(URL, {"equipment": pk, **week}), "bad_window")
    backwards = {"start": DAY["end"], "end": DAY["start"]}
    assert_refused(client.get(URL, {"equipment": pk, **backwards}), "bad_window")
    assert_refused(client.get(URL, {"equipment": pk, "start": "x", "end": DAY["end"]}), "invalid")
    assert client_for().get(URL, {"equipment": pk, **DAY}).status_code == 401


def test_many_equipment_cost_the_queries_of_one(client_for, campus, django_assert_num_queries):
    """Token, equipment, then reservations with closures (and the no-show probe when
    some require check-in) in one query."""
    desks = workstations(campus, 3)
    equipment_update(actor=SYSTEM, equipment=desks[0], requires_check_in=True)
    client = client_for(campus.outsider)
    few = ",".join(str(e.pk) for e in desks)
    with django_assert_num_queries(3):
        assert many(client, f"equipment={few}").status_code == 200
    more = workstations(campus, 20, offset=10)
    for item in more:
        reservation_row(campus, at(15), 30, equipment=item)
    everything = ",".join(str(e.pk) for e in [*desks, *more, campus.rheometer, campus.hplc])
    with django_assert_num_queries(3):
        response = many(client, f"equipment={everything}")
    assert len(response.json()["results"]) == 25
    # Without check-in equipment there is nothing to release: no probe.
    plain = ",".join(str(e.pk) for e in more)
    with django_assert_num_queries(3):
        assert many(client, f"equipment={plain}").status_code == 200


# --- the no-show check of an availability request -----------------------------------------


@pytest.fixture
def check_in(campus):
    equipment_update(actor=SYSTEM, equipment=campus.rheometer, requires_check_in=True)
    campus.rheometer.refresh_from_db()
    return campus.rheometer


def test_nothing_overdue_costs_one_light_query(
    client_for, campus, check_in, django_assert_num_queries
):
    """History (checked-in, within grace, long ago or ahead) is read as two columns at most."""
    for day in range(1, 30):  # a month of checked-in history, never completed
        past = reservation_row(campus, at(8) - timedelta(days=day), 60)
        UsageRecord.objects.create(
            reservation=past, checked_in_at=past.start, checked_in_by=campus.researcher
        )
    within_grace = reservation_row(campus, at(9, 45), 60)  # grace of 30 min: until 10:15
    reservation_row(campus, at(15), 60)
    client = client_for(campus.outsider)
    # Token, equipment, the no-show check with reservations and closures.
    with django_assert_num_queries(3) as captured:
        data = single(client, check_in)
    no_shows = captured.captured_queries[2]["sql"]
    assert "policy_overrides" in no_shows and "description" not in no_shows
    assert "FOR UPDATE" not in no_shows.upper()
    within_grace.refresh_from_db()
    assert within_grace.status == "confirmed"
    assert {b["start"][11:16] for b in data["busy"]} == {"09:45", "15:00"}
    with django_assert_num_queries(3):
        many(client, f"equipment={check_in.pk},{campus.hplc.pk}")


def test_an_overdue_reservation_is_released_by_an_availability_request(
    client_for, campus, check_in
):
    """Past its grace (a per-equipment policy, 20 min here), a booking not checked in is a
    no-show and its time is free again; one still within its grace stays."""
    equipment_update(actor=SYSTEM, equipment=check_in, policy={"check_in_grace_minutes": 20})
    overdue = reservation_row(campus, at(9, 40), 120)  # 20 min of grace: until 10:00
    long_ago = reservation_row(campus, at(9) - timedelta(days=40), 60)
    client = client_for(campus.outsider)
    data = many(client, f"equipment={check_in.pk}").json()["results"][0]
    assert data["busy"] == []
    assert Reservation.objects.get(pk=overdue.pk).status == "no_show"
    assert Reservation.objects.get(pk=long_ago.pk).status == "no_show"


def test_a_reservation_within_its_grace_stays_until_the_grace_ends(
    client_for, campus, check_in, monkeypatch
):
    equipment_update(actor=SYSTEM, equipment=check_in, policy={"check_in_grace_minutes": 45})
    booking = reservation_row(campus, at(9, 30), 120)  # 45 min of grace: until 10:15
    client = client_for(campus.outsider)
    assert single(client, check_in)["busy"]
    assert Reservation.objects.get(pk=booking.pk).status == "confirmed"
    monkeypatch.setattr(
        "reservations.api.booking.timezone.now", lambda: NOW + timedelta(minutes=15)
    )
    assert single(client, check_in)["busy"] == []
    assert Reservation.objects.get(pk=booking.pk).status == "no_show"


def test_past_the_probe_s_limit_the_locked_pass_decides(client_for, campus, check_in, monkeypatch):
    """The probe reads a few candidates, latest first; beyond its limit the locked pass
    reads them all and releases exactly the overdue ones."""
    monkeypatch.setattr("reservations.services.noshows._PROBE_ROWS", 1)
    equipment_update(actor=SYSTEM, equipment=campus.hplc, requires_check_in=True)
    overdue = reservation_row(campus, at(9), 120, equipment=campus.hplc)  # grace until 9:30
    within = reservation_row(campus, at(9, 50), 60)  # the latest: grace until 10:20
    client = client_for(campus.outsider)
    assert many(client, f"equipment={check_in.pk},{campus.hplc.pk}").status_code == 200
    assert Reservation.objects.get(pk=overdue.pk).status == "no_show"
    assert Reservation.objects.get(pk=within.pk).status == "confirmed"


def test_the_probe_reads_each_equipment_s_own_grace(client_for, campus, check_in):
    """The probe computes a grace per distinct policy: the latest candidate's 45 minutes
    must not stand for another equipment's default 30."""
    equipment_update(actor=SYSTEM, equipment=check_in, policy={"check_in_grace_minutes": 45})
    equipment_update(actor=SYSTEM, equipment=campus.hplc, requires_check_in=True)
    within = reservation_row(campus, at(9, 30), 120)  # 45 min of grace: until 10:15
    overdue = reservation_row(campus, at(9, 20), 120, equipment=campus.hplc)  # until 9:50
    client = client_for(campus.outsider)
    assert many(client, f"equipment={check_in.pk},{campus.hplc.pk}").status_code == 200
    assert Reservation.objects.get(pk=overdue.pk).status == "no_show"
    assert Reservation.objects.get(pk=within.pk).status == "confirmed"
