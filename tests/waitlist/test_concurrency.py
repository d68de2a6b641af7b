"""Promotion under real concurrency: frees racing never book one slot twice.

16 threads, released together, each on its own database connection, cancel, move and
re-book around one slot that 10 waiting entries want, and cancel some entries. Whatever the
interleaving: no two live reservations overlap (checked in SQL), every booked entry holds
its own live reservation at its own times, and no thread meets anything but a refusal of
the booking rules (`BookingError`): no database error, nothing that would be a 500.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection

from reservations.exceptions import BookingError
from reservations.models import LIVE_STATUSES, Reservation
from reservations.services import reservation_cancel, reservation_create, reservation_update
from waitlist.models import EntryStatus, WaitlistEntry
from waitlist.services import waitlist_cancel

from .helpers import NOW, book, join, thu

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 16
WAITING = 10
ROUNDS = 2


def race(calls: list[Callable[[], Any]]) -> list[BaseException | None]:
    """Run every call in its own thread, all released at once; answer what each raised."""
    errors: list[BaseException | None] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            connection.ensure_connection()
            barrier.wait(timeout=30)
            call()
        except BaseException as error:  # every outcome is checked by the test
            errors[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    return errors


def overlapping_live_pairs() -> int:
    """Pairs of live reservations of one equipment whose held times overlap, in SQL."""
    live = ", ".join(f"'{s}'" for s in LIVE_STATUSES)
    table = Reservation._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {table} a JOIN {table} b"
            " ON a.equipment_id = b.equipment_id AND a.id < b.id"
            " AND a.start < b.blocked_until AND b.start < a.blocked_until"
            f" WHERE a.status IN ({live}) AND b.status IN ({live})"
        )
        return cursor.fetchone()[0]


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_frees_racing_never_book_one_slot_twice(campus, make_user, round_):
    eq = campus.rheometer
    users = [make_user(f"attente{i:02d}") for i in range(WAITING + 4)]
    campus.research.members.add(*users)
    holder, mover, other_mover, rebooker = users[WAITING:]
    # The slot everybody wants, and reservations around it that will move or free.
    slot = book(holder, campus.research, eq, thu(10), thu(12))
    after = book(holder, campus.research, eq, thu(12), thu(13))
    away = book(mover, campus.research, eq, thu(15), thu(16))
    away2 = book(other_mover, campus.research, eq, thu(16), thu(17))
    shapes = [(thu(10), thu(12)), (thu(10), thu(11)), (thu(11), thu(12)), (thu(11), thu(13))]
    entries = [
        join(user, campus.research, eq, *shapes[i % len(shapes)], now=NOW + timedelta(minutes=i))
        for i, user in enumerate(users[:WAITING])
    ]

    def rebook(start, end):
        return lambda: reservation_create(
            user=rebooker,
            project=campus.research,
            equipment=[eq],
            start=start,
            end=end,
            title="Direct",
            now=NOW,
        )

    calls: list[Callable[[], Any]] = [
        lambda: reservation_cancel(reservation=slot, user=holder, now=NOW),
        lambda: reservation_cancel(reservation=after, user=holder, now=NOW),
        lambda: reservation_update(
            reservation=away, user=mover, now=NOW, start=thu(10), end=thu(11)
        ),
        lambda: reservation_update(
            reservation=away2, user=other_mover, now=NOW, start=thu(11), end=thu(12)
        ),
        lambda: reservation_update(
            reservation=away, user=mover, now=NOW, start=thu(14), end=thu(15)
        ),
        rebook(thu(10), thu(12)),
        rebook(thu(10), thu(11)),
        rebook(thu(11), thu(12)),
        rebook(thu(12), thu(13)),
        lambda: waitlist_cancel(entry=entries[0], user=entries[0].booked_by, now=NOW),
        lambda: waitlist_cancel(entry=entries[5], user=entries[5].booked_by, now=NOW),
    ]
    while len(calls) < THREADS:
        calls.append(rebook(*shapes[len(calls) % len(shapes)]))

    errors = race(calls)

    odd = [repr(e) for e in errors if e is not None and not isinstance(e, BookingError)]
    assert odd == []
    assert overlapping_live_pairs() == 0
    booked = list(
        WaitlistEntry.objects.filter(status=EntryStatus.BOOKED).select_related("reservation")
    )
    assert len({e.reservation_id for e in booked}) == len(booked)
    for entry in booked:
        assert entry.reservation.status in LIVE_STATUSES
        assert entry.reservation.booked_by_id == entry.booked_by_id
        assert (entry.reservation.start, entry.reservation.end) == (entry.start, entry.end)
    # The entries no longer waiting are booked or cancelled; the cancel threads did their job
    # unless a promotion booked the entry first.
    for index in (0, 5):
        entries[index].refresh_from_db()
        assert entries[index].status in (EntryStatus.CANCELLED, EntryStatus.BOOKED)
    # The freed time was not left idle while an entry that fits it waits.
    assert (
        WaitlistEntry.objects.filter(status=EntryStatus.WAITING).count()
        + len(booked)
        + sum(1 for i in (0, 5) if entries[i].status == EntryStatus.CANCELLED)
        == WAITING
    )


@pytest.mark.parametrize("round_", range(3))
def test_two_frees_racing_book_the_entry_that_needs_both_once(campus, make_user, round_):
    """Two cancellations of neighbouring bookings at once: the entry that wants both
    halves is booked, once (the second offer waits for the first and sees its change)."""
    eq = campus.rheometer
    first_half = book(campus.researcher, campus.research, eq, thu(10), thu(11))
    second_half = book(campus.researcher, campus.research, eq, thu(11), thu(12))
    waiting = make_user("attente")
    campus.research.members.add(waiting)
    entry = join(waiting, campus.research, eq, thu(10), thu(12))

    errors = race(
        [
            lambda: reservation_cancel(reservation=first_half, user=campus.researcher, now=NOW),
            lambda: reservation_cancel(reservation=second_half, user=campus.researcher, now=NOW),
        ]
    )

    assert errors == [None, None]
    entry.refresh_from_db()
    assert entry.status == EntryStatus.BOOKED
    assert Reservation.objects.filter(booked_by=waiting, status__in=LIVE_STATUSES).count() == 1
    assert overlapping_live_pairs() == 0
