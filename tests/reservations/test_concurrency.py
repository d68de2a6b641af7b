"""No double booking under real concurrency (STACK.md "No double booking in the database").

Many threads, released together by a barrier, call `reservation_create` for overlapping
slots of one equipment, each on its own database connection. Whatever the interleaving,
the losers get a plain `conflict` (409) and never a raw database error, and the table
never holds two overlapping live reservations. The last tests insert rows directly to
check the database's own guarantee (exclusion constraint on PostgreSQL, triggers on
SQLite). Tests are transactional (`transaction=True`): threads only see committed data.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, connection, transaction

from reservations.exceptions import BookingError
from reservations.models import LIVE_STATUSES, Reservation, ReservationStatus
from reservations.services.closures import closure_create
from reservations.services.create import BookingOutcome, reservation_create
from tests.conftest import reservation_row

TZ = ZoneInfo("Europe/Paris")
# Monday 23 November 2026, 08:00 in Paris: the fixed "now" of every booking here.
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=TZ)
THREADS = 16
ROUNDS = 3

pytestmark = pytest.mark.django_db(transaction=True)


def thu(hour: int, minute: int = 0) -> datetime:
    """Thursday 26 November 2026 (3 days after NOW), local time."""
    return datetime(2026, 11, 26, hour, minute, tzinfo=TZ)


def far(hour: int, minute: int = 0) -> datetime:
    """Wednesday 23 December 2026 (30 days after NOW: past the 14-day preemption
    notice, within the 60-day research horizon), local time."""
    return datetime(2026, 12, 23, hour, minute, tzinfo=TZ)


@dataclass
class Result:
    index: int
    outcome: BookingOutcome | None = None
    error: BaseException | None = None

    @property
    def won(self) -> bool:
        return self.outcome is not None and self.error is None

    @property
    def is_conflict(self) -> bool:
        return (
            isinstance(self.error, BookingError)
            and self.error.code == "conflict"
            and self.error.status == 409
        )


def race(calls: Sequence[Callable[[], BookingOutcome]]) -> list[Result]:
    """Run every call in its own thread, all released at once; collect what each got."""
    results = [Result(i) for i in range(len(calls))]
    barrier = threading.Barrier(len(calls))

    def run(result: Result, call: Callable[[], BookingOutcome]) -> None:
        try:
            # Connect before the barrier, so that connecting does not stagger the start.
            connection.ensure_connection()
            barrier.wait(timeout=30)
            result.outcome = call()
        except BaseException as error:  # every outcome is checked by the test
            result.error = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(result, call), name=f"booker-{result.index}")
        for result, call in zip(results, calls, strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=90)
    assert not any(t.is_alive() for t in threads), "a booking thread is still running"
    return results


def booking(user: Any, project: Any, equipment: Any, start: datetime, end: datetime, title: str):
    def call() -> BookingOutcome:
        return reservation_create(
            user=user,
            project=project,
            equipment=[equipment],
            start=start,
            end=end,
            title=title,
            now=NOW,
        )

    return call


def unexpected(results: Sequence[Result]) -> list[str]:
    """Every outcome other than a success or a plain conflict, described for the report."""
    return [
        f"thread {r.index}: {type(r.error).__module__}.{type(r.error).__name__}: "
        f"{getattr(r.error, 'code', '')} {r.error!r}"
        for r in results
        if not r.won and not r.is_conflict
    ]


def live_rows(equipment: Any = None) -> list[Reservation]:
    rows = Reservation.objects.filter(status__in=LIVE_STATUSES)
    if equipment is not None:
        rows = rows.filter(equipment=equipment)
    return list(rows.order_by("pk"))


def overlapping_pairs() -> list[tuple[Reservation, Reservation]]:
    """Pairs of live reservations of one equipment whose [start, blocked_until) overlap."""
    rows = live_rows()
    return [
        (a, b)
        for i, a in enumerate(rows)
        for b in rows[i + 1 :]
        if a.equipment_id == b.equipment_id
        and a.start < b.blocked_until
        and b.start < a.blocked_until
    ]


@pytest.fixture
def bookers(campus, make_user):
    """THREADS distinct users, all members of the research project."""
    users = [make_user(f"booker{i:02d}") for i in range(THREADS)]
    campus.research.members.add(*users)
    return users


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_same_slot_only_one_wins(campus, bookers, round_):
    eq = campus.rheometer
    start, end = thu(10), thu(12)
    calls = [
        booking(user, campus.research, eq, start, end, f"Essai {i}")
        for i, user in enumerate(bookers)
    ]

    results = race(calls)

    assert unexpected(results) == []
    winners = [r for r in results if r.won]
    assert len(winners) == 1
    assert sum(r.is_conflict for r in results) == THREADS - 1
    rows = live_rows(eq)
    assert len(rows) == 1
    (made,) = winners[0].outcome.reservations
    assert rows[0].pk == made.pk
    assert (rows[0].start, rows[0].end) == (start, end)
    assert rows[0].status == ReservationStatus.CONFIRMED
    assert overlapping_pairs() == []
    # Losers left nothing behind: no half-written rows of any status.
    assert Reservation.objects.count() == 1


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_staggered_overlapping_slots(campus, bookers, round_):
    eq = campus.rheometer
    # 09:00 + i*15 min, 2 h each: thread i overlaps threads i-7 .. i+7.
    slots = [
        (thu(9) + timedelta(minutes=15 * i), thu(11) + timedelta(minutes=15 * i))
        for i in range(THREADS)
    ]
    calls = [
        booking(user, campus.research, eq, start, end, f"Essai {i}")
        for i, (user, (start, end)) in enumerate(zip(bookers, slots, strict=True))
    ]

    results = race(calls)

    assert unexpected(results) == []
    winners = [r for r in results if r.won]
    assert winners, "somebody must get a slot"
    assert len(winners) + sum(r.is_conflict for r in results) == THREADS
    rows = live_rows(eq)
    assert len(rows) == len(winners)
    assert {r.pk for r in rows} == {w.outcome.reservations[0].pk for w in winners}
    for winner in winners:
        (made,) = winner.outcome.reservations
        assert (made.start, made.end) == slots[winner.index]
    assert overlapping_pairs() == []
    assert Reservation.objects.count() == len(winners)


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_pedagogical_displacement_races_research_bookings(campus, bookers, round_):
    eq = campus.rheometer
    existing = reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=[eq],
        start=far(10),
        end=far(12),
        title="Thèse: mesures",
        now=NOW,
    ).reservations[0]
    ped_start, ped_end = far(9), far(13)
    # Research requests all overlapping the teaching slot: the existing reservation's
    # slot itself, and slots beside it that are free until the teaching booking lands.
    research_slots = [
        (far(10), far(12)),
        (far(9), far(10)),
        (far(12), far(13)),
        (far(12, 30), far(14)),
        (far(8, 30), far(9, 30)),
    ]
    calls = [booking(campus.teacher, campus.teaching, eq, ped_start, ped_end, "TP rhéologie")]
    slots = [(ped_start, ped_end)]
    for i, user in enumerate(bookers[: THREADS - 1]):
        slot = research_slots[i % len(research_slots)]
        slots.append(slot)
        calls.append(booking(user, campus.research, eq, *slot, f"Essai {i}"))

    results = race(calls)

    assert unexpected(results) == []
    assert overlapping_pairs() == []
    teaching, research = results[0], results[1:]
    existing.refresh_from_db()
    if teaching.won:
        assert existing.status == ReservationStatus.DISPLACED
    else:
        assert existing.status == ReservationStatus.CONFIRMED
    # Every overlap is research booked 30 days ahead: the teaching booking displaces
    # whatever got there first, so it wins in every interleaving.
    assert teaching.won, f"the pedagogical booking was refused: {teaching.error!r}"
    (lesson,) = teaching.outcome.reservations
    assert (lesson.start, lesson.end) == (ped_start, ped_end)
    rows = live_rows(eq)
    assert lesson.pk in {r.pk for r in rows}
    # Research winners either landed outside the teaching slot or were displaced by it.
    for result in research:
        if not result.won:
            continue
        (made,) = result.outcome.reservations
        made.refresh_from_db()
        start, end = slots[result.index]
        if start < ped_end and ped_start < end:
            assert made.status == ReservationStatus.DISPLACED
        else:
            assert made.status == ReservationStatus.CONFIRMED
    displaced = {r.pk for r in teaching.outcome.displaced}
    assert existing.pk in displaced
    assert displaced == set(
        Reservation.objects.filter(status=ReservationStatus.DISPLACED).values_list("pk", flat=True)
    )


@pytest.mark.parametrize("round_", range(ROUNDS))
def test_closure_races_bookings(campus, bookers, round_):
    """A closure lands while bookings pour in: none survives inside it, none is lost."""
    eq = campus.rheometer
    closed_from, closed_to = far(10), far(16)
    slots = [
        (far(10), far(12)),  # inside
        (far(12), far(14)),  # inside
        (far(15), far(17)),  # straddles the end
        (far(8), far(10)),  # just before: stays
        (far(16), far(18)),  # just after: stays
    ]
    calls: list[Callable[[], Any]] = [
        lambda: closure_create(
            user=campus.admin,
            equipment=eq,
            start=closed_from,
            end=closed_to,
            reason="Maintenance",
            now=NOW,
        )
    ]
    for i, user in enumerate(bookers[: THREADS - 1]):
        calls.append(booking(user, campus.research, eq, *slots[i % len(slots)], f"Essai {i}"))

    results = race(calls)

    closure_result, bookings = results[0], results[1:]
    assert closure_result.error is None, repr(closure_result.error)
    _closure, displaced = closure_result.outcome
    odd = [
        r
        for r in bookings
        if not r.won and not r.is_conflict and getattr(r.error, "code", None) != "closed"
    ]
    assert odd == [], [repr(r.error) for r in odd]
    assert overlapping_pairs() == []
    # Nothing live is left inside the closure.
    assert not Reservation.objects.filter(
        equipment=eq, status__in=LIVE_STATUSES, start__lt=closed_to, end__gt=closed_from
    ).exists()
    # Each booking that won is either outside the closure and live, or was displaced by it.
    displaced_ids = {r.pk for r in displaced}
    for result in bookings:
        if not result.won:
            continue
        (made,) = result.outcome.reservations
        made.refresh_from_db()
        if made.start < closed_to and closed_from < made.end:
            assert made.status == ReservationStatus.DISPLACED
            assert made.pk in displaced_ids
        else:
            assert made.status == ReservationStatus.CONFIRMED
    # The slot before the closure overlaps nothing else: somebody got it. (The slot
    # after it may have lost to the straddling one, displaced since.)
    assert (far(8), far(10)) in {(r.start, r.end) for r in live_rows(eq)}


# --- The database's own guarantee, without the service ------------------------------------


def insert(
    campus,
    start: datetime,
    end: datetime,
    *,
    status: str = ReservationStatus.CONFIRMED,
    equipment: Any = None,
    blocked_until: datetime | None = None,
) -> Reservation:
    return reservation_row(
        campus,
        start,
        0,
        end=end,
        equipment=equipment or campus.rheometer,
        blocked_until=blocked_until or end,
        title="Direct",
        status=status,
        priority=campus.research.kind,
        at=NOW,
    )


def test_database_refuses_overlapping_live_rows(campus):
    first = insert(campus, thu(10), thu(12))
    for start, end in [(thu(10), thu(12)), (thu(11), thu(13)), (thu(9), thu(10, 15))]:
        with pytest.raises(IntegrityError), transaction.atomic():
            insert(campus, start, end)
    # Pending holds its slot too.
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(campus, thu(11), thu(11, 30), status=ReservationStatus.PENDING)
    assert live_rows() == [first]


def test_database_allows_back_to_back_dead_and_other_equipment(campus):
    insert(campus, thu(10), thu(12))
    insert(campus, thu(12), thu(14))
    insert(campus, thu(8), thu(10), status=ReservationStatus.PENDING)
    for status in (
        ReservationStatus.CANCELLED,
        ReservationStatus.REJECTED,
        ReservationStatus.DISPLACED,
        ReservationStatus.COMPLETED,
        ReservationStatus.NO_SHOW,
    ):
        insert(campus, thu(11), thu(13), status=status)
    insert(campus, thu(11), thu(13), equipment=campus.hplc)
    assert len(live_rows(campus.rheometer)) == 3
    assert overlapping_pairs() == []


def test_database_counts_the_buffer_and_guards_updates(campus):
    insert(campus, thu(10), thu(12), blocked_until=thu(12, 30))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(campus, thu(12, 15), thu(13))
    insert(campus, thu(12, 30), thu(13))
    # A dead row cannot come back to life, nor move, over a live one.
    dead = insert(campus, thu(10), thu(11), status=ReservationStatus.CANCELLED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.filter(pk=dead.pk).update(status=ReservationStatus.CONFIRMED)
    late = insert(campus, thu(15), thu(16))
    with pytest.raises(IntegrityError), transaction.atomic():
        Reservation.objects.filter(pk=late.pk).update(start=thu(12, 45))
    assert overlapping_pairs() == []
