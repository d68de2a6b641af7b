"""Reservation endpoints (SPEC §3, §6, §7): booking, every rule code, approval,
displacement, series, sessions, cancel scopes, moves, visibility and query counts.

Time is frozen at Monday 2026-11-23 08:00 Europe/Paris; dates are picked relative to it.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.roles import SYSTEM
from equipment.models import Equipment
from equipment.services import equipment_update, qualification_grant
from reservations.models import Closure, Reservation, Series, Session
from reservations.services import reservation_create

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
UTC = ZoneInfo("UTC")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)  # a Monday
WED = date(2026, 12, 2)  # 9 days ahead: inside every horizon, inside the preemption notice
URL = "/api/v1/reservations/"

RESERVATION_FIELDS = {
    "id",
    "equipment",
    "project",
    "booked_by",
    "start",
    "end",
    "title",
    "expected_participants",
    "status",
    "priority",
    "series",
    "session",
    "revision",
    "created_at",
    "updated_at",
}


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    # The views call `timezone.now()` through the module `django.utils.timezone`.
    monkeypatch.setattr("reservations.api.booking.timezone.now", lambda: NOW)


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime(day.year, day.month, day.day, int(hours), int(minutes), tzinfo=PARIS)


def iso(day: date, hhmm: str) -> str:
    return at(day, hhmm).isoformat()


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def book(client, equipment, project, day: date, start: str, end: str, **extra):
    payload = {
        "equipment": equipment.pk,
        "project": project.pk,
        "start": iso(day, start),
        "end": iso(day, end),
        "title": "Mesures",
        **extra,
    }
    return client.post(URL, payload, format="json")


def booked(response) -> dict:
    assert response.status_code == 201, response.json()
    return response.json()


def detail(client, pk: int):
    return client.get(f"{URL}{pk}/")


def list_ids(client, query: str = "") -> set[int]:
    response = client.get(URL + query)
    assert response.status_code == 200, response.json()
    return {r["id"] for r in response.json()["results"]}


# --- single booking ---------------------------------------------------------------------


def test_single_booking_answers_the_reservation(client_for, campus):
    client = client_for(campus.researcher)
    response = book(
        client, campus.rheometer, campus.research, WED, "10:00", "12:00", expected_participants=3
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == RESERVATION_FIELDS | {"displaced"}
    assert body["equipment"] == campus.rheometer.pk
    assert body["project"] == campus.research.pk
    assert body["booked_by"] == campus.researcher.pk
    assert body["title"] == "Mesures"
    assert body["expected_participants"] == 3
    assert body["status"] == "confirmed"
    assert body["priority"] == "research"
    assert body["series"] is None
    assert body["session"] is None
    assert body["revision"] == 0
    assert body["displaced"] == []
    # Instants carry an offset: 10:00 in Paris in December is UTC+1.
    assert body["start"] == "2026-12-02T10:00:00+01:00"
    assert body["end"] == "2026-12-02T12:00:00+01:00"
    assert instant(body["created_at"]) == NOW
    assert instant(body["updated_at"]) == NOW
    row = Reservation.objects.get(pk=body["id"])
    assert row.status == "confirmed"
    assert row.start == at(WED, "10:00")
    assert detail(client, body["id"]).json()["start"] == body["start"]


def test_a_time_without_offset_is_read_in_paris(client_for, campus):
    client = client_for(campus.researcher)
    body = booked(
        client.post(
            URL,
            {
                "equipment": campus.rheometer.pk,
                "project": campus.research.pk,
                "start": "2026-12-02T10:00:00",
                "end": "2026-12-02T11:00:00",
                "title": "Sans décalage",
            },
            format="json",
        )
    )
    assert body["start"] == "2026-12-02T10:00:00+01:00"
    assert instant(body["start"]) == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_anonymous_gets_401(client_for, campus):
    anonymous = client_for(None)
    response = anonymous.get(URL)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    refused = book(anonymous, campus.rheometer, campus.research, WED, "10:00", "11:00")
    assert refused.status_code == 401
    assert not Reservation.objects.exists()


# --- rule codes -------------------------------------------------------------------------


def assert_refused(response, code: str, status: int = 400) -> dict:
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"]
    return body


def post_times(client, campus, start: str, end: str, project=None):
    return client.post(
        URL,
        {
            "equipment": campus.rheometer.pk,
            "project": (project or campus.research).pk,
            "start": start,
            "end": end,
            "title": "Mesures",
        },
        format="json",
    )


def test_invalid_end_before_start(client_for, campus):
    client = client_for(campus.researcher)
    assert_refused(
        book(client, campus.rheometer, campus.research, WED, "12:00", "10:00"), "invalid"
    )
    assert_refused(
        book(client, campus.rheometer, campus.research, WED, "10:00", "10:00"), "invalid"
    )
    assert not Reservation.objects.exists()


def test_invalid_garbage_datetime(client_for, campus):
    client = client_for(campus.researcher)
    body = assert_refused(post_times(client, campus, "demain matin", iso(WED, "11:00")), "invalid")
    assert "start" in body["fields"]
    body = assert_refused(post_times(client, campus, iso(WED, "10:00"), "2026-12-02T"), "invalid")
    assert "end" in body["fields"]


def test_invalid_impossible_calendar_date_is_a_400_not_a_server_error(client_for, campus):
    # Django's parse_datetime raises ValueError for a well-formed but impossible date
    # (30 February, hour 25); it once escaped parse_instant as a 500.
    client = client_for(campus.researcher)
    client.raise_request_exception = False
    for start in ("2027-02-30T10:00:00+01:00", "2026-12-02T25:00:00"):
        response = post_times(client, campus, start, iso(WED, "11:00"))
        assert response.status_code == 400, (start, response.status_code)
        assert response.json()["code"] == "invalid"
        assert "start" in response.json()["fields"]


def test_invalid_unknown_or_repeated_equipment(client_for, campus):
    client = client_for(campus.researcher)
    booked(book(client, campus.rheometer, campus.research, WED, "10:00", "11:00"))
    payload = session_payload(campus, campus.research, WED, "14:00", "15:00")
    payload["equipment_ids"] = [campus.rheometer.pk, 999999]
    assert (
        "equipment" in assert_refused(client.post(URL, payload, format="json"), "invalid")["fields"]
    )
    payload["equipment_ids"] = [campus.rheometer.pk, campus.rheometer.pk]
    assert_refused(client.post(URL, payload, format="json"), "equipment_repeated")
    assert Reservation.objects.count() == 1


def test_invalid_missing_fields_and_both_equipment_shapes(client_for, campus):
    client = client_for(campus.researcher)
    body = assert_refused(
        client.post(URL, {"project": campus.research.pk}, format="json"), "invalid"
    )
    assert {"start", "end", "title"} <= set(body["fields"])
    both = client.post(
        URL,
        {
            "equipment": campus.rheometer.pk,
            "equipment_ids": [campus.rheometer.pk],
            "project": campus.research.pk,
            "start": iso(WED, "10:00"),
            "end": iso(WED, "11:00"),
            "title": "x",
        },
        format="json",
    )
    assert "equipment" in assert_refused(both, "invalid")["fields"]


def test_ambiguous_local_time_in_the_autumn_change(client_for, campus):
    client = client_for(campus.teacher)
    # 2027-10-31 02:30 happens twice in Paris.
    body = assert_refused(
        post_times(client, campus, "2027-10-31T02:30:00", "2027-10-31T03:30:00", campus.teaching),
        "ambiguous_time",
    )
    assert "start" in body["fields"]
    # With an offset it is one instant: the answer moves on to the next rule (a Sunday).
    assert_refused(
        post_times(
            client,
            campus,
            "2027-10-31T02:30:00+02:00",
            "2027-10-31T03:30:00+01:00",
            campus.teaching,
        ),
        "outside_opening_hours",
    )


def test_non_existent_local_time_in_the_spring_change(client_for, campus):
    client = client_for(campus.teacher)
    body = assert_refused(
        post_times(client, campus, "2027-03-28T02:30:00", "2027-03-28T04:00:00", campus.teaching),
        "ambiguous_time",
    )
    assert "start" in body["fields"]
    body = assert_refused(
        post_times(client, campus, "2027-03-28T01:00:00", "2027-03-28T02:15:00", campus.teaching),
        "ambiguous_time",
    )
    assert "end" in body["fields"]


def test_in_past(client_for, campus):
    client = client_for(campus.researcher)
    friday = date(2026, 11, 20)
    assert_refused(
        book(client, campus.rheometer, campus.research, friday, "10:00", "11:00"), "in_past"
    )
    # Earlier today, already begun.
    today = NOW.date()
    assert_refused(
        book(client, campus.rheometer, campus.research, today, "07:45", "09:00"), "in_past"
    )


def test_bad_granularity(client_for, campus):
    client = client_for(campus.researcher)
    assert_refused(
        book(client, campus.rheometer, campus.research, WED, "10:10", "11:00"), "bad_granularity"
    )
    assert_refused(
        book(client, campus.rheometer, campus.research, WED, "10:00", "11:05"), "bad_granularity"
    )


def test_too_short_and_too_long(client_for, campus):
    client = client_for(campus.researcher)
    assert_refused(
        book(client, campus.rheometer, campus.research, WED, "10:00", "10:15"), "too_short"
    )
    assert_refused(
        book(client, campus.rheometer, campus.research, WED, "08:00", "16:15"), "too_long"
    )
    booked(book(client, campus.rheometer, campus.research, WED, "08:00", "16:00"))  # exactly 8 h


def test_outside_opening_hours(client_for, campus):
    client = client_for(campus.researcher)
    assert_refused(
        book(client, campus.rheometer, campus.research, WED, "18:00", "20:00"),
        "outside_opening_hours",
    )
    assert_refused(
        book(client, campus.rheometer, campus.research, WED, "07:00", "09:00"),
        "outside_opening_hours",
    )
    saturday = date(2026, 12, 5)
    assert_refused(
        book(client, campus.rheometer, campus.research, saturday, "10:00", "12:00"),
        "outside_opening_hours",
    )


def test_closed(client_for, campus):
    Closure.objects.create(
        equipment=campus.rheometer,
        start=at(WED, "00:00"),
        end=at(WED + timedelta(days=1), "00:00"),
        reason="Maintenance annuelle",
        kind=Closure.Kind.MAINTENANCE,
    )
    client = client_for(campus.researcher)
    assert_refused(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"), "closed")
    booked(book(client, campus.rheometer, campus.research, WED + timedelta(1), "10:00", "12:00"))


def test_closed_by_a_site_closure(client_for, campus):
    Closure.objects.create(
        site=campus.other_site, start=at(WED, "12:00"), end=at(WED, "14:00"), reason="Événement"
    )
    client = client_for(campus.researcher)
    assert_refused(book(client, campus.rheometer, campus.research, WED, "11:00", "13:00"), "closed")
    booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))


def test_equipment_unavailable(client_for, campus):
    Equipment.objects.filter(pk=campus.rheometer.pk).update(status=Equipment.Status.MAINTENANCE)
    client = client_for(campus.researcher)
    assert_refused(
        book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"),
        "equipment_unavailable",
    )


def test_beyond_horizon(client_for, campus):
    far = date(2027, 1, 27)  # a Wednesday 65 days ahead
    assert_refused(
        book(
            client_for(campus.researcher), campus.rheometer, campus.research, far, "10:00", "12:00"
        ),
        "beyond_horizon",
    )
    # Teachers plan a year ahead.
    booked(
        book(client_for(campus.teacher), campus.rheometer, campus.teaching, far, "10:00", "12:00")
    )


def test_too_late(client_for, campus):
    client = client_for(campus.researcher)
    today = NOW.date()
    assert_refused(
        book(client, campus.rheometer, campus.research, today, "08:30", "09:30"), "too_late"
    )
    booked(book(client, campus.rheometer, campus.research, today, "09:00", "10:00"))


def test_not_project_member(client_for, campus):
    client = client_for(campus.outsider)
    assert_refused(
        book(client, campus.rheometer, campus.open_research, WED, "10:00", "12:00"),
        "not_project_member",
    )
    # A confidential project of another partner does not exist for them.
    body = assert_refused(
        book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"), "invalid"
    )
    assert "project" in body["fields"]
    assert not Reservation.objects.exists()


def test_project_inactive(client_for, campus):
    campus.research.active_until = date(2026, 11, 1)
    campus.research.save(update_fields=["active_until"])
    assert_refused(
        book(
            client_for(campus.researcher), campus.rheometer, campus.research, WED, "10:00", "12:00"
        ),
        "project_inactive",
    )


def test_not_qualified_then_qualified(client_for, campus):
    client = client_for(campus.researcher)
    assert_refused(
        book(client, campus.hplc, campus.research, WED, "10:00", "12:00"), "not_qualified"
    )
    # A qualification that ends before the reservation does not count.
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2026, 12, 1)
    )
    assert_refused(
        book(client, campus.hplc, campus.research, WED, "10:00", "12:00"), "not_qualified"
    )
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    body = booked(book(client, campus.hplc, campus.research, WED, "10:00", "12:00"))
    assert body["status"] == "confirmed"


def test_teaching_window(client_for, campus):
    equipment_update(
        actor=SYSTEM,
        equipment=campus.rheometer,
        policy={"teaching_windows": [{"weekday": "tue", "start": "08:00", "end": "12:00"}]},
    )
    researcher = client_for(campus.researcher)
    tuesday = date(2026, 12, 15)  # 22 days ahead, a school day in zone B
    assert_refused(
        book(researcher, campus.rheometer, campus.research, tuesday, "09:00", "10:00"),
        "teaching_window",
    )
    # The afternoon is outside the window.
    booked(book(researcher, campus.rheometer, campus.research, tuesday, "14:00", "15:00"))
    # A window less than 14 days ahead is released to everyone.
    booked(book(researcher, campus.rheometer, campus.research, date(2026, 12, 1), "09:00", "10:00"))
    # Teachers book the window.
    teacher = client_for(campus.teacher)
    body = booked(book(teacher, campus.rheometer, campus.teaching, tuesday, "09:00", "10:00"))
    assert body["priority"] == "pedagogical"


def test_quota_exceeded(client_for, campus):
    equipment_update(
        actor=SYSTEM, equipment=campus.rheometer, policy={"weekly_quota_hours": {"research": 2}}
    )
    client = client_for(campus.researcher)
    booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    # Same partner, same week: the quota is the partner's, across its projects.
    assert_refused(
        book(client, campus.rheometer, campus.open_research, WED + timedelta(1), "10:00", "10:30"),
        "quota_exceeded",
    )
    booked(
        book(client, campus.rheometer, campus.open_research, WED + timedelta(7), "10:00", "12:00")
    )
    # Quotas never apply to teaching.
    booked(
        book(
            client_for(campus.teacher),
            campus.rheometer,
            campus.teaching,
            WED + timedelta(1),
            "10:00",
            "14:00",
        )
    )


def test_conflict_lists_conflicts_and_alternatives(client_for, campus):
    client = client_for(campus.researcher)
    existing = booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    response = book(client, campus.rheometer, campus.open_research, WED, "11:00", "13:00")
    body = assert_refused(response, "conflict", 409)
    assert body["conflicts"] == [{"start": existing["start"], "end": existing["end"]}]
    assert 1 <= len(body["alternatives"]) <= 5
    for alternative in body["alternatives"]:
        assert set(alternative) == {"equipment", "start", "end"}
        start, end = instant(alternative["start"]), instant(alternative["end"])
        assert end - start == timedelta(hours=2)
        assert (
            end <= at(WED, "10:00")
            or start >= at(WED, "12:00")
            or (alternative["equipment"] != campus.rheometer.pk)
        )
    # The first suggestion is really free.
    first = body["alternatives"][0]
    booked(
        client.post(
            URL,
            {
                "equipment": first["equipment"],
                "project": campus.open_research.pk,
                "start": first["start"],
                "end": first["end"],
                "title": "Suggéré",
            },
            format="json",
        )
    )
    assert Reservation.objects.count() == 2


def test_a_rule_broken_earlier_in_the_table_answers_first(client_for, campus):
    client = client_for(campus.researcher)
    booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    # Conflicting and not on the grid: bad_granularity comes first.
    assert_refused(
        book(client, campus.rheometer, campus.open_research, WED, "10:05", "11:00"),
        "bad_granularity",
    )


# --- approval ---------------------------------------------------------------------------


def test_industrial_bookings_wait_for_the_equipment_manager(client_for, campus):
    qualification_grant(
        actor=SYSTEM, user=campus.industrial, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    industrial = client_for(campus.industrial)
    manager = client_for(campus.eq_manager)

    first = booked(book(industrial, campus.hplc, campus.confidential, WED, "14:00", "16:00"))
    assert first["status"] == "pending"
    assert first["priority"] == "industrial"
    # A pending request holds its slot.
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    assert_refused(
        book(client_for(campus.researcher), campus.hplc, campus.research, WED, "15:00", "16:00"),
        "conflict",
        409,
    )

    # The equipment manager sees the request to decide on it; other partners do not.
    assert first["id"] in list_ids(manager, "?status=pending")
    assert first["id"] not in list_ids(client_for(campus.researcher))
    approved = manager.post(f"{URL}{first['id']}/approve/", {"reason": "OK"}, format="json")
    assert approved.status_code == 200, approved.json()
    assert approved.json()["status"] == "confirmed"
    assert approved.json()["revision"] == 1
    assert Reservation.objects.get(pk=first["id"]).status == "confirmed"

    second = booked(
        book(industrial, campus.hplc, campus.confidential, WED + timedelta(1), "14:00", "16:00")
    )
    assert second["status"] == "pending"
    rejected = manager.post(f"{URL}{second['id']}/reject/", {"reason": "Non"}, format="json")
    assert rejected.status_code == 200, rejected.json()
    assert rejected.json()["status"] == "rejected"
    assert Reservation.objects.get(pk=second["id"]).status == "rejected"

    third = booked(
        book(industrial, campus.hplc, campus.confidential, WED + timedelta(2), "14:00", "16:00")
    )
    # The booker is no manager: they see the request but may not decide.
    refused = industrial.post(f"{URL}{third['id']}/approve/", {}, format="json")
    assert_refused(refused, "permission_denied", 403)
    assert_refused(
        industrial.post(f"{URL}{third['id']}/reject/", {}, format="json"), "permission_denied", 403
    )
    assert Reservation.objects.get(pk=third["id"]).status == "pending"
    # Someone who may not even see it gets a 404.
    outsider = client_for(campus.outsider)
    assert outsider.post(f"{URL}{third['id']}/approve/", {}, format="json").status_code == 404
    # Only pending requests are decided.
    assert_refused(manager.post(f"{URL}{first['id']}/approve/", {}, format="json"), "not_pending")


def test_manager_booking_for_an_industrial_project_is_confirmed_at_once(client_for, campus):
    campus.confidential.members.add(campus.eq_manager)
    qualification_grant(
        actor=SYSTEM, user=campus.eq_manager, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    body = booked(
        book(client_for(campus.eq_manager), campus.hplc, campus.confidential, WED, "14:00", "16:00")
    )
    assert body["status"] == "confirmed"


# --- displacement -----------------------------------------------------------------------


def test_teaching_booking_displaces_research_beyond_the_notice(client_for, campus):
    day = date(2026, 12, 23)  # 30 days ahead
    researcher = client_for(campus.researcher)
    research = booked(book(researcher, campus.rheometer, campus.research, day, "10:00", "12:00"))

    response = book(
        client_for(campus.teacher), campus.rheometer, campus.teaching, day, "09:00", "11:00"
    )
    body = booked(response)
    assert body["status"] == "confirmed"
    assert [d["id"] for d in body["displaced"]] == [research["id"]]
    displaced = body["displaced"][0]
    # Only busy time: the teacher learns nothing of the confidential project.
    assert "title" not in displaced and "project" not in displaced
    assert displaced["priority"] == "research"

    after = detail(researcher, research["id"]).json()
    assert after["status"] == "displaced"
    assert after["revision"] == 1


def test_inside_the_preemption_notice_a_teaching_booking_conflicts(client_for, campus):
    researcher = client_for(campus.researcher)
    research = booked(book(researcher, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    response = book(
        client_for(campus.teacher), campus.rheometer, campus.teaching, WED, "10:00", "12:00"
    )
    body = assert_refused(response, "conflict", 409)
    assert body["conflicts"] == [{"start": research["start"], "end": research["end"]}]
    assert Reservation.objects.get(pk=research["id"]).status == "confirmed"
    assert Reservation.objects.count() == 1


# --- series -----------------------------------------------------------------------------


def series_payload(campus, day: date, start: str, end: str, rrule: str, **extra) -> dict:
    return {
        "equipment": campus.rheometer.pk,
        "project": campus.teaching.pk,
        "start": iso(day, start),
        "end": iso(day, end),
        "title": "TP rhéologie",
        "expected_participants": 12,
        "recurrence": {"rrule": rrule},
        **extra,
    }


def test_weekly_series_keeps_local_time_across_dst(client_for, campus):
    client = client_for(campus.teacher)
    payload = series_payload(
        campus, date(2027, 3, 16), "09:00", "11:00", "FREQ=WEEKLY;BYDAY=TU;COUNT=5"
    )
    response = client.post(URL, payload, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) >= {"series", "reservations", "skipped", "displaced"}
    assert body["series"] is not None
    assert body["session"] is None
    assert body["skipped"] == []
    assert body["displaced"] == []
    reservations = body["reservations"]
    assert len(reservations) == 5
    days = [instant(r["start"]).astimezone(PARIS).date() for r in reservations]
    assert days == [date(2027, 3, 16) + timedelta(weeks=n) for n in range(5)]
    for r in reservations:
        assert set(r) == RESERVATION_FIELDS
        assert r["series"] == body["series"]
        assert r["status"] == "confirmed"
        assert r["priority"] == "pedagogical"
        local_start = instant(r["start"]).astimezone(PARIS)
        local_end = instant(r["end"]).astimezone(PARIS)
        assert (local_start.hour, local_start.minute) == (9, 0), r["start"]
        assert (local_end.hour, local_end.minute) == (11, 0), r["end"]
        assert r["start"][11:13] == "09"
    # Before and after the change on 2027-03-28.
    assert reservations[1]["start"] == "2027-03-23T09:00:00+01:00"
    assert reservations[2]["start"] == "2027-03-30T09:00:00+02:00"
    assert Reservation.objects.filter(series_id=body["series"]).count() == 5


def test_series_with_a_conflicting_occurrence_is_refused_whole(client_for, campus):
    client = client_for(campus.teacher)
    existing = booked(
        book(client, campus.rheometer, campus.teaching, date(2027, 3, 30), "10:00", "12:00")
    )
    payload = series_payload(
        campus, date(2027, 3, 16), "09:00", "11:00", "FREQ=WEEKLY;BYDAY=TU;COUNT=5"
    )
    body = assert_refused(client.post(URL, payload, format="json"), "conflict", 409)
    assert body["occurrences"] == [
        {
            "start": "2027-03-30T09:00:00+02:00",
            "end": "2027-03-30T11:00:00+02:00",
            "code": "conflict",
        }
    ]
    assert {"start": existing["start"], "end": existing["end"]} in body["conflicts"]
    # Alternatives for the conflicting occurrence: free two-hour slots of the rheometer.
    assert 1 <= len(body["alternatives"]) <= 5
    taken = (instant(existing["start"]), instant(existing["end"]))
    for alternative in body["alternatives"]:
        assert alternative["equipment"] == campus.rheometer.pk
        start, end = instant(alternative["start"]), instant(alternative["end"])
        assert end - start == timedelta(hours=2)
        assert not (start < taken[1] and taken[0] < end), alternative
    assert Reservation.objects.count() == 1
    assert not Series.objects.exists()

    skipping = client.post(URL, {**payload, "skip_conflicts": True}, format="json")
    assert skipping.status_code == 201, skipping.json()
    result = skipping.json()
    assert len(result["reservations"]) == 4
    assert len(result["skipped"]) == 1
    skipped = result["skipped"][0]
    assert skipped["code"] == "conflict"
    assert instant(skipped["start"]) == at(date(2027, 3, 30), "09:00")
    assert instant(skipped["end"]) == at(date(2027, 3, 30), "11:00")
    assert Reservation.objects.count() == 5


def test_series_breaking_another_rule_is_refused_with_400(client_for, campus):
    # Research books 60 days ahead at most: the later occurrences break the horizon.
    client = client_for(campus.researcher)
    payload = {
        **series_payload(campus, WED, "10:00", "12:00", "FREQ=WEEKLY;BYDAY=WE;COUNT=10"),
        "project": campus.research.pk,
    }
    body = assert_refused(client.post(URL, payload, format="json"), "beyond_horizon")
    failing = [instant(o["start"]).date() for o in body["occurrences"]]
    assert failing == [date(2027, 1, 27), date(2027, 2, 3)]
    assert {o["code"] for o in body["occurrences"]} == {"beyond_horizon"}
    assert not Reservation.objects.exists()
    assert not Series.objects.exists()


def test_series_skips_public_holidays(client_for, campus):
    client = client_for(campus.teacher)
    # Monday 2027-05-17 is Pentecost Monday.
    payload = series_payload(
        campus, date(2027, 5, 10), "09:00", "11:00", "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
    )
    body = booked(client.post(URL, payload, format="json"))
    days = [instant(r["start"]).astimezone(PARIS).date() for r in body["reservations"]]
    assert days == [date(2027, 5, 10), date(2027, 5, 24)]
    assert len(body["skipped"]) == 1
    assert body["skipped"][0]["code"] == "closed"
    assert instant(body["skipped"][0]["start"]) == at(date(2027, 5, 17), "09:00")


def test_series_skips_school_holidays_when_asked(client_for, campus):
    client = client_for(campus.teacher)
    # Zone B winter holidays 2027: 20 February to 7 March.
    payload = series_payload(
        campus, date(2027, 2, 16), "09:00", "11:00", "FREQ=WEEKLY;BYDAY=TU;COUNT=4"
    )
    payload["recurrence"]["skip_school_holidays"] = True
    body = booked(client.post(URL, payload, format="json"))
    days = [instant(r["start"]).astimezone(PARIS).date() for r in body["reservations"]]
    assert days == [date(2027, 2, 16), date(2027, 3, 9)]
    assert [s["code"] for s in body["skipped"]] == ["school_holiday", "school_holiday"]


def february_class(campus, **recurrence) -> dict:
    """A Tuesday class from 16 February 2027 for 4 weeks: the zone B winter holidays
    (20 February to 7 March) hold the 2nd and the 3rd."""
    payload = series_payload(
        campus, date(2027, 2, 16), "09:00", "11:00", "FREQ=WEEKLY;BYDAY=TU;COUNT=4"
    )
    payload["recurrence"].update(recurrence)
    return payload


def series_days(body: dict) -> list[date]:
    return [instant(r["start"]).astimezone(PARIS).date() for r in body["reservations"]]


def test_class_series_skips_school_holidays_by_default(client_for, campus):
    """No flag: a pedagogical project's series skips the holidays, each listed with why."""
    body = booked(client_for(campus.teacher).post(URL, february_class(campus), format="json"))
    assert series_days(body) == [date(2027, 2, 16), date(2027, 3, 9)]
    assert [(instant(s["start"]).astimezone(PARIS).date(), s["code"]) for s in body["skipped"]] == [
        (date(2027, 2, 23), "school_holiday"),
        (date(2027, 3, 2), "school_holiday"),
    ]
    assert Series.objects.get().skip_school_holidays is True
    # A null flag is the default too.
    Reservation.objects.all().delete()
    payload = february_class(campus, skip_school_holidays=None)
    body = booked(client_for(campus.teacher).post(URL, payload, format="json"))
    assert series_days(body) == [date(2027, 2, 16), date(2027, 3, 9)]


def test_class_series_keeps_school_holidays_when_told(client_for, campus):
    payload = february_class(campus, skip_school_holidays=False)
    body = booked(client_for(campus.teacher).post(URL, payload, format="json"))
    assert len(series_days(body)) == 4 and body["skipped"] == []
    assert Series.objects.get().skip_school_holidays is False


def test_research_series_keeps_school_holidays_by_default(client_for, campus, monkeypatch):
    # Inside research's horizon.
    monkeypatch.setattr(
        "reservations.api.booking.timezone.now", lambda: datetime(2027, 2, 12, 8, tzinfo=PARIS)
    )
    payload = february_class(campus)
    payload["project"] = campus.research.pk
    body = booked(client_for(campus.researcher).post(URL, payload, format="json"))
    assert len(series_days(body)) == 4 and body["skipped"] == []
    assert Series.objects.get().skip_school_holidays is False


def test_class_series_beyond_the_published_school_calendar_is_refused(
    client_for, campus, monkeypatch
):
    """The calendar is published up to 31 August 2028: a class from June 2028 into the
    autumn would skip the summer and book the unknown autumn holidays, so it is refused
    by default (not just skipped where known); keeping the holidays books it."""
    monkeypatch.setattr(
        "reservations.api.booking.timezone.now", lambda: datetime(2028, 5, 29, 8, tzinfo=PARIS)
    )
    client = client_for(campus.teacher)
    payload = series_payload(
        campus, date(2028, 6, 6), "09:00", "11:00", "FREQ=WEEKLY;BYDAY=TU;UNTIL=20281031"
    )
    body = assert_refused(client.post(URL, payload, format="json"), "school_calendar_unknown")
    assert body["known_until"] == "2028-08-31"
    assert "recurrence.skip_school_holidays" in body["fields"]
    assert not Reservation.objects.exists() and not Series.objects.exists()
    payload["recurrence"]["skip_school_holidays"] = True
    assert_refused(client.post(URL, payload, format="json"), "school_calendar_unknown")
    # Ending by the last known day is fine: the summer holidays are skipped.
    payload["recurrence"]["rrule"] = "FREQ=WEEKLY;BYDAY=TU;UNTIL=20280831"
    payload["recurrence"].pop("skip_school_holidays")
    body = booked(client.post(URL, payload, format="json"))
    assert all(d < date(2028, 7, 4) for d in series_days(body))
    # The summer holidays from 4 July (15 August, a public holiday, is closed anyway).
    assert [s["code"] for s in body["skipped"]].count("school_holiday") == 8
    Reservation.objects.all().delete()
    payload["recurrence"]["rrule"] = "FREQ=WEEKLY;BYDAY=TU;UNTIL=20281031"
    payload["recurrence"]["skip_school_holidays"] = False
    assert len(series_days(booked(client.post(URL, payload, format="json")))) == 21  # not 15 Aug


def test_the_schema_documents_the_school_holidays_default(client_for, campus):
    schema = client_for(campus.researcher).get("/api/schema/", {"format": "json"}).json()
    field = schema["components"]["schemas"]["RecurrenceInputRequest"]["properties"]
    text = field["skip_school_holidays"]["description"]
    assert "pedagogical" in text and "school_calendar_unknown" in text
    assert field["skip_school_holidays"].get("nullable") is True


@pytest.mark.parametrize(
    "rrule", ["FREQ=DAILY;COUNT=201", "FREQ=DAILY;UNTIL=20271231"], ids=["count", "until"]
)
def test_series_of_more_than_200_occurrences_is_refused(client_for, campus, rrule):
    client = client_for(campus.teacher)
    payload = series_payload(campus, date(2027, 1, 4), "09:00", "11:00", rrule)
    body = assert_refused(client.post(URL, payload, format="json"), "invalid")
    assert "recurrence.rrule" in body["fields"]
    assert not Reservation.objects.exists()
    assert not Series.objects.exists()


def test_series_with_a_malformed_rrule_is_refused(client_for, campus):
    client = client_for(campus.teacher)
    payload = series_payload(campus, date(2027, 1, 5), "09:00", "11:00", "FREQ=MONTHLY;COUNT=3")
    assert_refused(client.post(URL, payload, format="json"), "invalid")


# --- sessions ---------------------------------------------------------------------------


def session_payload(campus, project, day: date, start: str, end: str) -> dict:
    return {
        "equipment_ids": [campus.hplc.pk, campus.rheometer.pk],
        "project": project.pk,
        "start": iso(day, start),
        "end": iso(day, end),
        "title": "Formulation et contrôle",
    }


def test_session_books_several_equipment_together(client_for, campus):
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    client = client_for(campus.researcher)
    response = client.post(
        URL, session_payload(campus, campus.research, WED, "10:00", "12:00"), format="json"
    )
    body = booked(response)
    assert body["session"] is not None
    assert body["series"] is None
    assert body["skipped"] == []
    assert body["displaced"] == []
    assert len(body["reservations"]) == 2
    assert {r["equipment"] for r in body["reservations"]} == {campus.hplc.pk, campus.rheometer.pk}
    for r in body["reservations"]:
        assert r["session"] == body["session"]
        assert r["start"] == "2026-12-02T10:00:00+01:00"
        assert r["status"] == "confirmed"


def test_session_is_all_or_nothing(client_for, campus):
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    client = client_for(campus.researcher)
    taken = booked(book(client, campus.rheometer, campus.open_research, WED, "11:00", "12:00"))
    response = client.post(
        URL, session_payload(campus, campus.research, WED, "10:00", "12:00"), format="json"
    )
    body = assert_refused(response, "conflict", 409)
    assert body["occurrences"] == [
        {
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T12:00:00+01:00",
            "code": "conflict",
            "equipment": campus.rheometer.pk,
        }
    ]
    assert 1 <= len(body["alternatives"]) <= 5
    for alternative in body["alternatives"]:
        assert alternative["equipment"] == campus.rheometer.pk
        start = instant(alternative["start"])
        assert instant(alternative["end"]) - start == timedelta(hours=2)
        assert not (
            start < instant(taken["end"]) and instant(taken["start"]) < start + timedelta(hours=2)
        )
    assert Reservation.objects.count() == 1
    assert Reservation.objects.get().pk == taken["id"]
    assert not Reservation.objects.filter(equipment=campus.hplc).exists()
    assert not Session.objects.exists()


def test_session_refused_for_another_rule_answers_400(client_for, campus):
    # Not qualified on the HPLC: the whole session is refused, nothing written.
    client = client_for(campus.researcher)
    response = client.post(
        URL, session_payload(campus, campus.research, WED, "10:00", "12:00"), format="json"
    )
    body = assert_refused(response, "not_qualified")
    assert [o["equipment"] for o in body["occurrences"]] == [campus.hplc.pk]
    assert not Reservation.objects.exists()
    assert not Session.objects.exists()


# --- cancel -----------------------------------------------------------------------------


def test_cancel_this_on_a_single_reservation(client_for, campus):
    client = client_for(campus.researcher)
    body = booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    response = client.post(f"{URL}{body['id']}/cancel/", {"reason": "Plus besoin"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "cancelled"
    assert response.json()["cancelled"] == [body["id"]]
    assert response.json()["revision"] == 1
    assert Reservation.objects.get(pk=body["id"]).status == "cancelled"
    # The slot is free again.
    booked(book(client, campus.rheometer, campus.open_research, WED, "10:00", "12:00"))
    # Cancelling twice is refused.
    assert_refused(client.post(f"{URL}{body['id']}/cancel/", {}, format="json"), "not_live")


def test_cancel_following_then_series(client_for, campus):
    client = client_for(campus.teacher)
    payload = series_payload(
        campus, date(2027, 1, 5), "09:00", "11:00", "FREQ=WEEKLY;BYDAY=TU;COUNT=5"
    )
    body = booked(client.post(URL, payload, format="json"))
    ids = [r["id"] for r in sorted(body["reservations"], key=lambda r: r["start"])]
    assert len(ids) == 5

    following = client.post(f"{URL}{ids[2]}/cancel/", {"scope": "following"}, format="json")
    assert following.status_code == 200, following.json()
    assert sorted(following.json()["cancelled"]) == sorted(ids[2:])
    statuses = dict(Reservation.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["confirmed"] * 2 + ["cancelled"] * 3

    whole = client.post(f"{URL}{ids[0]}/cancel/", {"scope": "series"}, format="json")
    assert whole.status_code == 200, whole.json()
    assert sorted(whole.json()["cancelled"]) == sorted(ids[:2])
    assert set(Reservation.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        "cancelled"
    }


def test_cancel_this_on_a_series_occurrence(client_for, campus):
    client = client_for(campus.teacher)
    payload = series_payload(
        campus, date(2027, 1, 5), "09:00", "11:00", "FREQ=WEEKLY;BYDAY=TU;COUNT=3"
    )
    body = booked(client.post(URL, payload, format="json"))
    ids = [r["id"] for r in sorted(body["reservations"], key=lambda r: r["start"])]
    response = client.post(f"{URL}{ids[1]}/cancel/", {"scope": "this"}, format="json")
    assert response.json()["cancelled"] == [ids[1]]
    statuses = dict(Reservation.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["confirmed", "cancelled", "confirmed"]


def test_cancel_this_on_a_session_member_cancels_that_equipment_only(client_for, campus):
    """The API's `scope=this` is one reservation (one equipment); the pages cancel the date
    on every equipment of the session (reservation_cancel's whole_session)."""
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    client = client_for(campus.researcher)
    payload = {
        "equipment_ids": [campus.rheometer.pk, campus.hplc.pk],
        "project": campus.research.pk,
        "start": iso(WED, "10:00"),
        "end": iso(WED, "12:00"),
        "title": "Mesures",
    }
    ids = sorted(r["id"] for r in booked(client.post(URL, payload, format="json"))["reservations"])
    response = client.post(f"{URL}{ids[0]}/cancel/", {"scope": "this"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["cancelled"] == [ids[0]]
    statuses = dict(Reservation.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert [statuses[pk] for pk in ids] == ["cancelled", "confirmed"]


def test_cancel_with_an_unknown_scope_is_invalid(client_for, campus):
    client = client_for(campus.researcher)
    body = booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    response = client.post(f"{URL}{body['id']}/cancel/", {"scope": "all"}, format="json")
    assert "scope" in assert_refused(response, "invalid")["fields"]
    assert Reservation.objects.get(pk=body["id"]).status == "confirmed"


# --- move -------------------------------------------------------------------------------


def test_move_to_a_free_slot_and_onto_another_booking(client_for, campus):
    client = client_for(campus.researcher)
    mine = booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    other = booked(book(client, campus.rheometer, campus.open_research, WED, "16:00", "17:00"))
    url = f"{URL}{mine['id']}/"

    moved = client.patch(url, {"start": iso(WED, "14:00"), "end": iso(WED, "16:00")}, format="json")
    assert moved.status_code == 200, moved.json()
    assert moved.json()["start"] == "2026-12-02T14:00:00+01:00"
    assert moved.json()["end"] == "2026-12-02T16:00:00+01:00"
    assert moved.json()["revision"] == mine["revision"] + 1 == 1

    clash = client.patch(url, {"start": iso(WED, "15:00"), "end": iso(WED, "17:00")}, format="json")
    body = assert_refused(clash, "conflict", 409)
    assert body["conflicts"] == [{"start": other["start"], "end": other["end"]}]
    row = Reservation.objects.get(pk=mine["id"])
    assert (row.start, row.end, row.revision) == (at(WED, "14:00"), at(WED, "16:00"), 1)

    # Every rule applies again.
    assert_refused(
        client.patch(url, {"end": iso(WED, "20:00")}, format="json"), "outside_opening_hours"
    )
    # Resizing only the end keeps the start.
    resized = client.patch(url, {"end": iso(WED, "15:00")}, format="json")
    assert resized.status_code == 200, resized.json()
    assert resized.json()["start"] == "2026-12-02T14:00:00+01:00"
    assert resized.json()["revision"] == 2


def test_move_by_someone_who_cannot_see_it_is_404(client_for, campus):
    mine = booked(
        book(
            client_for(campus.researcher), campus.rheometer, campus.research, WED, "10:00", "12:00"
        )
    )
    response = client_for(campus.outsider).patch(
        f"{URL}{mine['id']}/", {"start": iso(WED, "14:00"), "end": iso(WED, "16:00")}, format="json"
    )
    assert response.status_code == 404
    assert Reservation.objects.get(pk=mine["id"]).start == at(WED, "10:00")


# --- visibility -------------------------------------------------------------------------


def test_other_partners_see_a_research_reservation_only_as_busy_time(client_for, campus):
    research = booked(
        book(
            client_for(campus.researcher), campus.rheometer, campus.research, WED, "10:00", "12:00"
        )
    )
    for user in (campus.industrial, campus.outsider):
        client = client_for(user)
        response = detail(client, research["id"])
        assert response.status_code == 404, user
        assert response.json()["code"] == "not_found"
        assert research["id"] not in list_ids(client)

        availability = client.get(
            f"/api/v1/equipment/{campus.rheometer.pk}/availability/",
            {"start": iso(WED, "00:00"), "end": iso(WED + timedelta(1), "00:00")},
        )
        assert availability.status_code == 200, availability.json()
        data = availability.json()
        assert data["busy"] == [
            {
                "start": "2026-12-02T10:00:00+01:00",
                "end": "2026-12-02T12:00:00+01:00",
                "kind": "reservation",
                "priority": "research",
            }
        ]
        assert data["free"] == [
            {"start": "2026-12-02T08:00:00+01:00", "end": "2026-12-02T10:00:00+01:00"},
            {"start": "2026-12-02T12:00:00+01:00", "end": "2026-12-02T19:00:00+01:00"},
        ]
        assert "Mesures" not in availability.content.decode()


def test_partner_referent_sees_the_research_reservation(client_for, campus):
    research = booked(
        book(
            client_for(campus.researcher), campus.rheometer, campus.research, WED, "10:00", "12:00"
        )
    )
    client = client_for(campus.referent)
    response = detail(client, research["id"])
    assert response.status_code == 200
    assert response.json()["title"] == "Mesures"
    assert response.json()["project"] == campus.research.pk
    assert research["id"] in list_ids(client)
    assert research["id"] in list_ids(client, f"?partner={campus.orleans.pk}")


def test_list_filters(client_for, campus):
    researcher = client_for(campus.researcher)
    a = booked(book(researcher, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    b = booked(
        book(
            researcher, campus.rheometer, campus.open_research, WED + timedelta(1), "10:00", "12:00"
        )
    )
    researcher.post(f"{URL}{b['id']}/cancel/", {}, format="json")
    assert list_ids(researcher) == {a["id"], b["id"]}
    assert list_ids(researcher, f"?project={campus.research.pk}") == {a["id"]}
    assert list_ids(researcher, "?status=cancelled") == {b["id"]}
    assert list_ids(researcher, "?user=me") == {a["id"], b["id"]}
    end_of_wed = iso(WED + timedelta(1), "00:00").replace("+", "%2B")
    assert list_ids(researcher, f"?end={end_of_wed}") == {a["id"]}
    assert_refused(researcher.get(URL + "?status=lost"), "invalid")
    assert_refused(researcher.get(URL + "?equipment=abc"), "bad_filter")


# --- query count ------------------------------------------------------------------------


def add_reservations(campus, n: int, offset: int = 0) -> None:
    for i in range(offset, offset + n):
        start = at(WED, "08:00") + timedelta(minutes=30 * i)
        reservation_create(
            user=campus.researcher,
            project=campus.research if i % 2 else campus.open_research,
            equipment=[campus.rheometer],
            start=start,
            end=start + timedelta(minutes=30),
            title=f"Mesure {i}",
            now=NOW,
        )


def count_list_queries(client, expected: int) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["count"] == expected
    assert len(response.json()["results"]) == expected
    return len(captured.captured_queries)


def test_list_costs_the_same_number_of_queries_for_3_or_20(client_for, campus):
    client = client_for(campus.researcher)
    client.get(URL)  # warm up: token lookup caches, content types
    add_reservations(campus, 3)
    few = count_list_queries(client, 3)
    add_reservations(campus, 17, offset=3)
    many = count_list_queries(client, 20)
    assert few == many


# --- more rules: buffers, overrides, priorities ------------------------------------------


def test_buffer_after_a_reservation_blocks_the_next_slot(client_for, campus):
    equipment_update(actor=SYSTEM, equipment=campus.rheometer, policy={"buffer_minutes": 15})
    client = client_for(campus.researcher)
    first = booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    body = assert_refused(
        book(client, campus.rheometer, campus.open_research, WED, "12:00", "13:00"), "conflict", 409
    )
    assert body["conflicts"] == [{"start": first["start"], "end": first["end"]}]
    # The new booking's own buffer may not run into the next one either.
    assert_refused(
        book(client, campus.rheometer, campus.open_research, WED, "09:00", "10:00"), "conflict", 409
    )
    booked(book(client, campus.rheometer, campus.open_research, WED, "12:15", "13:00"))
    data = client.get(
        f"/api/v1/equipment/{campus.rheometer.pk}/availability/",
        {"start": iso(WED, "00:00"), "end": iso(WED + timedelta(1), "00:00")},
    ).json()
    assert {
        "start": "2026-12-02T12:00:00+01:00",
        "end": "2026-12-02T12:15:00+01:00",
        "kind": "buffer",
    } in data["busy"]


def test_manager_override_is_explicit_and_recorded(client_for, campus):
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    # Not a manager of the HPLC: override is refused.
    refused = book(
        client_for(campus.researcher),
        campus.hplc,
        campus.research,
        WED,
        "18:00",
        "20:00",
        override=True,
    )
    assert_refused(refused, "permission_denied", 403)
    manager = client_for(campus.eq_manager)
    assert_refused(
        book(manager, campus.hplc, campus.open_research, WED, "18:00", "20:00"),
        "outside_opening_hours",
    )
    body = booked(
        book(manager, campus.hplc, campus.open_research, WED, "18:00", "20:00", override=True)
    )
    audit = Reservation.objects.get(pk=body["id"]).audit.get(action="create")
    assert "outside_opening_hours" in audit.overridden
    # Never an overlap, even with override.
    assert_refused(
        book(manager, campus.hplc, campus.open_research, WED, "19:00", "20:00", override=True),
        "conflict",
        409,
    )


def test_teaching_booking_displaces_a_pending_industrial_request(client_for, campus):
    qualification_grant(
        actor=SYSTEM, user=campus.industrial, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    qualification_grant(
        actor=SYSTEM, user=campus.teacher, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    day = date(2026, 12, 16)  # 23 days ahead: inside the industrial horizon, beyond the notice
    pending = booked(
        book(client_for(campus.industrial), campus.hplc, campus.confidential, day, "10:00", "12:00")
    )
    assert pending["status"] == "pending"
    body = booked(
        book(client_for(campus.teacher), campus.hplc, campus.teaching, day, "10:00", "12:00")
    )
    assert [d["id"] for d in body["displaced"]] == [pending["id"]]
    assert Reservation.objects.get(pk=pending["id"]).status == "displaced"


def test_teaching_booking_over_research_and_teaching_is_a_plain_conflict(client_for, campus):
    day = date(2026, 12, 23)
    teacher = client_for(campus.teacher)
    booked(book(teacher, campus.rheometer, campus.teaching, day, "11:00", "12:00"))
    research = booked(
        book(
            client_for(campus.researcher), campus.rheometer, campus.research, day, "10:00", "11:00"
        )
    )
    body = assert_refused(
        book(teacher, campus.rheometer, campus.teaching, day, "10:00", "12:00"), "conflict", 409
    )
    assert len(body["conflicts"]) == 2
    assert Reservation.objects.get(pk=research["id"]).status == "confirmed"


def test_teaching_windows_do_not_apply_in_school_holidays(client_for, campus):
    equipment_update(
        actor=SYSTEM,
        equipment=campus.rheometer,
        policy={"teaching_windows": [{"weekday": "tue", "start": "08:00", "end": "12:00"}]},
    )
    holiday_tuesday = date(2026, 12, 22)  # zone B Christmas holidays, 29 days ahead
    booked(
        book(
            client_for(campus.researcher),
            campus.rheometer,
            campus.research,
            holiday_tuesday,
            "09:00",
            "10:00",
        )
    )


def test_moving_within_the_week_does_not_count_twice_in_the_quota(client_for, campus):
    equipment_update(
        actor=SYSTEM, equipment=campus.rheometer, policy={"weekly_quota_hours": {"research": 2}}
    )
    client = client_for(campus.researcher)
    mine = booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    moved = client.patch(
        f"{URL}{mine['id']}/",
        {"start": iso(WED + timedelta(1), "10:00"), "end": iso(WED + timedelta(1), "12:00")},
        format="json",
    )
    assert moved.status_code == 200, moved.json()
    longer = client.patch(
        f"{URL}{mine['id']}/", {"end": iso(WED + timedelta(1), "12:30")}, format="json"
    )
    assert_refused(longer, "quota_exceeded")


# --- alternatives -----------------------------------------------------------------------


def test_alternatives_offer_free_equipment_of_the_same_category_and_site(client_for, campus):
    from equipment.services import equipment_create

    twin = equipment_create(
        actor=SYSTEM,
        code="TO-RHEO-02",
        name="Rhéomètre 2",
        category=campus.rheo,
        site=campus.other_site,
    )
    client = client_for(campus.researcher)
    booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    body = assert_refused(
        book(client, campus.rheometer, campus.open_research, WED, "10:00", "12:00"), "conflict", 409
    )
    assert {"equipment": twin.pk, "start": iso(WED, "10:00"), "end": iso(WED, "12:00")} in body[
        "alternatives"
    ]
    assert len(body["alternatives"]) <= 5


def test_alternatives_do_not_offer_equipment_closed_at_that_time(client_for, campus):
    from equipment.services import equipment_create

    twin = equipment_create(
        actor=SYSTEM,
        code="TO-RHEO-02",
        name="Rhéomètre 2",
        category=campus.rheo,
        site=campus.other_site,
    )
    Closure.objects.create(
        equipment=twin, start=at(WED, "00:00"), end=at(WED + timedelta(1), "00:00"), reason="Panne"
    )
    client = client_for(campus.researcher)
    booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    body = assert_refused(
        book(client, campus.rheometer, campus.open_research, WED, "10:00", "12:00"), "conflict", 409
    )
    # Every suggestion must be bookable; the twin is closed all day.
    assert twin.pk not in {a["equipment"] for a in body["alternatives"]}, body["alternatives"]


def test_every_suggested_alternative_can_be_booked_by_the_requester(client_for, campus):
    # The only free time left that Tuesday is 08:00-10:00, kept for teaching.
    equipment_update(
        actor=SYSTEM,
        equipment=campus.rheometer,
        policy={"teaching_windows": [{"weekday": "tue", "start": "08:00", "end": "10:00"}]},
    )
    tuesday = date(2026, 12, 15)
    client = client_for(campus.researcher)
    booked(book(client, campus.rheometer, campus.research, tuesday, "10:00", "18:00"))
    body = assert_refused(
        book(client, campus.rheometer, campus.open_research, tuesday, "12:00", "14:00"),
        "conflict",
        409,
    )
    assert body["alternatives"]
    refused = []
    for alternative in body["alternatives"]:
        response = client.post(
            URL,
            {
                "equipment": alternative["equipment"],
                "project": campus.open_research.pk,
                "start": alternative["start"],
                "end": alternative["end"],
                "title": "Suggéré",
            },
            format="json",
        )
        if response.status_code == 201:
            client.post(f"{URL}{response.json()['id']}/cancel/", {}, format="json")
        else:
            refused.append((alternative["start"], response.json()["code"]))
    assert refused == []


# --- notifications of displacement ------------------------------------------------------


def test_displaced_owner_is_notified_with_alternatives(
    client_for, campus, mailoutbox, django_capture_on_commit_callbacks
):
    from reservations.alternatives import suggest_alternatives

    campus.researcher.email = "chercheur@example.org"
    campus.researcher.save(update_fields=["email"])
    day = date(2026, 12, 23)
    booked(
        book(
            client_for(campus.researcher), campus.rheometer, campus.research, day, "10:00", "12:00"
        )
    )
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        booked(
            book(
                client_for(campus.teacher), campus.rheometer, campus.teaching, day, "09:00", "11:00"
            )
        )
    to_researcher = [m for m in mailoutbox if m.to == ["chercheur@example.org"]]
    assert len(to_researcher) == 1
    message = to_researcher[0]
    assert "10:00" in message.body
    # SPEC §3: "their owners are notified with alternatives". Free slots once the
    # teaching booking is written (the notification leaves after the commit):
    alternatives = suggest_alternatives(
        equipment=campus.rheometer,
        start=at(day, "10:00"),
        end=at(day, "12:00"),
        now=NOW,
        user=campus.researcher,
        project=campus.research,
    )
    offered = {a["start"].astimezone(PARIS).strftime("%H:%M") for a in alternatives}
    assert offered - {"10:00", "12:00"}
    assert any(t in message.body for t in offered - {"10:00", "12:00"}), message.body


# --- instants of the other endpoints ----------------------------------------------------


def test_series_skipped_instants_are_local_like_the_rest_of_the_api(client_for, campus):
    client = client_for(campus.teacher)
    payload = series_payload(
        campus, date(2027, 5, 10), "09:00", "11:00", "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
    )
    body = booked(client.post(URL, payload, format="json"))
    assert body["skipped"][0]["start"] == "2027-05-17T09:00:00+02:00", body["skipped"]


@pytest.mark.parametrize("where", ["list", "availability", "patch"])
def test_impossible_date_in_other_endpoints_is_a_400(client_for, campus, where):
    client = client_for(campus.researcher)
    mine = booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    client.raise_request_exception = False
    bad = "2027-02-30T10:00:00+01:00"
    if where == "list":
        response = client.get(URL, {"start": bad})
    elif where == "availability":
        response = client.get(
            f"/api/v1/equipment/{campus.rheometer.pk}/availability/",
            {"start": bad, "end": "2027-03-02T10:00:00+01:00"},
        )
    else:
        response = client.patch(f"{URL}{mine['id']}/", {"start": bad}, format="json")
    assert response.status_code == 400, response.status_code
    assert response.json()["code"] == "invalid"


def test_series_cannot_skip_school_holidays_of_unknown_years(client_for, campus, monkeypatch):
    """The package knows zone B up to August 2028: skipping the holidays of 2029 is refused
    clearly, naming the last known day."""
    monkeypatch.setattr(
        "reservations.api.booking.timezone.now", lambda: datetime(2028, 12, 4, 8, tzinfo=PARIS)
    )
    client = client_for(campus.teacher)
    payload = series_payload(
        campus, date(2029, 1, 9), "09:00", "11:00", "FREQ=WEEKLY;BYDAY=TU;COUNT=4"
    )
    payload["recurrence"]["skip_school_holidays"] = True
    body = assert_refused(client.post(URL, payload, format="json"), "school_calendar_unknown")
    assert body["known_until"] == "2028-08-31"
    assert "2028" in body["detail"]
    assert "recurrence.skip_school_holidays" in body["fields"]
    assert not Reservation.objects.exists()
    # Without skipping, the same series is booked.
    payload["recurrence"]["skip_school_holidays"] = False
    assert len(booked(client.post(URL, payload, format="json"))["reservations"]) == 4


def test_rejecting_needs_a_reason_on_every_path(client_for, campus):
    """The service asks for it: the API refuses a bare reject as the pages do."""
    qualification_grant(
        actor=SYSTEM, user=campus.industrial, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    industrial, manager = client_for(campus.industrial), client_for(campus.eq_manager)
    pending = booked(book(industrial, campus.hplc, campus.confidential, WED, "14:00", "16:00"))
    body = assert_refused(
        manager.post(f"{URL}{pending['id']}/reject/", {"reason": "  "}, format="json"),
        "required",
    )
    assert "reason" in body["fields"]
    assert Reservation.objects.get(pk=pending["id"]).status == "pending"


def test_cancelling_a_series_costs_the_same_queries_whatever_its_length(
    client_for, campus, django_capture_on_commit_callbacks
):
    """Emails and calendars after the commit read the rows once, not one by one."""
    from django.core import mail
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    campus.teacher.email = "enseignant@example.org"
    campus.teacher.save()
    client = client_for(campus.teacher)

    def cancel_series(day: date, count: int) -> list[str]:
        rrule = f"FREQ=WEEKLY;BYDAY=TU;COUNT={count}"
        payload = series_payload(campus, day, "09:00", "11:00", rrule)
        payload["recurrence"]["skip_school_holidays"] = False  # every week, holidays too
        body = booked(client.post(URL, payload, format="json"))
        first = min(body["reservations"], key=lambda r: r["start"])["id"]
        mail.outbox.clear()
        with (
            CaptureQueriesContext(connection) as ctx,
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = client.post(f"{URL}{first}/cancel/", {"scope": "series"}, format="json")
        assert response.status_code == 200
        assert len(mail.outbox) == 1 and len(mail.outbox[0].attachments) == count
        return [q["sql"] for q in ctx.captured_queries]

    cancel_series(date(2027, 1, 4), 2)  # warms the caches (content types)
    three = cancel_series(date(2027, 1, 5), 3)
    twelve = cancel_series(date(2027, 1, 6), 12)
    assert len(three) == len(twelve), "\n".join(twelve)


def test_quota_counts_the_partners_own_hours_including_used_ones(client_for, campus, make_user):
    """Another partner's hours never count; completed and no-show hours of the week do."""
    from partners.services import project_create

    equipment_update(
        actor=SYSTEM, equipment=campus.rheometer, policy={"weekly_quota_hours": {"research": 2}}
    )
    other = make_user("doctorante")
    lycee_research = project_create(
        actor=SYSTEM,
        name="Recherche lycée",
        kind="research",
        partner=campus.lycee,
        leader=other,
        active_from=date(2026, 1, 1),
    )
    booked(book(client_for(other), campus.rheometer, lycee_research, WED, "08:00", "10:00"))
    client = client_for(campus.researcher)
    mine = booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    # Used hours stay in the week's quota: a completed (or no-show) booking still counts.
    for status in ("completed", "no_show"):
        Reservation.objects.filter(pk=mine["id"]).update(status=status)
        assert_refused(
            book(
                client, campus.rheometer, campus.open_research, WED + timedelta(1), "10:00", "10:30"
            ),
            "quota_exceeded",
        )


def test_alternatives_on_other_equipment_are_bookable_ones(client_for, campus):
    """A twin shut on Wednesdays is not offered; an open twin is, and can be booked."""
    from equipment.services import equipment_create

    shut = equipment_create(
        actor=SYSTEM,
        code="TO-RHEO-02",
        name="Rhéomètre fermé le mercredi",
        category=campus.rheo,
        site=campus.other_site,
        policy={"opening_hours": {"wed": []}},
    )
    open_twin = equipment_create(
        actor=SYSTEM,
        code="TO-RHEO-03",
        name="Rhéomètre 3",
        category=campus.rheo,
        site=campus.other_site,
    )
    client = client_for(campus.researcher)
    booked(book(client, campus.rheometer, campus.research, WED, "10:00", "12:00"))
    body = assert_refused(
        book(client, campus.rheometer, campus.open_research, WED, "10:00", "12:00"), "conflict", 409
    )
    others = [a for a in body["alternatives"] if a["equipment"] != campus.rheometer.pk]
    assert [a["equipment"] for a in others] == [open_twin.pk], (shut.pk, others)
    assert booked(book(client, open_twin, campus.open_research, WED, "10:00", "12:00"))


def statement(sql: str) -> str:
    """A query as its verb and first table: `SELECT equipment_equipment`, `SAVEPOINT`."""
    verb = sql.split()[0].upper()
    table = re.search(r'(?:FROM|INTO)\s+"?(\w+)', sql)
    return f"{verb} {table.group(1)}" if table and verb in ("SELECT", "INSERT") else verb


def test_a_booking_costs_what_its_sql_costs(
    client_for, campus, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    """Token and user; the project; then in the transaction the equipment locked with the
    user's qualification, management and membership; the busy time and closures; the
    reservation, its audit entry and its outbox row. After the commit, two enqueues: the
    emails and the calendar mirror are the worker's."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 6, 1)
    )
    client = client_for(campus.researcher)
    booked(book(client, campus.rheometer, campus.research, WED, "08:00", "09:00"))  # warm up
    with (
        django_assert_num_queries(11) as captured,
        django_capture_on_commit_callbacks(execute=True),
    ):
        booked(book(client, campus.hplc, campus.research, WED, "10:00", "12:00"))
    # The test's own transaction turns the booking's into a savepoint.
    assert [statement(q["sql"]) for q in captured.captured_queries] == [
        "SELECT core_apitoken",
        "SELECT reservations_project",
        "SAVEPOINT",
        "SELECT equipment_qualification",  # the equipment, locked, with the user's facts
        "SELECT reservations_reservation",  # its busy time and closures
        "INSERT reservations_reservation",
        "INSERT core_auditentry",
        "INSERT notifications_notification",
        "RELEASE",
        "INSERT django_tasks_database_dbtaskresult",
        "INSERT django_tasks_database_dbtaskresult",
    ]
