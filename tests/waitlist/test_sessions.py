"""Sessions on the waitlist (SPEC §10): a session refused only for conflict is queued as one
group (an entry per equipment sharing `group`), booked only as a whole when every one of its
equipment is free, cancelled and expired as a whole.

Time is frozen at Monday 2026-11-23 08:00 Europe/Paris.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.roles import SYSTEM
from equipment.models import Equipment
from equipment.services import qualification_grant
from notifications.models import Kind, Notification
from reservations.exceptions import BookingError
from reservations.models import Reservation
from reservations.services import reservation_cancel
from waitlist.models import EntryStatus, WaitlistEntry
from waitlist.services import MAX_WAITING, waitlist_cancel, waitlist_expire, waitlist_join

from .helpers import NOW, book, join, thu

pytestmark = pytest.mark.django_db

BOOK = "/api/v1/reservations/"
LIST = "/api/v1/waitlist/"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


@pytest.fixture
def member(campus, make_user):
    """A researcher of the research project, trained on the HPLC."""
    user = make_user("doctorant", email="doctorant@example.org")
    campus.research.members.add(user)
    for who in (user, campus.researcher):
        qualification_grant(
            actor=SYSTEM, user=who, equipment=campus.hplc, valid_until=date(2027, 12, 31)
        )
    return user


@pytest.fixture
def both_taken(campus, member):
    """The rheometer and the HPLC each taken on Thursday 10:00–12:00 by the researcher."""
    return [
        book(campus.researcher, campus.research, eq, thu(10), thu(12))
        for eq in (campus.rheometer, campus.hplc)
    ]


def queue_session(campus, user, start=None, end=None, **extra):
    joined = waitlist_join(
        user=user,
        project=campus.research,
        equipment_ids=[campus.rheometer.pk, campus.hplc.pk],
        start=start or thu(11),
        end=end or thu(12),
        title="Séance",
        now=extra.pop("now", NOW),
        **extra,
    )
    return joined


def cancel(reservation, user):
    reservation_cancel(reservation=reservation, user=user, now=NOW, scope="this")


def test_a_session_refused_for_conflict_is_queued_as_one_group(campus, member, both_taken):
    joined = queue_session(campus, member)
    assert joined.booking is None and joined.refused is not None
    first, second = joined.entries
    assert {first.equipment_id, second.equipment_id} == {campus.rheometer.pk, campus.hplc.pk}
    assert first.group is not None and first.group == second.group
    assert (first.start, first.end) == (second.start, second.end) == (thu(11), thu(12))
    assert first.status == second.status == EntryStatus.WAITING
    # Asking again answers the same group.
    again = queue_session(campus, member)
    assert [e.pk for e in again.entries] == [first.pk, second.pk]
    assert WaitlistEntry.objects.count() == 2


def test_one_equipment_taken_is_enough_to_queue_the_whole_session(campus, member):
    book(campus.researcher, campus.research, campus.hplc, thu(10), thu(12))
    joined = queue_session(campus, member)
    assert len(joined.entries) == 2 and len({e.group for e in joined.entries}) == 1
    assert Reservation.objects.count() == 1  # nothing of the session booked


def test_promotion_books_the_group_only_when_all_its_equipment_are_free(campus, member, both_taken):
    entries = queue_session(campus, member).entries
    rheometer_booking, hplc_booking = both_taken
    Notification.objects.all().delete()
    cancel(rheometer_booking, campus.researcher)
    for entry in entries:
        entry.refresh_from_db()
        assert entry.status == EntryStatus.WAITING and entry.reservation is None
    assert not Reservation.objects.filter(booked_by=member).exists()
    cancel(hplc_booking, campus.researcher)
    for entry in entries:
        entry.refresh_from_db()
        assert entry.status == EntryStatus.BOOKED
    booked = {e.equipment_id: e.reservation for e in entries}
    assert set(booked) == {campus.rheometer.pk, campus.hplc.pk}
    assert all(r.booked_by == member and r.start == thu(11) for r in booked.values())
    sessions = {r.session_id for r in booked.values()}
    assert len(sessions) == 1 and None not in sessions  # booked together, one session
    # One notification for the whole group: "waitlist booked", not a confirmation.
    mine = list(Notification.objects.filter(recipient=member).values_list("kind", flat=True))
    assert mine == [Kind.WAITLIST_BOOKED]


def test_a_group_keeps_waiting_when_one_equipment_is_refused(campus, member, both_taken):
    """The booking service decides for the group: a single entry on the freed equipment
    behind the group gets the time."""
    entries = queue_session(campus, member).entries
    single = join(campus.researcher, campus.research, campus.rheometer, thu(11), thu(12))
    cancel(both_taken[0], campus.researcher)
    single.refresh_from_db()
    assert single.status == EntryStatus.BOOKED
    assert all(
        e.status == EntryStatus.WAITING
        for e in WaitlistEntry.objects.filter(pk__in=[x.pk for x in entries])
    )


def test_cancelling_one_entry_cancels_the_group(campus, member, both_taken):
    first, second = queue_session(campus, member).entries
    waitlist_cancel(entry=second, user=member, now=NOW)
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == second.status == EntryStatus.CANCELLED
    with pytest.raises(BookingError) as error:
        waitlist_cancel(entry=first, user=member, now=NOW)
    assert error.value.code == "not_waiting"
    # Time freed later books nothing for a cancelled group.
    for reservation in both_taken:
        cancel(reservation, campus.researcher)
    assert not Reservation.objects.filter(booked_by=member).exists()


def test_a_group_expires_as_a_whole(campus, member, both_taken):
    # The HPLC asks a day's notice, the rheometer an hour.
    Equipment.objects.filter(pk=campus.hplc.pk).update(
        policy_overrides={"min_notice_minutes": 24 * 60}
    )
    entries = queue_session(campus, member).entries
    assert waitlist_expire(now=thu(8)) == 2  # the HPLC's notice reached: both expire
    assert {e.status for e in WaitlistEntry.objects.filter(pk__in=[x.pk for x in entries])} == {
        EntryStatus.EXPIRED
    }


def test_the_limit_counts_every_entry_of_a_group(campus, member, both_taken):
    book(campus.researcher, campus.research, campus.rheometer, thu(13), thu(18))
    for i in range(MAX_WAITING - 1):
        join(
            member, campus.research, campus.rheometer, thu(13) + timedelta(minutes=15 * i), thu(18)
        )
    with pytest.raises(BookingError) as error:
        queue_session(campus, member)  # two entries: 21 > 20
    assert error.value.code == "waitlist_full"
    assert not WaitlistEntry.objects.filter(group__isnull=False).exists()


def test_a_series_of_sessions_books_the_free_dates_and_queues_a_group_per_taken_one(campus, member):
    book(
        campus.researcher,
        campus.research,
        campus.hplc,
        thu(10) + timedelta(days=7),
        thu(12) + timedelta(days=7),
    )
    joined = queue_session(campus, member, rrule="FREQ=WEEKLY;COUNT=2", start=thu(10), end=thu(12))
    assert joined.booking is not None
    assert {r.start for r in joined.booking.reservations} == {thu(10)}
    assert len(joined.booking.reservations) == 2  # both equipment of the first date
    assert len(joined.entries) == 2 and len({e.group for e in joined.entries}) == 1
    assert {e.start for e in joined.entries} == {thu(10) + timedelta(days=7)}


# --- the API ---------------------------------------------------------------------------------


def session_body(campus, **extra):
    return {
        "equipment_ids": [campus.rheometer.pk, campus.hplc.pk],
        "project": campus.research.pk,
        "start": thu(11).isoformat(),
        "end": thu(12).isoformat(),
        "title": "Séance",
        "waitlist": True,
        **extra,
    }


@pytest.mark.parametrize("url", [BOOK, LIST])
def test_api_queues_a_session_as_a_group(campus, member, both_taken, client_for, url):
    response = client_for(member).post(url, session_body(campus), format="json")
    assert response.status_code == 202, response.json()
    body = response.json()
    assert isinstance(body["waitlist"], list) and len(body["waitlist"]) == 2
    assert {e["equipment"] for e in body["waitlist"]} == {campus.rheometer.pk, campus.hplc.pk}
    groups = {e["group"] for e in body["waitlist"]}
    assert len(groups) == 1 and None not in groups
    assert all(e["status"] == "waiting" and e["position"] == 1 for e in body["waitlist"])
    assert body["conflicts"]
    assert "alternatives" in body
    entry = client_for(member).get(f"{LIST}{body['waitlist'][0]['id']}/").json()
    assert entry["group"] == body["waitlist"][0]["group"]


def test_api_books_a_free_session_with_201(campus, member, client_for):
    response = client_for(member).post(BOOK, session_body(campus), format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["reservations"]) == 2 and body["session"] is not None
    assert body["waitlist"] == []
    assert not WaitlistEntry.objects.exists()


def test_api_cancel_of_one_entry_cancels_the_group(campus, member, both_taken, client_for):
    client = client_for(member)
    entries = client.post(BOOK, session_body(campus), format="json").json()["waitlist"]
    response = client.post(f"{LIST}{entries[0]['id']}/cancel/", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    other = client.get(f"{LIST}{entries[1]['id']}/").json()
    assert other["status"] == "cancelled"
