"""Each equipment's django-scheduler calendar mirrors its reservations and closures."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from schedule.models import Calendar, Event, EventRelation

from calendars import sync
from core.roles import SYSTEM
from equipment.models import Equipment
from partners.models import ProjectKind
from reservations.models import Closure, Reservation
from reservations.services import (
    closure_create,
    closure_delete,
    reservation_cancel,
    reservation_create,
    reservation_update,
)

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=PARIS)  # a Monday


@pytest.fixture(autouse=True)
def no_pending_sync():
    sync._pending.__dict__.clear()
    yield
    sync._pending.__dict__.clear()


def book(campus, start: datetime, hours: int = 2, rrule: str | None = None) -> list[Reservation]:
    return reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=[campus.rheometer],
        start=start,
        end=start + timedelta(hours=hours),
        title="Thèse confidentielle : émulsion X",
        now=NOW,
        rrule=rrule,
    ).reservations


def events_of(equipment: Equipment) -> list[Event]:
    equipment.refresh_from_db()
    return list(Event.objects.filter(calendar=equipment.calendar).order_by("start", "pk"))


def relation(event: Event) -> tuple[str, int]:
    row = EventRelation.objects.get(event=event)
    return row.distinction, row.object_id


def test_a_reservation_shows_as_busy_time_with_its_priority_only(campus):
    booked = book(campus, datetime(2026, 3, 27, 9, 0, tzinfo=PARIS))[0]
    counts = sync.sync_reservations([booked.pk])
    assert (counts.created, counts.updated, counts.deleted) == (1, 0, 0)
    [event] = events_of(campus.rheometer)
    assert (event.start, event.end) == (booked.start, booked.end)
    assert relation(event) == ("reservation", booked.pk)
    with translation.override("fr"):
        label = str(ProjectKind.RESEARCH.label)
    assert label in event.title
    assert "émulsion" not in event.title and "émulsion" not in event.description
    assert events_of(campus.hplc) == []


def test_moves_cancellations_and_completions_follow(campus):
    booked = book(campus, datetime(2026, 3, 27, 9, 0, tzinfo=PARIS))[0]
    sync.sync_reservations([booked.pk])
    moved = reservation_update(
        reservation=booked,
        user=campus.researcher,
        now=NOW,
        start=datetime(2026, 3, 30, 14, 0, tzinfo=PARIS),
        end=datetime(2026, 3, 30, 16, 0, tzinfo=PARIS),
    )
    assert sync.sync_reservations([booked.pk]).updated == 1
    [event] = events_of(campus.rheometer)
    assert (event.start, event.end) == (moved.start, moved.end)
    # Nothing changed: nothing written.
    assert sync.sync_reservations([booked.pk]).updated == 0
    Reservation.objects.filter(pk=booked.pk).update(status="completed")
    assert sync.sync_reservations([booked.pk]).deleted == 0
    assert len(events_of(campus.rheometer)) == 1
    Reservation.objects.filter(pk=booked.pk).update(status="confirmed")
    reservation_cancel(reservation=booked, user=campus.researcher, now=NOW)
    assert sync.sync_reservations([booked.pk]).deleted == 1
    assert events_of(campus.rheometer) == []
    assert not EventRelation.objects.exists()


def test_scheduler_shows_a_weekly_class_at_the_same_local_time_across_the_change(campus):
    series = book(campus, datetime(2026, 3, 24, 9, 0, tzinfo=PARIS), rrule="FREQ=WEEKLY;COUNT=3")
    sync.sync_reservations([r.pk for r in series])
    calendar = Calendar.objects.get(equipment=campus.rheometer)
    period_start = datetime(2026, 3, 16, tzinfo=PARIS)
    occurrences = []
    for event in Event.objects.filter(calendar=calendar):
        occurrences += event.get_occurrences(period_start, period_start + timedelta(days=28))
    local = sorted(o.start.astimezone(PARIS) for o in occurrences)
    assert [(d.day, d.hour) for d in local] == [(24, 9), (31, 9), (7, 9)]
    # +01:00 before the last Sunday of March, +02:00 after.
    assert [d.utcoffset() for d in local] == [timedelta(hours=1), *[timedelta(hours=2)] * 2]


def test_a_batch_costs_the_same_queries_as_a_single_reservation(campus):
    one = book(campus, datetime(2026, 3, 3, 9, 0, tzinfo=PARIS))
    many = book(
        campus,
        datetime(2026, 3, 9, 9, 0, tzinfo=PARIS),
        rrule="FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;COUNT=20",
    )
    assert len(many) == 20
    ContentType.objects.get_for_model(Reservation)  # cached from here on, as in a process

    def cost(ids: list[int]) -> int:
        with CaptureQueriesContext(connection) as queries:
            sync.sync_reservations(ids)
        return len(queries)

    created = (cost([r.pk for r in one]), cost([r.pk for r in many]))
    # Reservations, relations, events inserted, relations inserted, savepoint in and out.
    assert created == (6, 6)
    later = timedelta(minutes=15)
    Reservation.objects.update(end=F("end") + later, blocked_until=F("blocked_until") + later)
    assert (cost([r.pk for r in one]), cost([r.pk for r in many])) == (5, 5)
    Reservation.objects.update(status="cancelled")
    deleted = (cost([r.pk for r in one]), cost([r.pk for r in many]))
    assert deleted[0] == deleted[1]
    assert Event.objects.count() == 0


def test_a_closure_shows_in_every_calendar_it_closes_and_leaves_when_deleted(
    campus, django_capture_on_commit_callbacks
):
    start = datetime(2026, 4, 1, 0, 0, tzinfo=PARIS)
    with django_capture_on_commit_callbacks(execute=True):
        site_wide, _ = closure_create(
            user=campus.admin,
            site=campus.site,
            start=start,
            end=start + timedelta(days=1),
            reason="Coupure électrique",
            kind=Closure.Kind.MAINTENANCE,
            now=NOW,
        )
        everywhere, _ = closure_create(
            user=campus.admin,
            start=start + timedelta(days=2),
            end=start + timedelta(days=3),
            reason="Fermeture du campus",
            now=NOW,
        )
    assert [(e.title, e.start) for e in events_of(campus.hplc)] == [
        ("Coupure électrique", site_wide.start),
        ("Fermeture du campus", everywhere.start),
    ]
    assert [e.title for e in events_of(campus.rheometer)] == ["Fermeture du campus"]
    assert relation(events_of(campus.rheometer)[0]) == ("closure", everywhere.pk)
    with django_capture_on_commit_callbacks(execute=True):
        closure_delete(closure=everywhere, user=campus.admin)
    assert [e.title for e in events_of(campus.hplc)] == ["Coupure électrique"]
    assert events_of(campus.rheometer) == []


def test_a_closure_removes_the_reservations_it_displaces_from_the_calendar(
    campus, django_capture_on_commit_callbacks
):
    booked = book(campus, datetime(2026, 3, 27, 9, 0, tzinfo=PARIS))[0]
    sync.sync_reservations([booked.pk])
    with django_capture_on_commit_callbacks(execute=True):
        closure, displaced = closure_create(
            user=campus.admin,
            equipment=campus.rheometer,
            start=datetime(2026, 3, 27, 0, 0, tzinfo=PARIS),
            end=datetime(2026, 3, 28, 0, 0, tzinfo=PARIS),
            reason="Maintenance",
            now=NOW,
        )
    assert [r.pk for r in displaced] == [booked.pk]
    [event] = events_of(campus.rheometer)
    assert relation(event) == ("closure", closure.pk)


def test_one_transaction_is_synced_once_after_commit(campus, django_capture_on_commit_callbacks):
    start = datetime(2026, 4, 1, 0, 0, tzinfo=PARIS)
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        for day in range(3):
            closure_create(
                user=campus.admin,
                equipment=campus.hplc,
                start=start + timedelta(days=day),
                end=start + timedelta(days=day, hours=4),
                reason=f"Étalonnage {day}",
                now=NOW,
            )
    assert Event.objects.count() == 0  # nothing before the commit
    flushes = [c for c in callbacks if c is sync._flush]
    assert len(flushes) == 3
    with CaptureQueriesContext(connection) as first:
        flushes[0]()
    with CaptureQueriesContext(connection) as others:
        flushes[1]()
        flushes[2]()
    assert len(others) == 0  # the first callback synced the whole transaction
    assert len(first) > 0
    assert [e.title for e in events_of(campus.hplc)] == [
        "Étalonnage 0",
        "Étalonnage 1",
        "Étalonnage 2",
    ]


def test_a_failing_sync_never_breaks_a_closure(
    campus, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    def broken(ids):
        raise RuntimeError("calendar table locked")

    monkeypatch.setattr(sync, "sync_closures", broken)
    with (
        caplog.at_level(logging.ERROR, logger="calendars.sync"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        closure, _ = closure_create(
            user=campus.admin,
            equipment=campus.hplc,
            start=datetime(2026, 4, 1, 8, 0, tzinfo=PARIS),
            end=datetime(2026, 4, 1, 12, 0, tzinfo=PARIS),
            reason="Étalonnage",
            now=NOW,
        )
    assert Closure.objects.filter(pk=closure.pk).exists()
    assert "calendar sync failed" in caplog.text
    assert "run sync_calendars" in caplog.text


def test_sync_calendars_rebuilds_everything(campus):
    booked = book(campus, datetime(2026, 3, 27, 9, 0, tzinfo=PARIS))[0]
    cancelled = book(campus, datetime(2026, 3, 30, 9, 0, tzinfo=PARIS))[0]
    sync.sync_reservations([cancelled.pk])
    reservation_cancel(reservation=cancelled, user=campus.researcher, now=NOW)  # not synced
    closure = Closure.objects.create(
        site=campus.other_site,
        start=datetime(2026, 4, 1, tzinfo=PARIS),
        end=datetime(2026, 4, 2, tzinfo=PARIS),
        reason="Inventaire",
    )
    gone = Closure.objects.create(
        equipment=campus.hplc,
        start=datetime(2026, 4, 3, tzinfo=PARIS),
        end=datetime(2026, 4, 4, tzinfo=PARIS),
        reason="Supprimée",
    )
    sync.sync_closures([gone.pk])
    Closure.objects.filter(pk=gone.pk).delete()  # deleted behind the service's back
    # An equipment without its calendar (made outside equipment_create) gets one.
    orphan = Equipment.objects.create(
        code="CH-UV-01", name="Spectro UV", category=campus.chroma, site=campus.other_site
    )
    out = StringIO()
    with translation.override("en"):
        call_command("sync_calendars", stdout=out)
    assert out.getvalue() == ("1 calendar added; events: 3 created, 0 updated, 2 deleted.\n")
    assert [relation(e) for e in events_of(campus.rheometer)] == [
        ("reservation", booked.pk),
        ("closure", closure.pk),
    ]
    assert events_of(campus.hplc) == []
    assert [relation(e) for e in events_of(orphan)] == [("closure", closure.pk)]
    again = StringIO()
    with translation.override("en"):
        call_command("sync_calendars", stdout=again)
    assert again.getvalue() == "0 calendars added; events: 0 created, 0 updated, 0 deleted.\n"


@pytest.mark.django_db(transaction=True)
def test_new_and_moved_equipment_show_the_site_closures(campus):
    """Equipment created at a closed site, or moved to one, shows that site's closures."""
    from equipment.services import equipment_create, equipment_update
    from reservations.services import closure_create

    closure, _ = closure_create(
        user=campus.admin,
        site=campus.other_site,
        start=datetime(2026, 12, 24, 0, 0, tzinfo=PARIS),
        end=datetime(2026, 12, 26, 0, 0, tzinfo=PARIS),
        reason="Fermeture de Noël",
        now=datetime(2026, 11, 23, 8, 0, tzinfo=PARIS),
    )

    def shown(equipment) -> bool:
        return EventRelation.objects.filter(
            object_id=closure.pk, distinction="closure", event__calendar=equipment.calendar
        ).exists()

    assert shown(campus.rheometer)
    assert not shown(campus.hplc)
    fresh = equipment_create(
        actor=SYSTEM, code="TO-NEW-01", name="Nouveau", category=campus.rheo, site=campus.other_site
    )
    assert shown(fresh)
    equipment_update(actor=SYSTEM, equipment=campus.hplc, site=campus.other_site)
    campus.hplc.refresh_from_db()
    assert shown(campus.hplc)
    equipment_update(actor=SYSTEM, equipment=campus.rheometer, site=campus.site)
    campus.rheometer.refresh_from_db()
    assert not shown(campus.rheometer)
