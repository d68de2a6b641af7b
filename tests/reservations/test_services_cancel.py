"""Cancelling a date of a session (reservations.services.changes.reservation_cancel):
with `whole_session`, "this" cancels the date on every equipment, in one transaction;
without it (the API's `scope=this`), the named reservation only.

"Now" is Monday 2026-11-23 08:00 in Paris.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from core.events import reservations_changed
from core.models import AuditEntry
from core.roles import SYSTEM
from equipment.services import equipment_create
from reservations.exceptions import BookingError
from reservations.models import Reservation, ReservationStatus
from reservations.services import reservation_cancel, reservation_create

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
WED = date(2026, 12, 2)


@pytest.fixture
def session_class(campus):
    """A class on three workstations, weekly for two weeks: two dates of three rows."""
    stations = [campus.rheometer] + [
        equipment_create(
            actor=SYSTEM,
            code=f"TO-POSTE-{n}",
            name=f"Poste {n}",
            category=campus.rheo,
            site=campus.other_site,
        )
        for n in (1, 2)
    ]
    outcome = reservation_create(
        user=campus.teacher,
        project=campus.teaching,
        equipment=stations,
        start=datetime(2026, 12, 2, 9, tzinfo=PARIS),
        end=datetime(2026, 12, 2, 11, tzinfo=PARIS),
        title="TP émulsions",
        rrule="FREQ=WEEKLY;COUNT=2",
        now=NOW,
    )
    return sorted(outcome.reservations, key=lambda r: (r.start, r.pk))


@pytest.fixture
def announced():
    seen: list[tuple[str, list[int]]] = []

    def listen(sender, action, reservations, **kwargs):
        seen.append((action, sorted(r.pk for r in reservations)))

    reservations_changed.connect(listen, weak=False)
    yield seen
    reservations_changed.disconnect(listen)


def cancelled_ids() -> set[int]:
    return set(
        Reservation.objects.filter(status=ReservationStatus.CANCELLED).values_list("pk", flat=True)
    )


def test_this_date_of_a_session_cancels_every_equipment(campus, session_class, announced):
    first_date = session_class[:3]
    done = reservation_cancel(
        reservation=first_date[1],
        user=campus.teacher,
        now=NOW,
        scope="this",
        reason="grève",
        whole_session=True,
    )
    assert sorted(r.pk for r in done) == sorted(r.pk for r in first_date)
    assert cancelled_ids() == {r.pk for r in first_date}
    # One audit entry per row, one announcement for the date.
    for r in first_date:
        (entry,) = r.audit.filter(action="cancel")
        assert entry.reason == "grève"
    assert announced == [("cancelled", sorted(r.pk for r in first_date))]


def test_this_without_the_session_cancels_only_the_named_reservation(campus, session_class):
    """The API's `scope=this` keeps its meaning: one reservation, one equipment."""
    done = reservation_cancel(
        reservation=session_class[0], user=campus.teacher, now=NOW, scope="this"
    )
    assert [r.pk for r in done] == [session_class[0].pk]
    assert cancelled_ids() == {session_class[0].pk}


def test_the_rest_of_a_date_is_cancelled_when_one_equipment_already_is(campus, session_class):
    reservation_cancel(reservation=session_class[0], user=campus.teacher, now=NOW)
    done = reservation_cancel(
        reservation=session_class[1], user=campus.teacher, now=NOW, whole_session=True
    )
    assert sorted(r.pk for r in done) == sorted(r.pk for r in session_class[1:3])
    assert cancelled_ids() == {r.pk for r in session_class[:3]}


def test_a_failure_after_the_first_writes_leaves_the_whole_date_booked(
    campus, session_class, monkeypatch
):
    """One transaction in the service: a failure once the rows are written rolls them all
    back (nothing half-cancelled)."""
    import reservations.services.changes as changes

    def fail_after_writing(*args, **kwargs):
        assert Reservation.objects.filter(status=ReservationStatus.CANCELLED).count() == 3
        raise BookingError("started")

    monkeypatch.setattr(changes, "reservations_did", fail_after_writing)
    with pytest.raises(BookingError):
        reservation_cancel(
            reservation=session_class[0], user=campus.teacher, now=NOW, whole_session=True
        )
    assert cancelled_ids() == set()
    assert not AuditEntry.objects.filter(action="cancel").exists()


@pytest.mark.parametrize("whole_session", [False, True])
@pytest.mark.parametrize(("scope", "first"), [("following", 3), ("series", 0)])
def test_following_and_series_cover_every_equipment_whatever_the_flag(
    campus, session_class, scope, first, whole_session
):
    """From a row of the second date: `following` cancels that date, `series` both dates,
    on every equipment, with or without `whole_session`."""
    done = reservation_cancel(
        reservation=session_class[3],
        user=campus.teacher,
        now=NOW,
        scope=scope,
        whole_session=whole_session,
    )
    assert sorted(r.pk for r in done) == sorted(r.pk for r in session_class[first:])
    assert cancelled_ids() == {r.pk for r in session_class[first:]}


def test_another_user_may_not_cancel_a_session_date(campus, session_class):
    with pytest.raises(BookingError) as caught:
        reservation_cancel(
            reservation=session_class[0], user=campus.outsider, now=NOW, whole_session=True
        )
    assert caught.value.code == "permission_denied"
    assert cancelled_ids() == set()


@pytest.mark.parametrize("scope", ["this", "following", "series"])
def test_a_manager_of_one_workstation_cancels_only_that_workstation(campus, session_class, scope):
    """The manager of the rheometer alone, not in the class's project, acts on the
    rheometer's rows only, whatever the scope: the other workstations' rows stay."""
    campus.rheometer.managers.add(campus.eq_manager)
    rheometer_first = next(r for r in session_class if r.equipment_id == campus.rheometer.pk)
    done = reservation_cancel(
        reservation=rheometer_first,
        user=campus.eq_manager,
        now=NOW,
        scope=scope,
        whole_session=True,
    )
    assert {r.equipment_id for r in done} == {campus.rheometer.pk}
    assert cancelled_ids() == {r.pk for r in done}
    others = [r for r in session_class if r.equipment_id != campus.rheometer.pk]
    assert not cancelled_ids() & {r.pk for r in others}
