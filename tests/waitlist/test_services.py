"""The waitlist's services: join, promotion on every path that frees time, expiry, limits."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import translation
from django.utils.translation import gettext

from core.models import AuditEntry, AuditObject
from equipment.models import Qualification
from notifications.emails import build_messages, email_language
from notifications.models import Kind, Notification
from reservations.exceptions import BookingError
from reservations.models import ReservationStatus
from reservations.services import (
    closure_create,
    closure_delete,
    release_no_shows,
    reservation_cancel,
    reservation_check_in,
    reservation_check_out,
    reservation_reject,
    reservation_update,
)
from waitlist import services
from waitlist.models import EntryStatus, WaitlistEntry
from waitlist.selectors import with_position
from waitlist.services import MAX_WAITING, waitlist_cancel, waitlist_expire, waitlist_join

from .helpers import NOW, book, far, join, thu

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(campus, make_user):
    """Three more researchers of the research project."""
    users = [make_user(f"chercheur{i}", email=f"chercheur{i}@example.org") for i in range(3)]
    campus.research.members.add(*users)
    return users


def reload(*entries):
    for entry in entries:
        entry.refresh_from_db()


def positions(*entries):
    found = dict(
        with_position(WaitlistEntry.objects.filter(pk__in=[e.pk for e in entries])).values_list(
            "pk", "position"
        )
    )
    return [found[e.pk] for e in entries]


# --- joining -------------------------------------------------------------------------------


def test_join_books_when_free_and_queues_only_on_conflict(campus, people):
    eq = campus.rheometer
    joined = waitlist_join(
        user=campus.researcher,
        project=campus.research,
        equipment_ids=[eq.pk],
        start=thu(10),
        end=thu(12),
        title="Libre",
        now=NOW,
    )
    assert joined.booking is not None and joined.entries == []
    entry = join(people[0], campus.research, eq, thu(11), thu(12))
    assert entry.status == EntryStatus.WAITING
    assert entry.priority == "research" and not entry.displaced
    assert AuditEntry.objects.filter(
        object_type=AuditObject.WAITLIST_ENTRY, object_id=entry.pk, action="create"
    ).exists()
    # Any other refusal answers as usual: nothing is queued.
    with pytest.raises(BookingError) as error:
        join(people[1], campus.research, eq, thu(11), thu(12), now=thu(10, 30))
    assert error.value.code == "too_late"
    assert WaitlistEntry.objects.count() == 1


def test_a_user_holds_at_most_twenty_waiting_entries(campus, people):
    eq = campus.rheometer
    book(campus.researcher, campus.research, eq, thu(8), thu(16))
    for i in range(MAX_WAITING):
        join(people[0], campus.research, eq, thu(8) + timedelta(minutes=15 * i), thu(16))
    with pytest.raises(BookingError) as error:
        join(people[0], campus.research, eq, thu(9), thu(10))
    assert error.value.code == "waitlist_full" and error.value.status == 400
    assert WaitlistEntry.objects.filter(booked_by=people[0]).count() == MAX_WAITING
    # A cancelled one frees a place.
    waitlist_cancel(entry=WaitlistEntry.objects.first(), user=people[0], now=NOW)
    join(people[0], campus.research, eq, thu(9), thu(10))


def test_series_books_free_occurrences_and_queues_the_conflicting_ones(campus, people):
    eq = campus.rheometer
    taken = book(campus.researcher, campus.research, eq, thu(10), thu(12))
    joined = waitlist_join(
        user=people[0],
        project=campus.research,
        equipment_ids=[eq.pk],
        start=thu(10) - timedelta(days=1),
        end=thu(12) - timedelta(days=1),
        title="Série",
        rrule="FREQ=DAILY;COUNT=3",
        now=NOW,
    )
    assert joined.booking is not None
    assert len(joined.booking.reservations) == 2
    (entry,) = joined.entries
    assert (entry.start, entry.end) == (taken.start, taken.end)


# --- promotion order -----------------------------------------------------------------------


def test_cancellation_books_pedagogical_first_then_research_then_industrial(campus, people):
    eq = campus.rheometer
    taken = book(campus.researcher, campus.research, eq, thu(10), thu(12))
    industrial = join(campus.industrial, campus.confidential, eq, thu(10), thu(12))
    research = join(people[0], campus.research, eq, thu(10), thu(12), now=NOW + timedelta(1))
    teaching = join(campus.teacher, campus.teaching, eq, thu(10), thu(12), now=NOW + timedelta(2))
    assert positions(teaching, research, industrial) == [1, 2, 3]

    reservation_cancel(reservation=taken, user=campus.researcher, now=NOW + timedelta(hours=3))

    reload(industrial, research, teaching)
    assert teaching.status == EntryStatus.BOOKED
    assert teaching.reservation.status == ReservationStatus.CONFIRMED
    assert teaching.reservation.booked_by == campus.teacher
    assert (research.status, industrial.status) == (EntryStatus.WAITING, EntryStatus.WAITING)
    assert positions(research, industrial) == [1, 2]


def test_among_equals_the_oldest_is_booked(campus, people):
    eq = campus.rheometer
    taken = book(campus.researcher, campus.research, eq, thu(10), thu(12))
    younger = join(people[0], campus.research, eq, thu(10), thu(12), now=NOW + timedelta(minutes=5))
    older = join(people[1], campus.research, eq, thu(10), thu(12))
    reservation_cancel(reservation=taken, user=campus.researcher, now=NOW + timedelta(hours=1))
    reload(younger, older)
    assert older.status == EntryStatus.BOOKED and younger.status == EntryStatus.WAITING


def test_the_rest_of_the_freed_time_fits_other_entries(campus, people):
    eq = campus.rheometer
    taken = book(campus.researcher, campus.research, eq, thu(9), thu(13))
    first = join(people[0], campus.research, eq, thu(9), thu(11))
    overlapping = join(people[1], campus.research, eq, thu(10), thu(12))
    later = join(people[2], campus.research, eq, thu(11), thu(13))
    reservation_cancel(reservation=taken, user=campus.researcher, now=NOW)
    reload(first, overlapping, later)
    assert [first.status, overlapping.status, later.status] == ["booked", "waiting", "booked"]


def test_displaced_owner_is_queued_and_first_among_equals(campus, people):
    eq = campus.rheometer
    held = book(people[0], campus.research, eq, far(10), far(12))
    earlier = join(people[1], campus.research, eq, far(10), far(12))
    lesson = book(campus.teacher, campus.teaching, eq, far(9), far(13))
    held.refresh_from_db()
    assert held.status == ReservationStatus.DISPLACED
    queued = WaitlistEntry.objects.get(displaced_reservation=held)
    assert queued.booked_by == people[0] and queued.displaced
    assert (queued.start, queued.end, queued.priority) == (held.start, held.end, "research")
    assert positions(queued, earlier) == [1, 2]
    # The displacement email says so.
    (message,) = build_messages(Kind.DISPLACED, [held], now=NOW)
    with translation.override(email_language(people[0])):
        line = gettext(
            "  You are on the waiting list for this slot, ahead of the requests "
            "of the same kind: should it free up, it will be booked for you."
        )
    assert line in message.body

    reservation_cancel(reservation=lesson, user=campus.teacher, now=NOW + timedelta(hours=1))
    reload(queued, earlier)
    assert queued.status == EntryStatus.BOOKED and earlier.status == EntryStatus.WAITING


def test_displaced_owner_holding_twenty_entries_is_not_queued(campus, people):
    eq = campus.rheometer
    held = book(people[0], campus.research, eq, far(10), far(12))
    WaitlistEntry.objects.bulk_create(
        WaitlistEntry(
            equipment=campus.hplc,
            project=campus.research,
            booked_by=people[0],
            start=thu(10) + timedelta(days=i),
            end=thu(11) + timedelta(days=i),
            title="x",
            priority="research",
            created_at=NOW,
            updated_at=NOW,
        )
        for i in range(MAX_WAITING)
    )
    book(campus.teacher, campus.teaching, eq, far(9), far(13))
    assert not WaitlistEntry.objects.filter(displaced_reservation=held).exists()
    (message,) = build_messages(Kind.DISPLACED, [held], now=NOW)
    assert "waiting list" not in message.body and "liste d'attente" not in message.body


def test_a_candidate_that_now_breaks_a_rule_is_skipped_for_the_next(campus, people):
    eq = campus.hplc  # requires a qualification
    for user in [campus.researcher, *people[:2]]:
        Qualification.objects.create(user=user, equipment=eq, valid_until=date(2027, 12, 31))
    taken = book(campus.researcher, campus.research, eq, thu(10), thu(12))
    lapsed = join(people[0], campus.research, eq, thu(10), thu(12))
    next_one = join(people[1], campus.research, eq, thu(10), thu(12), now=NOW + timedelta(1))
    Qualification.objects.filter(user=people[0]).update(valid_until=date(2026, 11, 1))
    reservation_cancel(reservation=taken, user=campus.researcher, now=NOW + timedelta(hours=1))
    reload(lapsed, next_one)
    assert lapsed.status == EntryStatus.WAITING
    assert next_one.status == EntryStatus.BOOKED


def test_quota_exceeded_candidate_is_skipped(campus, people):
    eq = campus.rheometer
    eq.policy_overrides = {"weekly_quota_hours": {"research": 4, "industrial": None}}
    eq.save()
    taken = book(campus.industrial, campus.confidential, eq, thu(10), thu(12))
    over = join(people[0], campus.research, eq, thu(10), thu(12))
    # The research partner uses its 4 hours meanwhile (on Friday).
    book(people[1], campus.research, eq, thu(10) + timedelta(1), thu(14) + timedelta(1))
    industrial = join(campus.industrial, campus.confidential, eq, thu(10), thu(12), title="Bis")
    reservation_cancel(reservation=taken, user=campus.industrial, now=NOW + timedelta(hours=1))
    reload(over, industrial)
    assert over.status == EntryStatus.WAITING
    assert industrial.status == EntryStatus.BOOKED
    # Industrial needs approval here: booked, its reservation pending.
    assert industrial.reservation.status == ReservationStatus.PENDING


# --- every path that frees time promotes ---------------------------------------------------


def test_rejection_promotes(campus, people):
    eq = campus.rheometer
    pending = book(campus.industrial, campus.confidential, eq, thu(10), thu(12))
    assert pending.status == ReservationStatus.PENDING
    entry = join(people[0], campus.research, eq, thu(10), thu(12))
    reservation_reject(reservation=pending, user=campus.admin, now=NOW, reason="Non")
    entry.refresh_from_db()
    assert entry.status == EntryStatus.BOOKED


def test_displacement_promotes_what_the_teaching_booking_leaves(campus, people):
    eq = campus.rheometer
    held = book(campus.researcher, campus.research, eq, far(10), far(12))
    entry = join(people[0], campus.research, eq, far(10), far(11))
    book(campus.teacher, campus.teaching, eq, far(11), far(12))
    held.refresh_from_db()
    entry.refresh_from_db()
    assert held.status == ReservationStatus.DISPLACED
    assert entry.status == EntryStatus.BOOKED


def test_move_promotes_the_time_it_left(campus, people):
    eq = campus.rheometer
    held = book(campus.researcher, campus.research, eq, thu(10), thu(12))
    entry = join(people[0], campus.research, eq, thu(10), thu(11))
    reservation_update(
        reservation=held, user=campus.researcher, now=NOW, start=thu(14), end=thu(16)
    )
    entry.refresh_from_db()
    assert entry.status == EntryStatus.BOOKED


def test_move_onto_the_waited_time_books_nothing_twice(campus, people):
    eq = campus.rheometer
    held = book(campus.researcher, campus.research, eq, thu(10), thu(12))
    entry = join(people[0], campus.research, eq, thu(10), thu(12))
    reservation_update(
        reservation=held, user=campus.researcher, now=NOW, start=thu(10, 30), end=thu(12)
    )
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WAITING


def test_early_check_out_promotes_the_rest_of_the_slot(campus, people):
    eq = campus.rheometer
    held = book(campus.researcher, campus.research, eq, thu(10), thu(14))
    entry = join(people[0], campus.research, eq, thu(12), thu(13))
    reservation_check_in(reservation=held, user=campus.researcher, now=thu(10))
    reservation_check_out(reservation=held, user=campus.researcher, now=thu(10, 30))
    entry.refresh_from_db()
    assert entry.status == EntryStatus.BOOKED


def test_released_no_show_promotes_the_rest_of_the_slot(campus, people):
    eq = campus.rheometer
    eq.requires_check_in = True
    eq.save()
    held = book(campus.researcher, campus.research, eq, thu(10), thu(14))
    entry = join(people[0], campus.research, eq, thu(12), thu(13))
    release_no_shows(now=thu(10, 31))
    held.refresh_from_db()
    entry.refresh_from_db()
    assert held.status == ReservationStatus.NO_SHOW
    assert entry.status == EntryStatus.BOOKED


def test_closure_queues_the_displaced_and_its_deletion_books_them(campus, people):
    eq = campus.rheometer
    held = book(campus.researcher, campus.research, eq, thu(10), thu(12))
    other = join(people[0], campus.research, eq, thu(10), thu(12))
    closure, displaced = closure_create(
        user=campus.admin, equipment=eq, start=thu(8), end=thu(18), reason="Panne", now=NOW
    )
    assert [r.pk for r in displaced] == [held.pk]
    queued = WaitlistEntry.objects.get(displaced_reservation=held)
    closure_delete(closure=closure, user=campus.admin, now=NOW + timedelta(hours=1))
    reload(queued, other)
    assert queued.status == EntryStatus.BOOKED
    assert other.status == EntryStatus.WAITING


def test_site_closure_deletion_promotes_the_site_equipment(campus, people):
    eq = campus.rheometer
    closure, _ = closure_create(
        user=campus.admin, site=campus.other_site, start=thu(8), end=thu(9), reason="x", now=NOW
    )
    held = book(campus.researcher, campus.research, eq, thu(10), thu(12))
    entry = join(people[0], campus.research, eq, thu(10), thu(12))
    held.status = ReservationStatus.CANCELLED  # freed without an event: only the reopening offers
    held.save()
    closure_delete(closure=closure, user=campus.admin, now=NOW)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WAITING  # the closure did not cover the entry
    closure, _ = closure_create(
        user=campus.admin, site=campus.other_site, start=thu(9), end=thu(13), reason="x", now=NOW
    )
    closure_delete(closure=closure, user=campus.admin, now=NOW)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.BOOKED


# --- failures, notifications, expiry, cancel ------------------------------------------------


def test_a_failing_candidate_never_fails_the_cancellation(campus, people, monkeypatch):
    eq = campus.rheometer
    taken = book(campus.researcher, campus.research, eq, thu(10), thu(12))
    broken = join(people[0], campus.research, eq, thu(10), thu(12))
    fine = join(people[1], campus.research, eq, thu(10), thu(12), now=NOW + timedelta(1))
    real = services.reservation_create

    def failing(**kwargs):
        if kwargs["user"] == people[0]:
            raise RuntimeError("boom")
        return real(**kwargs)

    monkeypatch.setattr(services, "reservation_create", failing)
    cancelled = reservation_cancel(reservation=taken, user=campus.researcher, now=NOW)
    assert [r.status for r in cancelled] == [ReservationStatus.CANCELLED]
    taken.refresh_from_db()
    reload(broken, fine)
    assert taken.status == ReservationStatus.CANCELLED
    assert broken.status == EntryStatus.WAITING and broken.reservation is None
    assert fine.status == EntryStatus.BOOKED


def test_a_failing_promotion_query_never_fails_the_cancellation(campus, people, monkeypatch):
    taken = book(campus.researcher, campus.research, campus.rheometer, thu(10), thu(12))
    join(people[0], campus.research, campus.rheometer, thu(10), thu(12))

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "_offer_to", broken)
    reservation_cancel(reservation=taken, user=campus.researcher, now=NOW)
    taken.refresh_from_db()
    assert taken.status == ReservationStatus.CANCELLED


def test_promoted_owner_gets_one_waitlist_email_not_a_confirmation(campus, people):
    taken = book(campus.researcher, campus.research, campus.rheometer, thu(10), thu(12))
    entry = join(people[0], campus.research, campus.rheometer, thu(10), thu(12))
    Notification.objects.all().delete()
    reservation_cancel(reservation=taken, user=campus.researcher, now=NOW)
    entry.refresh_from_db()
    mine = list(Notification.objects.filter(recipient=people[0]).values_list("kind", flat=True))
    assert mine == [Kind.WAITLIST_BOOKED]
    (row,) = Notification.objects.filter(recipient=people[0])
    assert row.reservation_ids == [entry.reservation_id]
    (message,) = build_messages(Kind.WAITLIST_BOOKED, [entry.reservation], now=NOW)
    with translation.override(email_language(people[0])):
        assert gettext("Your waiting request is booked") == message.subject
        assert gettext("Time you were waiting for became free: it is booked for you.") in (
            message.body
        )


def test_pending_promotion_tells_the_managers(campus, people):
    eq = campus.hplc  # managed by eq_manager; industrial needs approval
    Qualification.objects.create(
        user=campus.industrial, equipment=eq, valid_until=date(2027, 12, 31)
    )
    Qualification.objects.create(
        user=campus.researcher, equipment=eq, valid_until=date(2027, 12, 31)
    )
    taken = book(campus.researcher, campus.research, eq, thu(10), thu(12))
    join(campus.industrial, campus.confidential, eq, thu(10), thu(12))
    Notification.objects.all().delete()
    reservation_cancel(reservation=taken, user=campus.researcher, now=NOW)
    assert set(Notification.objects.values_list("recipient__username", "kind")) >= {
        ("industriel", Kind.WAITLIST_BOOKED),
        ("gestionnaire", Kind.PENDING_REQUEST),
    }
    assert not Notification.objects.filter(recipient=campus.industrial, kind="created").exists()


def test_expiry_within_the_minimum_notice(campus, people):
    eq = campus.rheometer
    book(campus.researcher, campus.research, eq, thu(10), thu(14))
    soon = join(people[0], campus.research, eq, thu(10), thu(11))
    later = join(people[1], campus.research, eq, thu(12), thu(13))
    assert waitlist_expire(now=thu(9, 1)) == 1
    reload(soon, later)
    assert soon.status == EntryStatus.EXPIRED and later.status == EntryStatus.WAITING
    assert AuditEntry.objects.filter(object_id=soon.pk, action="expire").exists()
    assert waitlist_expire(now=thu(12)) == 1
    later.refresh_from_db()
    assert later.status == EntryStatus.EXPIRED


def test_cancel_is_for_whoever_may_cancel_the_reservation(campus, people):
    book(campus.researcher, campus.research, campus.rheometer, thu(10), thu(12))
    entry = join(people[0], campus.research, campus.rheometer, thu(10), thu(12))
    with pytest.raises(BookingError) as error:
        waitlist_cancel(entry=entry, user=campus.outsider, now=NOW)
    assert error.value.code == "permission_denied"
    # The project's leader may.
    waitlist_cancel(entry=entry, user=campus.researcher, now=NOW)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.CANCELLED
    with pytest.raises(BookingError) as error:
        waitlist_cancel(entry=entry, user=people[0], now=NOW)
    assert error.value.code == "not_waiting"


def test_a_promotion_that_displaces_queues_the_displaced_without_recursing(campus, people):
    eq = campus.rheometer
    lesson = book(campus.teacher, campus.teaching, eq, far(10), far(12))
    waiting_class = join(campus.teacher, campus.teaching, eq, far(10), far(13), title="TP long")
    research = book(people[0], campus.research, eq, far(12), far(13))
    Notification.objects.all().delete()

    reservation_cancel(reservation=lesson, user=campus.teacher, now=NOW)

    waiting_class.refresh_from_db()
    research.refresh_from_db()
    assert waiting_class.status == EntryStatus.BOOKED
    assert research.status == ReservationStatus.DISPLACED
    queued = WaitlistEntry.objects.get(displaced_reservation=research)
    assert queued.status == EntryStatus.WAITING and queued.booked_by == people[0]
    kinds = set(Notification.objects.values_list("recipient__username", "kind"))
    assert ("chercheur0", Kind.DISPLACED) in kinds
    assert ("enseignant", Kind.WAITLIST_BOOKED) in kinds
    assert ("enseignant", Kind.CONFIRMED) not in kinds


def test_expire_command_prints_in_french(campus, people, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    book(campus.researcher, campus.research, campus.rheometer, thu(10), thu(12))
    entry = join(people[0], campus.research, campus.rheometer, thu(10), thu(12))
    monkeypatch.setattr("django.utils.timezone.now", lambda: thu(9, 30))
    out = StringIO()
    call_command("expire_waitlist", stdout=out)
    entry.refresh_from_db()
    assert entry.status == EntryStatus.EXPIRED
    assert out.getvalue().strip() == "1 demande en file d'attente expirée."
