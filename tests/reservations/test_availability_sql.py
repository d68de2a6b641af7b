"""The raw read of availability (reservations.selectors.busy_rows) gives the rows of the
querysets it replaces: `Reservation.objects.overlapping(..., buffers=True)` of live
statuses and `Closure.objects.touching(...).during(...)`, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.roles import SYSTEM
from equipment.services import equipment_create
from reservations.models import LIVE_STATUSES, Closure, Reservation, ReservationStatus
from reservations.selectors import BUSY_CLOSURE, BUSY_RESERVATION, busy_rows
from tests.conftest import reservation_row

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=PARIS)


def orm_rows(ids, site_ids, start, end):
    """What the ORM answers, shaped as busy_rows'."""
    reservations = [
        (BUSY_RESERVATION, eq, None, s, e, b, p)
        for eq, s, e, b, p in Reservation.objects.overlapping(start, end, buffers=True)
        .filter(equipment_id__in=ids, status__in=LIVE_STATUSES)
        .order_by("start", "id")
        .values_list("equipment_id", "start", "end", "blocked_until", "priority")
    ]
    closures = [
        (BUSY_CLOSURE, eq, site, s, e, e, "")
        for eq, site, s, e in Closure.objects.touching(equipment_ids=ids, site_ids=site_ids)
        .during(start, end)
        .order_by("start", "id")
        .values_list("equipment_id", "site_id", "start", "end")
    ]
    return reservations + closures


@pytest.fixture
def scene(campus):
    """Reservations in and around a day, with and without buffers, of live and other
    statuses, on two equipment of the asked ones and one not asked; closures of an asked
    equipment, of another, of each site and of the whole campus."""
    other = equipment_create(
        actor=SYSTEM, code="TO-X", name="Poste X", category=campus.rheo, site=campus.other_site
    )
    hidden = equipment_create(
        actor=SYSTEM, code="TO-Y", name="Poste Y", category=campus.rheo, site=campus.site
    )
    rows = [
        # equipment, start, minutes, buffer minutes, status
        (campus.rheometer, at(2, 9), 60, 0, ReservationStatus.CONFIRMED),
        (campus.rheometer, at(2, 11), 60, 30, ReservationStatus.PENDING),
        (campus.rheometer, at(2, 14), 60, 0, ReservationStatus.CANCELLED),
        (other, at(1, 23), 30, 60, ReservationStatus.CONFIRMED),  # its buffer only
        (campus.rheometer, at(1, 23), 60, 0, ReservationStatus.CONFIRMED),  # ends at the start
        (other, at(3, 0), 60, 0, ReservationStatus.CONFIRMED),  # starts at the end
        (campus.rheometer, at(2, 23), 120, 0, ReservationStatus.CONFIRMED),  # across the end
        (other, at(2, 9), 60, 15, ReservationStatus.CONFIRMED),
        (other, at(2, 11), 30, 0, ReservationStatus.NO_SHOW),
        (hidden, at(2, 9), 60, 0, ReservationStatus.CONFIRMED),
    ]
    for equipment, start, minutes, buffer, status in rows:
        end = start + timedelta(minutes=minutes)
        reservation_row(
            campus,
            start,
            minutes,
            equipment=equipment,
            blocked_until=end + timedelta(minutes=buffer),
            status=status,
        )
    Closure.objects.create(equipment=campus.rheometer, start=at(2, 13), end=at(2, 14), reason="a")
    Closure.objects.create(equipment=hidden, start=at(2, 13), end=at(2, 14), reason="b")
    Closure.objects.create(site=campus.site, start=at(2, 16), end=at(2, 17), reason="c")
    Closure.objects.create(site=campus.other_site, start=at(2, 7), end=at(2, 8), reason="d")
    Closure.objects.create(start=at(2, 18), end=at(2, 19), reason="e")
    Closure.objects.create(start=at(1, 18), end=at(2, 0), reason="f")  # ends at start
    Closure.objects.create(start=at(1, 18), end=at(2, 0, 30), reason="g")
    return [campus.rheometer, other]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (at(2, 0), at(3, 0)),
        (at(2, 9, 15), at(2, 9, 45)),
        (at(1, 0), at(8, 0)),
        (at(2, 12), at(2, 12)),  # an empty window
    ],
)
def test_busy_rows_are_the_querysets_rows(scene, start, end):
    ids = [e.pk for e in scene]
    for site_ids in ({e.site_id for e in scene}, {scene[0].site_id}, set()):
        assert busy_rows(ids, site_ids, start, end) == orm_rows(ids, site_ids, start, end)
    assert busy_rows(ids[:1], set(), start, end) == orm_rows(ids[:1], set(), start, end)


def test_busy_rows_give_aware_instants(scene):
    rows = busy_rows([e.pk for e in scene], {scene[0].site_id}, at(2, 0), at(3, 0))
    kinds = [row[0] for row in rows]
    assert kinds == sorted(kinds) and set(kinds) == {BUSY_RESERVATION, BUSY_CLOSURE}
    assert all(row[i].utcoffset() == timedelta(0) for row in rows for i in (3, 4, 5))
    assert busy_rows([], {scene[0].site_id}, at(2, 0), at(3, 0)) == []


def test_availability_facts_read_as_the_queryset(scene, campus):
    from equipment.models import Equipment
    from equipment.services import equipment_update
    from reservations.selectors import AVAILABILITY_FIELDS, availability_facts

    equipment_update(
        actor=SYSTEM,
        equipment=scene[1],
        requires_check_in=True,
        policy={"buffer_minutes": 30, "opening_hours": {"mon": [["07:00", "12:00"]]}},
    )
    ids = [*(e.pk for e in scene), campus.hplc.pk, 999_999]
    found = {e.pk: e for e in availability_facts(ids)}
    expected = {e.pk: e for e in Equipment.objects.filter(pk__in=ids)}
    assert set(found) == set(expected) == set(ids[:-1])
    for pk, item in expected.items():
        for name in AVAILABILITY_FIELDS:
            field = Equipment._meta.get_field(name)
            read = "pk" if name == "id" else field.attname
            assert getattr(found[pk], read) == getattr(item, field.attname), name
        assert found[pk].policy == item.policy
    assert found[scene[1].pk].policy_overrides["buffer_minutes"] == 30
    assert found[scene[1].pk].requires_check_in is True
    assert found[campus.hplc.pk].requires_check_in is False
    assert availability_facts([]) == []
