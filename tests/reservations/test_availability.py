"""Busy and free time of several equipment at once (reservations.selectors.availabilities):
the same answer as one by one, in two queries whatever the number of equipment."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from core.roles import SYSTEM
from equipment.services import equipment_create, equipment_update
from reservations.models import Closure
from reservations.selectors import availabilities, availability
from reservations.services import reservation_create

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
DAY_START = datetime(2026, 12, 2, 0, 0, tzinfo=PARIS)
DAY_END = datetime(2026, 12, 3, 0, 0, tzinfo=PARIS)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 2, hour, minute, tzinfo=PARIS)


@pytest.fixture
def ten(campus):
    """The rheometer and nine workstations, on both sites."""
    return [campus.rheometer] + [
        equipment_create(
            actor=SYSTEM,
            code=f"TO-P{n}",
            name=f"Poste {n}",
            category=campus.rheo,
            site=campus.site if n % 2 else campus.other_site,
        )
        for n in range(9)
    ]


def test_several_at_once_answer_as_one_by_one(campus, ten):
    """Reservations with a buffer, an equipment's closure, a site's closure and a
    campus-wide one each land on the right equipment only."""
    equipment_update(actor=SYSTEM, equipment=ten[1], policy={"buffer_minutes": 30})
    for item, hour in ((ten[0], 9), (ten[1], 10)):
        reservation_create(
            user=campus.researcher,
            project=campus.research,
            equipment=[item],
            start=at(hour),
            end=at(hour + 1),
            title="Mesures",
            now=NOW,
        )
    Closure.objects.create(equipment=ten[2], start=at(13), end=at(14), reason="panne")
    Closure.objects.create(site=campus.other_site, start=at(15), end=at(16), reason="alarme")
    Closure.objects.create(start=at(18), end=at(18, 30), reason="coupure")
    together = availabilities(ten, DAY_START, DAY_END)
    assert set(together) == {e.pk for e in ten}
    for item in ten:
        assert together[item.pk] == availability(item, DAY_START, DAY_END), item.code
    for item in ten:
        busy = together[item.pk]["busy"]
        closures = [b for b in busy if b["kind"] == "closure"]
        expected = 1 + (item.pk == ten[2].pk) + (item.site_id == campus.other_site.pk)
        assert len(closures) == expected, item.code
        booked = [b["kind"] for b in busy if b["kind"] != "closure"]
        assert booked == {ten[0].pk: ["reservation"], ten[1].pk: ["reservation", "buffer"]}.get(
            item.pk, []
        )
    assert together[ten[0].pk]["free"][0] == {"start": at(8), "end": at(9)}


def test_ten_equipment_cost_the_queries_of_one(campus, ten, django_assert_num_queries):
    # Reservations and closures in one round trip (selectors.busy_rows).
    with django_assert_num_queries(1):
        availabilities(ten[:1], DAY_START, DAY_END)
    with django_assert_num_queries(1):
        availabilities(ten, DAY_START, DAY_END)
