"""The waitlist's API: booking with `waitlist: true` (202), the entries, their visibility.

Time is frozen at Monday 2026-11-23 08:00 Europe/Paris.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from reservations.models import Reservation
from waitlist.models import EntryStatus, WaitlistEntry

from .helpers import NOW, book, far, join, thu

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/reservations/"
LIST = "/api/v1/waitlist/"
FIELDS = [
    "id",
    "equipment",
    "project",
    "booked_by",
    "start",
    "end",
    "title",
    "expected_participants",
    "status",
    "position",
    "reservation",
    "group",
    "created_at",
]


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def member(campus, make_user):
    user = make_user("doctorant")
    campus.research.members.add(user)
    return user


def payload(campus, start, end, **extra):
    return {
        "equipment": campus.rheometer.pk,
        "project": campus.research.pk,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "title": "Mesures",
        "waitlist": True,
        **extra,
    }


def test_conflict_with_waitlist_queues_and_answers_202(campus, member, client_for):
    book(campus.researcher, campus.research, campus.rheometer, thu(10), thu(12))
    response = client_for(member).post(BOOK, payload(campus, thu(11), thu(12)), format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert set(body) == {"waitlist", "conflicts", "alternatives"}
    entry = body["waitlist"]
    assert list(entry) == FIELDS
    assert entry["status"] == "waiting" and entry["position"] == 1
    assert entry["reservation"] is None and entry["booked_by"] == member.pk
    assert entry["start"] == "2026-11-26T11:00:00+01:00"
    assert body["conflicts"] == [
        {"start": "2026-11-26T10:00:00+01:00", "end": "2026-11-26T12:00:00+01:00"}
    ]
    assert body["alternatives"], "a free slot is suggested"
    assert Reservation.objects.count() == 1


def test_free_slot_with_waitlist_is_booked_201(campus, member, client_for):
    response = client_for(member).post(BOOK, payload(campus, thu(11), thu(12)), format="json")
    assert response.status_code == 201
    assert response.json()["status"] == "confirmed"
    assert not WaitlistEntry.objects.exists()


def test_post_to_the_waitlist_joins_as_booking_with_waitlist_true(campus, member, client_for):
    """POST /api/v1/waitlist/ (SPEC §7): the booking's body, `waitlist` implied."""
    book(campus.researcher, campus.research, campus.rheometer, thu(10), thu(12))
    client = client_for(member)
    taken = client.post(LIST, payload(campus, thu(11), thu(12), waitlist=False), format="json")
    assert taken.status_code == 202, taken.json()
    assert taken.json()["waitlist"]["status"] == "waiting"
    assert taken.json()["waitlist"]["position"] == 1
    free = client.post(LIST, payload(campus, thu(14), thu(15)), format="json")
    assert free.status_code == 201 and free.json()["status"] == "confirmed"
    refused = client.post(LIST, payload(campus, thu(14), thu(14, 10)), format="json")
    assert refused.status_code == 400 and refused.json()["code"] == "bad_granularity"
    assert WaitlistEntry.objects.count() == 1
    assert client_for(None).post(LIST, payload(campus, thu(11), thu(12))).status_code == 401


def test_asking_twice_for_the_same_slot_answers_the_same_entry(campus, member, client_for):
    book(campus.researcher, campus.research, campus.rheometer, thu(10), thu(12))
    client = client_for(member)
    first = client.post(BOOK, payload(campus, thu(11), thu(12)), format="json").json()
    again = client.post(LIST, payload(campus, thu(11), thu(12)), format="json")
    assert again.status_code == 202
    assert again.json()["waitlist"]["id"] == first["waitlist"]["id"]
    assert WaitlistEntry.objects.filter(status=EntryStatus.WAITING).count() == 1


def test_other_refusals_answer_as_usual(campus, member, client_for):
    book(campus.researcher, campus.research, campus.rheometer, thu(10), thu(12))
    client = client_for(member)
    response = client.post(BOOK, payload(campus, thu(11), thu(11, 10)), format="json")
    assert response.status_code == 400 and response.json()["code"] == "bad_granularity"
    response = client.post(
        BOOK,
        {**payload(campus, thu(11), thu(12)), "equipment_ids": [campus.rheometer.pk, 999]}
        | {"equipment": None},
        format="json",
    )
    assert response.status_code == 400
    # Without `waitlist`, a conflict is still a 409.
    response = client.post(BOOK, payload(campus, thu(11), thu(12), waitlist=False), format="json")
    assert response.status_code == 409
    assert not WaitlistEntry.objects.exists()


def test_series_with_waitlist_books_free_and_queues_the_rest(campus, member, client_for):
    book(campus.researcher, campus.research, campus.rheometer, thu(10), thu(12))
    body = payload(
        campus,
        thu(10) - timedelta(days=1),
        thu(12) - timedelta(days=1),
        recurrence={"rrule": "FREQ=DAILY;COUNT=3"},
    )
    response = client_for(member).post(BOOK, body, format="json")
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert len(answer["reservations"]) == 2
    (entry,) = answer["waitlist"]
    assert entry["start"] == "2026-11-26T10:00:00+01:00" and entry["position"] == 1


def test_list_detail_filters_and_positions(campus, member, client_for, django_assert_num_queries):
    eq = campus.rheometer
    book(campus.researcher, campus.research, eq, thu(8), thu(16))
    mine = [
        join(member, campus.research, eq, thu(8) + timedelta(minutes=15 * i), thu(16))
        for i in range(6)
    ]
    client = client_for(member)
    with django_assert_num_queries(2):  # the token; the page with its positions (no count)
        response = client.get(LIST, {"user": "me", "status": "waiting"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["id"] for r in results] == [e.pk for e in mine]
    assert [r["position"] for r in results] == [1, 2, 3, 4, 5, 6]
    response = client.get(f"{LIST}{mine[0].pk}/")
    assert response.status_code == 200 and list(response.json()) == FIELDS
    assert client.get(LIST, {"equipment": campus.hplc.pk}).json()["results"] == []
    assert client.get(LIST, {"status": "nope"}).status_code == 400
    assert client.get(LIST, {"equipment": "x"}).json()["code"] == "bad_filter"


def test_cancel_and_the_neutral_404_for_others(campus, member, client_for):
    book(campus.researcher, campus.research, campus.rheometer, thu(10), thu(12))
    entry = join(member, campus.research, campus.rheometer, thu(10), thu(12))
    outsider = client_for(campus.outsider)
    assert outsider.get(f"{LIST}{entry.pk}/").status_code == 404
    assert outsider.post(f"{LIST}{entry.pk}/cancel/").status_code == 404
    assert outsider.get(LIST).json()["results"] == []
    # The industrial partner's people do not see it either; the equipment's platform does.
    assert client_for(campus.industrial).get(f"{LIST}{entry.pk}/").status_code == 404
    assert client_for(campus.admin).get(f"{LIST}{entry.pk}/").status_code == 200
    response = client_for(member).post(f"{LIST}{entry.pk}/cancel/", {"reason": "plus besoin"})
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled" and response.json()["position"] is None
    again = client_for(member).post(f"{LIST}{entry.pk}/cancel/")
    assert again.status_code == 400 and again.json()["code"] == "not_waiting"


def test_cancelling_the_reservation_books_the_entry_visible_in_the_api(campus, member, client_for):
    taken = book(campus.researcher, campus.research, campus.rheometer, far(10), far(12))
    client = client_for(member)
    queued = client.post(BOOK, payload(campus, far(10), far(12)), format="json").json()
    response = client_for(campus.researcher).post(f"{BOOK}{taken.pk}/cancel/")
    assert response.status_code == 200
    entry = client.get(f"{LIST}{queued['waitlist']['id']}/").json()
    assert entry["status"] == EntryStatus.BOOKED and entry["position"] is None
    assert client.get(f"{BOOK}{entry['reservation']}/").json()["booked_by"] == member.pk
