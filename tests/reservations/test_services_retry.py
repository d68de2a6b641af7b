"""Retries and the database's last word (reservations.services.booking).

`run_in_transaction` retries deadlocks and serialisation failures (SQLSTATE 40P01,
40001; "database is locked" on SQLite) a few times, each attempt in its own atomic block,
then gives up. An overlap refused by the database itself (exclusion constraint on
PostgreSQL, trigger on SQLite) after the rules saw a free slot, which is what a lost race
looks like, answers a plain `conflict` (409), never a raw IntegrityError.

The race is forced by hiding the busy time from the fact-gathering step, and on
PostgreSQL also by a second connection that commits a conflicting row while the
service sits between its checks and its insert.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, OperationalError, connection, transaction

from core.models import AuditEntry
from core.roles import SYSTEM
from reservations import facts as facts_module
from reservations.constraints import CONSTRAINT_NAME
from reservations.exceptions import BookingError
from reservations.models import Reservation, ReservationStatus, Series, Session
from reservations.services import create as create_module
from reservations.services import records, reservation_create, reservation_update, transactions
from reservations.services.transactions import (
    is_overlap_violation as _is_overlap_violation,
)
from reservations.services.transactions import (
    is_retryable as _is_retryable,
)
from reservations.services.transactions import run_in_transaction
from tests.conftest import reservation_row

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)  # a Monday
WED = date(2026, 12, 2)
CONFIRMED = ReservationStatus.CONFIRMED
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="SQLSTATEs and row locks are PostgreSQL's; SQLite serialises writers instead",
)


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime(day.year, day.month, day.day, int(hours), int(minutes), tzinfo=PARIS)


class Cause(Exception):
    """A driver error as Django chains it (`__cause__`): psycopg 3 `sqlstate`, psycopg2
    `pgcode`, and `diag.constraint_name`."""

    def __init__(self, message: str = "", *, sqlstate=None, pgcode=None, constraint=None):
        super().__init__(message)
        if sqlstate is not None:
            self.sqlstate = sqlstate
        if pgcode is not None:
            self.pgcode = pgcode
        if constraint is not None:
            self.diag = type("Diag", (), {"constraint_name": constraint})()


def db_error(kind: type[Exception], message: str, **cause: Any) -> Exception:
    error = kind(message)
    if cause:
        error.__cause__ = Cause(message, **cause)
    return error


def deadlock() -> Exception:
    return db_error(OperationalError, "deadlock detected", sqlstate="40P01")


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The back-off pauses between attempts, recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(transactions.time_module, "sleep", slept.append)
    return slept


class Flaky:
    """Work that raises `errors` one by one on its first calls, then returns "done"."""

    def __init__(self, *errors: Exception, then=None):
        self.errors = list(errors)
        self.calls = 0
        self.then = then

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        if self.then is not None:
            self.then()
        return "done"


# --- what counts as retryable, and as an overlap -----------------------------------------


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (db_error(OperationalError, "deadlock detected", sqlstate="40P01"), True),
        (db_error(OperationalError, "could not serialize access", sqlstate="40001"), True),
        (db_error(OperationalError, "deadlock detected", pgcode="40P01"), True),
        (db_error(OperationalError, "could not serialize access", pgcode="40001"), True),
        (db_error(OperationalError, "database is locked"), True),
        (db_error(OperationalError, "canceling statement", sqlstate="57014"), False),
        (db_error(OperationalError, "lock not available", sqlstate="55P03"), False),
        (db_error(OperationalError, "server closed the connection unexpectedly"), False),
        (db_error(OperationalError, "no such table: x"), False),
    ],
)
def test_is_retryable(error, expected):
    assert _is_retryable(error) is expected


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        # PostgreSQL: psycopg names the violated constraint.
        (db_error(IntegrityError, "conflicting key value", constraint=CONSTRAINT_NAME), True),
        # SQLite: the trigger raises with the constraint's name as the message.
        (db_error(IntegrityError, CONSTRAINT_NAME), True),
        (db_error(IntegrityError, "violates check constraint", constraint="other"), False),
        (db_error(IntegrityError, "CHECK constraint failed: reservation_start_before_end"), False),
        (db_error(IntegrityError, "FOREIGN KEY constraint failed"), False),
        (db_error(IntegrityError, "UNIQUE constraint failed"), False),
    ],
)
def test_is_overlap_violation(error, expected):
    assert _is_overlap_violation(error) is expected


# --- run_in_transaction -------------------------------------------------------------------
# (each attempt opens an atomic block: the database is needed even for fake work)


@pytest.mark.django_db
def test_retries_deadlocks_and_serialisation_failures_then_succeeds(sleeps):
    work = Flaky(
        deadlock(),
        db_error(OperationalError, "could not serialize access", sqlstate="40001"),
        db_error(OperationalError, "database is locked"),
    )
    assert run_in_transaction(work) == "done"
    assert work.calls == 4
    # A growing pause between attempts.
    assert sleeps == pytest.approx([0.01, 0.02, 0.03])


@pytest.mark.django_db
@pytest.mark.parametrize("attempts", [1, 3, 5])
def test_gives_up_after_the_attempts(sleeps, attempts):
    errors = [deadlock() for _ in range(attempts + 2)]
    work = Flaky(*errors)
    with pytest.raises(OperationalError) as caught:
        run_in_transaction(work, attempts=attempts)
    assert work.calls == attempts
    assert caught.value is errors[attempts - 1]  # the last attempt's own error
    assert len(sleeps) == attempts - 1


@pytest.mark.django_db
def test_five_attempts_by_default(sleeps):
    work = Flaky(*[deadlock() for _ in range(10)])
    with pytest.raises(OperationalError):
        run_in_transaction(work)
    assert work.calls == 5


@pytest.mark.django_db
@pytest.mark.parametrize(
    "error",
    [
        db_error(OperationalError, "canceling statement", sqlstate="57014"),
        db_error(IntegrityError, CONSTRAINT_NAME),
        # Even with a retryable code, an integrity error is not retried.
        db_error(IntegrityError, "x", sqlstate="40001"),
        BookingError("conflict", "taken"),
        ValueError("a bug"),
    ],
    ids=["operational-other", "integrity", "integrity-40001", "booking-error", "other"],
)
def test_other_errors_are_not_retried(sleeps, error):
    work = Flaky(error)
    with pytest.raises(type(error)) as caught:
        run_in_transaction(work)
    assert caught.value is error
    assert work.calls == 1
    assert sleeps == []


@pytest.mark.django_db
def test_each_attempt_is_atomic_a_failed_one_leaves_nothing(sleeps, make_user):
    user = make_user("someone")
    attempts: list[int] = []

    def work() -> Series:
        attempts.append(1)
        created = Series.objects.create(rrule="FREQ=DAILY;COUNT=2", created_by=user)
        if len(attempts) == 1:
            raise deadlock()
        return created

    kept = run_in_transaction(work)
    assert list(Series.objects.values_list("pk", flat=True)) == [kept.pk]
    assert len(sleeps) == 1


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize(
    ("errcode", "retried"),
    [("serialization_failure", True), ("deadlock_detected", True), ("lock_not_available", False)],
)
def test_real_postgresql_errors_by_sqlstate(sleeps, errcode, retried):
    """Errors raised by the server itself, chained by Django as its driver gives them."""
    calls = []

    def work() -> str:
        calls.append(1)
        if len(calls) == 1:
            with connection.cursor() as cursor:
                cursor.execute(
                    f"DO $$ BEGIN RAISE EXCEPTION 'forced' USING ERRCODE = '{errcode}'; END $$"
                )
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "done"

    if retried:
        assert run_in_transaction(work) == "done"
        assert len(calls) == 2
    else:
        with pytest.raises(OperationalError):
            run_in_transaction(work)
        assert len(calls) == 1
    # The connection is still usable: the failed attempt was rolled back.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_real_deadlock_is_retried(campus, sleeps):
    """Two transactions lock two equipment rows in opposite orders: PostgreSQL aborts one
    (40P01), `run_in_transaction` runs it again once the other has committed."""
    first, second = campus.rheometer, campus.hplc
    both_hold_one = threading.Barrier(2, timeout=10)
    other_done = threading.Event()
    errors: list[BaseException] = []

    def lock(pk: int) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT id FROM equipment_equipment WHERE id = %s FOR UPDATE", [pk])

    def other() -> None:
        try:
            with transaction.atomic():
                lock(second.pk)
                both_hold_one.wait()
                lock(first.pk)
        except BaseException as error:  # reported by the test
            errors.append(error)
        finally:
            other_done.set()
            connection.close()

    attempts: list[int] = []

    def work() -> str:
        attempts.append(1)
        with connection.cursor() as cursor:
            # This session looks for deadlocks first: it is the one aborted.
            cursor.execute("SET LOCAL deadlock_timeout = '50ms'")
        if len(attempts) > 1:
            # Retried: let the other transaction (granted our row by the abort) finish,
            # or this attempt could deadlock with it again.
            assert other_done.wait(timeout=10)
        lock(first.pk)
        if len(attempts) == 1:
            both_hold_one.wait()
        lock(second.pk)
        return "done"

    thread = threading.Thread(target=other)
    thread.start()
    try:
        assert run_in_transaction(work) == "done"
    finally:
        thread.join(timeout=30)
    assert not thread.is_alive()
    assert errors == []
    assert len(attempts) == 2
    assert len(sleeps) == 1


# --- the booking service retries too ------------------------------------------------------


def book(campus, *, equipment=None, start="10:00", end="12:00", **extra: Any):
    return reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=equipment or [campus.rheometer],
        start=at(WED, start),
        end=at(WED, end),
        title="Mesures",
        now=NOW,
        **extra,
    )


def counts() -> tuple[int, int, int, int]:
    return (
        Reservation.objects.count(),
        AuditEntry.objects.filter(object_type="reservation").count(),
        Series.objects.count(),
        Session.objects.count(),
    )


@pytest.mark.django_db
def test_a_booking_that_hits_a_deadlock_is_written_once(campus, sleeps, monkeypatch):
    real = create_module.gather
    calls = []

    def flaky_gather(**kwargs: Any):
        calls.append(1)
        facts = real(**kwargs)
        if len(calls) == 1:
            raise deadlock()
        return facts

    monkeypatch.setattr(create_module, "gather", flaky_gather)
    outcome = book(campus)
    assert len(calls) == 2
    assert [r.pk for r in outcome.reservations] == list(
        Reservation.objects.values_list("pk", flat=True)
    )
    assert counts() == (1, 1, 0, 0)


@pytest.mark.django_db
def test_a_booking_gives_up_after_the_attempts_and_writes_nothing(campus, sleeps, monkeypatch):
    def always_deadlocked(**kwargs: Any):
        raise deadlock()

    monkeypatch.setattr(create_module, "gather", always_deadlocked)
    with pytest.raises(OperationalError):
        book(campus)
    assert len(sleeps) == 4
    assert counts() == (0, 0, 0, 0)


# --- an overlap the rules did not see: the database refuses it ----------------------------


@pytest.fixture
def blind(monkeypatch):
    """Make the fact-gathering step see no live reservation, as if another transaction had
    committed one right after it looked."""
    real = facts_module.busy_and_closures

    def without_reservations(*args: Any, **kwargs: Any):
        return [row for row in real(*args, **kwargs) if row[0] != 1]

    monkeypatch.setattr(facts_module, "busy_and_closures", without_reservations)


def direct(campus, equipment, start: str, end: str, **extra: Any) -> Reservation:
    """A live reservation inserted without the service."""
    extra.setdefault("status", CONFIRMED)
    return reservation_row(
        campus,
        at(WED, start),
        0,
        end=at(WED, end),
        equipment=equipment,
        project=campus.open_research,
        title="Arrivée la première",
        at=NOW,
        **extra,
    )


def assert_conflict(error: BookingError, winner: Reservation | None = None) -> None:
    assert (error.code, error.status) == ("conflict", 409)
    assert error.message
    assert isinstance(error.extra["alternatives"], list)
    if winner is not None:
        assert error.extra["conflicts"] == [{"start": winner.start, "end": winner.end}]


@pytest.mark.django_db
def test_the_database_overlap_check_backs_the_rules(campus, blind):
    """Without the rules' view of busy time, the insert itself is refused."""
    direct(campus, campus.rheometer, "11:00", "13:00")
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        records.insert_rows(
            [
                Reservation(
                    equipment=campus.rheometer,
                    project=campus.research,
                    booked_by=campus.researcher,
                    start=at(WED, "10:00"),
                    end=at(WED, "12:00"),
                    blocked_until=at(WED, "12:00"),
                    title="x",
                    status=CONFIRMED,
                    priority="research",
                    status_changed_at=NOW,
                    created_at=NOW,
                    updated_at=NOW,
                )
            ]
        )
    assert _is_overlap_violation(caught.value)


@pytest.mark.django_db
def test_a_check_constraint_is_not_an_overlap(campus):
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        direct(campus, campus.rheometer, "12:00", "11:00")
    assert not _is_overlap_violation(caught.value)


@pytest.mark.django_db
def test_database_overlap_on_a_single_booking_is_a_conflict(campus, blind, sleeps):
    winner = direct(campus, campus.rheometer, "11:00", "13:00")
    before = counts()
    with pytest.raises(BookingError) as caught:
        book(campus)
    assert_conflict(caught.value, winner)
    assert counts() == before
    assert sleeps == []  # an overlap is final: no retry


@pytest.mark.django_db
def test_database_overlap_counts_a_pending_row_and_the_buffer(campus, blind):
    pending = direct(
        campus,
        campus.rheometer,
        "08:00",
        "09:45",
        status=ReservationStatus.PENDING,
        blocked_until=at(WED, "10:15"),
    )
    with pytest.raises(BookingError) as caught:
        book(campus)
    assert caught.value.code == "conflict"
    assert list(Reservation.objects.values_list("pk", flat=True)) == [pending.pk]


@pytest.mark.django_db
def test_database_overlap_in_a_series_writes_nothing(campus, blind):
    # The third Wednesday is taken; the rules do not see it.
    winner = reservation_row(
        campus,
        at(WED + timedelta(weeks=2), "10:00"),
        60,
        project=campus.open_research,
        title="Arrivée la première",
        at=NOW,
    )
    before = counts()
    with pytest.raises(BookingError) as caught:
        book(campus, rrule="FREQ=WEEKLY;COUNT=4")
    assert (caught.value.code, caught.value.status) == ("conflict", 409)
    assert counts() == before
    assert Reservation.objects.get().pk == winner.pk


@pytest.mark.django_db
def test_database_overlap_in_a_session_writes_nothing(campus, blind):
    from equipment.services import qualification_grant

    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    direct(campus, campus.hplc, "11:00", "12:00")
    before = counts()
    with pytest.raises(BookingError) as caught:
        book(campus, equipment=[campus.rheometer, campus.hplc])
    assert (caught.value.code, caught.value.status) == ("conflict", 409)
    assert counts() == before
    assert not Reservation.objects.filter(equipment=campus.rheometer).exists()


@pytest.mark.django_db
def test_database_overlap_in_a_session_names_the_conflicting_reservation(campus, blind):
    from equipment.services import qualification_grant

    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 12, 31)
    )
    winner = direct(campus, campus.hplc, "11:00", "12:00")
    with pytest.raises(BookingError) as caught:
        book(campus, equipment=[campus.rheometer, campus.hplc])
    assert {"start": winner.start, "end": winner.end} in caught.value.extra["conflicts"]
    # The alternatives stand in for the equipment that was taken.
    assert caught.value.extra["alternatives"]
    assert all(
        a["equipment"] != campus.hplc.pk or a["start"] != winner.start
        for a in caught.value.extra["alternatives"]
    )


@pytest.mark.django_db
def test_database_overlap_on_a_move_is_a_conflict_and_changes_nothing(campus, blind):
    mine = book(campus, start="08:00", end="09:00").reservations[0]
    winner = direct(campus, campus.rheometer, "11:00", "13:00")
    before = counts()
    with pytest.raises(BookingError) as caught:
        reservation_update(
            reservation=mine,
            user=campus.researcher,
            now=NOW,
            start=at(WED, "10:00"),
            end=at(WED, "12:00"),
        )
    assert_conflict(caught.value, winner)
    mine.refresh_from_db()
    assert (mine.start, mine.end, mine.revision) == (at(WED, "08:00"), at(WED, "09:00"), 0)
    assert counts() == before


@pytest.mark.django_db
def test_another_integrity_error_is_not_turned_into_a_conflict(campus, monkeypatch):
    other = db_error(IntegrityError, "FOREIGN KEY constraint failed")

    def broken_write(*args: Any, **kwargs: Any):
        raise other

    monkeypatch.setattr(create_module, "_write", broken_write)
    with pytest.raises(IntegrityError) as caught:
        book(campus)
    assert caught.value is other


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_a_real_race_on_postgresql_answers_conflict(campus, monkeypatch):
    """Another connection commits an overlapping live reservation after the service
    gathered its facts and before it inserts: the exclusion constraint refuses the insert
    (it sees committed rows whatever the snapshot) and the service answers 409.

    The other writer revives a cancelled reservation: an UPDATE that keeps its equipment
    takes no lock on the equipment row the service holds (an INSERT would wait for it).
    """
    winner = direct(campus, campus.rheometer, "11:00", "13:00", status=ReservationStatus.CANCELLED)
    real = create_module.gather
    other_errors: list[BaseException] = []

    def revive() -> None:
        try:
            Reservation.objects.filter(pk=winner.pk).update(status=CONFIRMED)
        except BaseException as error:  # reported by the test
            other_errors.append(error)
        finally:
            connection.close()

    def gather_then_lose_the_race(**kwargs: Any):
        facts = real(**kwargs)
        thread = threading.Thread(target=revive)
        thread.start()
        thread.join(timeout=30)
        assert not thread.is_alive()
        return facts

    monkeypatch.setattr(create_module, "gather", gather_then_lose_the_race)
    with pytest.raises(BookingError) as caught:
        book(campus)
    assert other_errors == []
    winner.refresh_from_db()
    assert_conflict(caught.value, winner)
    assert list(Reservation.objects.values_list("pk", "status")) == [(winner.pk, CONFIRMED)]
    assert not AuditEntry.objects.filter(object_type="reservation").exists()


# --- a first attempt that had written rows before its deadlock ----------------------------


@pytest.fixture
def class_on_two_stations(campus):
    """The teacher (with an address, to be told) and a second workstation."""
    from equipment.services import equipment_create

    campus.teacher.email = "enseignant@example.org"
    campus.teacher.save()
    return equipment_create(
        actor=SYSTEM, code="TO-POSTE-1", name="Poste 1", category=campus.rheo, site=campus.site
    )


@pytest.mark.django_db
@pytest.mark.parametrize("when", ["after_first_insert", "after_announcing"])
def test_a_half_written_attempt_is_rolled_back_and_retried_once(
    campus,
    class_on_two_stations,
    sleeps,
    monkeypatch,
    mailoutbox,
    django_capture_on_commit_callbacks,
    when,
):
    """The first attempt writes its series, session and reservations (and, in the second
    case, their audit entries and the announcement) before a deadlock: the retry leaves one
    set of rows, one audit entry per row, and one email, not two."""
    real_insert, real_announce = create_module.insert_rows, create_module.reservations_did
    attempt_rows: list[int] = []

    def insert_then_deadlock(objects):
        inserted = real_insert(objects)
        if when == "after_first_insert" and not attempt_rows:
            attempt_rows.append(Reservation.objects.count())
            raise deadlock()
        return inserted

    def announce_then_deadlock(action, reservations, **kwargs):
        real_announce(action, reservations, **kwargs)
        if when == "after_announcing" and action == "created" and not attempt_rows:
            attempt_rows.append(AuditEntry.objects.filter(object_type="reservation").count())
            raise deadlock()

    monkeypatch.setattr(create_module, "insert_rows", insert_then_deadlock)
    monkeypatch.setattr(create_module, "reservations_did", announce_then_deadlock)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = reservation_create(
            user=campus.teacher,
            project=campus.teaching,
            equipment=[campus.rheometer, class_on_two_stations],
            start=at(WED, "09:00"),
            end=at(WED, "11:00"),
            title="TP émulsions",
            rrule="FREQ=WEEKLY;COUNT=2",
            now=NOW,
        )
    assert attempt_rows == [4]  # the first attempt had written its 4 rows (2 dates × 2)
    assert len(sleeps) == 1  # retried once
    assert counts() == (4, 4, 1, 1)
    assert sorted(r.pk for r in outcome.reservations) == sorted(
        Reservation.objects.values_list("pk", flat=True)
    )
    for reservation in outcome.reservations:
        assert (
            AuditEntry.objects.filter(
                object_type="reservation", object_id=reservation.pk, action="create"
            ).count()
            == 1
        )
    assert {r.series_id for r in outcome.reservations} == {outcome.series.pk}
    assert {r.session_id for r in outcome.reservations} == {outcome.session.pk}
    to_teacher = [m for m in mailoutbox if m.to == ["enseignant@example.org"]]
    assert len(to_teacher) == 1, [m.subject for m in mailoutbox]
