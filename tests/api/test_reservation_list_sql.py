"""The reservation list's raw SQL (reservations.api.reads.reservation_list_sql) answers as
its queryset (ReservationViewSet.get_queryset): the same visibility for every kind of
reader (SPEC §6), the same filters, order, pages and counts, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from reservations.api.booking import ReservationViewSet
from reservations.models import ReservationStatus
from tests.conftest import reservation_row

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
URL = "/api/v1/reservations/"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def scene(campus, make_user):
    """Reservations of several projects, bookers, statuses and equipment, with buffers,
    around the first days of December; a member who is neither leader nor referent."""
    campus.member = make_user("membre")
    campus.open_research.members.add(campus.member)
    campus.nobody = make_user("personne")
    bookings = [
        # equipment, project, booker, start, minutes, buffer, status
        (campus.rheometer, campus.research, campus.researcher, at(1, 9), 60, 0, "confirmed"),
        (campus.rheometer, campus.teaching, campus.teacher, at(1, 10), 60, 30, "pending"),
        (campus.rheometer, campus.confidential, campus.industrial, at(1, 14), 90, 0, "confirmed"),
        (campus.rheometer, campus.open_research, campus.member, at(1, 23), 60, 60, "confirmed"),
        (campus.rheometer, campus.research, campus.researcher, at(2, 9), 60, 0, "cancelled"),
        (campus.rheometer, campus.research, campus.researcher, at(2, 9), 60, 0, "confirmed"),
        (campus.hplc, campus.confidential, campus.industrial, at(1, 9), 60, 0, "confirmed"),
        (campus.hplc, campus.teaching, campus.teacher, at(2, 8), 30, 0, "no_show"),
        (campus.hplc, campus.open_research, campus.researcher, at(2, 11), 120, 15, "pending"),
        (campus.hplc, campus.research, campus.researcher, at(3, 9), 60, 0, "completed"),
    ]
    for equipment, project, booker, start, minutes, buffer, status in bookings:
        end = start + timedelta(minutes=minutes)
        reservation_row(
            campus,
            start,
            minutes,
            equipment=equipment,
            project=project,
            booked_by=booker,
            blocked_until=end + timedelta(minutes=buffer),
            status=status,
            at=at(1, 0) + timedelta(minutes=7 * minutes + buffer),
        )
    return campus


def queries(campus):
    """Filters alone and together, windows of every shape."""
    window = {"start": at(1, 23, 30).isoformat(), "end": at(2, 10).isoformat()}
    return [
        {},
        {"equipment": campus.rheometer.pk},
        {"equipment": campus.hplc.pk, **window},
        {"project": campus.research.pk},
        {"partner": campus.orleans.pk},
        {"user": "me"},
        {"user": campus.researcher.pk},
        {"status": "confirmed,no_show"},
        window,
        {"start": at(2, 0).isoformat()},  # a buffer only reaching in: not listed
        {"end": at(1, 10).isoformat()},
        {"start": at(2, 9).isoformat(), "end": at(2, 9).isoformat()},  # empty
        {"start": "2026-12-01T23:30", "end": "2026-12-02T12:00", "status": "pending"},
        {"page_size": 2},
        {"page_size": 2, "page": 3},
        {"page_size": 3, "page": 2, "equipment": campus.rheometer.pk},
        {"equipment": 0},
        {"equipment": -3},
    ]


def test_the_raw_list_answers_as_the_queryset(scene, client_for, monkeypatch):
    readers = [
        scene.admin,
        scene.eq_manager,
        scene.teacher,
        scene.researcher,
        scene.industrial,
        scene.referent,
        scene.member,
        scene.nobody,
    ]
    raw, orm = [], []
    for user in readers:
        client = client_for(user)
        for query in queries(scene):
            raw.append((user.username, query, client.get(URL, query).json()))
    monkeypatch.setattr(ReservationViewSet, "list_sql", lambda self: None)
    for user in readers:
        client = client_for(user)
        for query in queries(scene):
            orm.append((user.username, query, client.get(URL, query).json()))
    assert raw == orm
    # The scene does show something different to each reader.
    everything = {name: answer["count"] for name, query, answer in orm if query == {}}
    assert everything["plateforme"] == 10 and everything["personne"] == 0
    assert len(set(everything.values())) >= 5


def test_the_list_costs_token_and_one_page(scene, client_for, django_assert_num_queries):
    """The no-show probe goes with the first page."""
    client = client_for(scene.referent)
    with django_assert_num_queries(2):
        answer = client.get(URL, {"equipment": scene.rheometer.pk}).json()
    assert answer["count"] == 4
    # A full page leaves the count unknown: one more query.
    with django_assert_num_queries(3):
        answer = client.get(URL, {"page_size": 1}).json()
    assert answer["count"] == 6 and len(answer["results"]) == 1


def test_ids_beyond_the_database_answer_as_the_queryset(scene, client_for, monkeypatch):
    """Within the database's ids the raw list answers; beyond, the queryset does."""
    client = client_for(scene.admin)
    values = ("9" * 18, "9" * 19, "9" * 30, "-" + "9" * 19)

    def answers():
        return [
            (response.status_code, response.json())
            for response in (client.get(URL, {"equipment": value}) for value in values)
        ]

    raw = answers()
    monkeypatch.setattr(ReservationViewSet, "list_sql", lambda self: None)
    assert raw == answers()
    assert raw[0] == (200, {"count": 0, "next": None, "previous": None, "results": []})


def test_bad_filters_answer_as_before(scene, client_for):
    client = client_for(scene.admin)
    assert client.get(URL, {"equipment": "x"}).json()["code"] == "bad_filter"
    assert client.get(URL, {"status": "lost"}).json()["code"] == "invalid"
    assert client.get(URL, {"start": "demain"}).status_code == 400
    assert ReservationStatus.CONFIRMED in {r["status"] for r in client.get(URL).json()["results"]}
