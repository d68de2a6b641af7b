"""The feeds' written SQL (calendars/rows.py) answers what the ORM's definitions answer.

Run on SQLite and on PostgreSQL (DATABASE_URL): the statements have a branch for each.
The data puts a reservation on every edge of the window, of the statuses and of the
buffers, and closures of the equipment, of its site, of another site and of all sites.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from calendars import rows
from calendars.events import EquipmentHead
from calendars.feeds import (
    CANCELLED_KEPT,
    ENDED_STATUSES,
    SHOWN_STATUSES,
    feed_queryset,
    feed_reservations,
    window,
)
from calendars.models import FeedState
from equipment.models import Equipment
from partners.services import feed_token_for
from reservations.models import Closure
from tests.conftest import reservation_row

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 16, 8, 0, 30, 250_000, tzinfo=PARIS)
LOW, HIGH = window(NOW)


@pytest.fixture(autouse=True)
def frozen(monkeypatch):
    monkeypatch.setattr("calendars.views.timezone.now", lambda: NOW)


@pytest.fixture
def data(campus):
    """Reservations on the edges of what a feed shows, on two equipment, by several
    people of several projects; closures everywhere."""
    # Rows written directly (no booking rules), on the edges of the window and statuses.
    hour = timedelta(hours=1)
    cases = [
        # (start, minutes, extra fields)
        (NOW + timedelta(days=1), 90, {}),
        (NOW + timedelta(days=2, microseconds=700_000), 60, {"title": "Micro; secondes"}),
        (LOW - hour, 60, {}),  # ends before the window
        # (past ones that overlap are completed: no live overlap on one equipment)
        (LOW - hour, 60, {"blocked_until": LOW + hour, "status": "completed"}),  # buffer only
        (LOW - hour, 120, {"status": "no_show"}),  # ends inside the window
        (LOW, 30, {"status": "completed"}),  # starts on its first instant
        (HIGH - hour, 60, {}),  # ends on its last instant
        (HIGH, 60, {}),  # starts on its end: out
        (NOW + timedelta(days=3), 60, {"status": "pending"}),
        (NOW + timedelta(days=4), 60, {"status": "completed", "revision": 3}),
        (NOW + timedelta(days=5), 60, {"status": "no_show"}),
        (NOW + timedelta(days=6), 60, {"status": "cancelled", "at": NOW - timedelta(days=29)}),
        (NOW + timedelta(days=7), 60, {"status": "rejected", "at": NOW - timedelta(days=31)}),
        (NOW + timedelta(days=8), 60, {"status": "displaced", "at": NOW - CANCELLED_KEPT}),
        (NOW + timedelta(days=9), 60, {"equipment": campus.hplc}),
        (
            NOW + timedelta(days=10),
            60,
            {
                "project": campus.confidential,
                "priority": "industrial",
                "booked_by": campus.industrial,
            },
        ),
        (
            NOW + timedelta(days=11),
            60,
            {
                "project": campus.teaching,
                "priority": "pedagogical",
                "booked_by": campus.teacher,
                "equipment": campus.hplc,
            },
        ),
        (
            NOW + timedelta(days=12),
            60,
            {
                "project": campus.confidential,
                "priority": "industrial",
                "booked_by": campus.researcher,
            },
        ),
    ]
    made = [reservation_row(campus, start, minutes, **extra) for start, minutes, extra in cases]
    campus.open_research.members.add(campus.outsider)
    reservation_row(campus, NOW + timedelta(days=13), 60, project=campus.open_research)

    def close(start, end, **where):
        return Closure.objects.create(start=start, end=end, reason="Fermé", **where)

    close(NOW + timedelta(days=20), NOW + timedelta(days=21), equipment=campus.rheometer)
    close(NOW + timedelta(days=22), NOW + timedelta(days=23), site=campus.other_site)
    close(NOW + timedelta(days=24), NOW + timedelta(days=25), site=campus.site)
    close(NOW + timedelta(days=26), NOW + timedelta(days=26, microseconds=1))  # all sites
    close(NOW + timedelta(days=27), NOW + timedelta(days=28), equipment=campus.hplc)
    close(LOW - timedelta(days=1), LOW)  # ends as the window starts: out
    close(LOW - timedelta(days=1), LOW + timedelta(seconds=1))
    close(HIGH, HIGH + timedelta(days=1))  # starts as it ends: out
    return made


def by_sql(by: str, value: int, equipment: EquipmentHead | None = None) -> list[tuple]:
    return rows.reservation_rows(
        by,
        value,
        low=LOW,
        high=HIGH,
        kept_since=NOW - CANCELLED_KEPT,
        shown=SHOWN_STATUSES,
        ended=ENDED_STATUSES,
        equipment=equipment,
    )


def by_orm(by: str, value: int) -> list[tuple]:
    return list(feed_reservations(feed_queryset(by, value), NOW))


def test_reservation_rows_equal_the_orms(campus, data):
    cases = [
        (rows.BY_EQUIPMENT, campus.rheometer.pk),
        (rows.BY_EQUIPMENT, campus.hplc.pk),
        (rows.BY_PROJECT, campus.research.pk),
        (rows.BY_PROJECT, campus.confidential.pk),
        (rows.BY_PARTNER, campus.orleans.pk),
        (rows.BY_PARTNER, campus.servier.pk),
    ]
    cases += [(rows.BY_USER, user.pk) for user in get_user_model().objects.all()]
    for by, value in cases:
        expected = by_orm(by, value)
        assert by_sql(by, value) == expected, (by, value)
    # The buffer-only, the too old and too late, the long-ago ended ones are left out.
    assert len(by_orm(rows.BY_EQUIPMENT, campus.rheometer.pk)) == 13
    assert len(by_orm(rows.BY_USER, campus.outsider.pk)) == 1


def test_an_equipment_feeds_rows_fill_in_its_equipment(campus, data):
    for equipment in (campus.rheometer, campus.hplc):
        head = EquipmentHead.of(Equipment.objects.select_related("site").get(pk=equipment.pk))
        expected = by_orm(rows.BY_EQUIPMENT, equipment.pk)
        assert by_sql(rows.BY_EQUIPMENT, equipment.pk, head) == expected
        assert rows.equipment_head(equipment.pk) == head


def orm_closures(equipment) -> list[tuple]:
    found = Closure.objects.touching_equipment(equipment).during(LOW, HIGH)
    return sorted(
        (c.pk, c.equipment_id, c.site_id, c.start, c.end, c.reason, c.created_at) for c in found
    )


def as_tuples(closures) -> list[tuple]:
    return sorted(
        (c.pk, c.equipment_id, c.site_id, c.start, c.end, c.reason, c.created_at) for c in closures
    )


def test_closures_equal_the_orms_read_alone_or_with_the_token(campus, data):
    key = feed_token_for(user=campus.researcher).key
    for equipment in (campus.rheometer, campus.hplc):
        expected = orm_closures(equipment)
        assert len(expected) == 4
        head = rows.equipment_head(equipment.pk)
        assert as_tuples(rows.equipment_closures(head, LOW, HIGH)) == expected
        (token,) = rows.token_candidates(
            key[:8], state_key=None, equipment_pk=equipment.pk, window=(LOW, HIGH)
        )
        assert token.equipment == head
        assert as_tuples(token.closures) == expected
        assert [c.start for c in token.closures] == sorted(c.start for c in token.closures)


def test_the_token_query_loads_the_user_the_state_and_the_equipment_as_the_orm(campus, data):
    user = campus.admin
    user.last_login = NOW
    user.save()
    key = feed_token_for(user=user).key
    FeedState.objects.create(key=f"/a|{user.pk}|en", etag='"abc"', changed_at=NOW)
    (token,) = rows.token_candidates(
        key[:8], state_key=("/a|", "|en"), equipment_pk=campus.rheometer.pk, window=(LOW, HIGH)
    )
    loaded = get_user_model().objects.get(pk=user.pk)
    fields = [f.attname for f in loaded._meta.concrete_fields]
    assert [getattr(token.user, f) for f in fields] == [getattr(loaded, f) for f in fields]
    assert token.user.is_active is True and token.user.is_staff is True
    assert token.key == key
    assert token.state is not None
    assert (token.state.etag, token.state.changed_at) == ('"abc"', NOW.astimezone(UTC))
    assert token.equipment == EquipmentHead.of(Equipment.objects.get(pk=campus.rheometer.pk))
    # No state of that key, no such equipment: None; a prefix of no token: no candidate.
    (token,) = rows.token_candidates(
        key[:8], state_key=("/b|", "|en"), equipment_pk=10**6, window=(LOW, HIGH)
    )
    assert token.state is None and token.equipment is None and token.closures == []
    assert rows.token_candidates("%_%_%_%_", state_key=None) == []


def test_ids_beyond_the_databases_integers_are_not_found(campus):
    assert rows.equipment_head(2**63) is None
    assert Equipment.objects.filter(pk=2**63).first() is None  # the ORM's answer
    key = feed_token_for(user=campus.admin).key
    (token,) = rows.token_candidates(
        key[:8], state_key=None, equipment_pk=2**70, window=(LOW, HIGH)
    )
    assert token.equipment is None
    response = Client().get(f"/calendars/equipment/{2**70}.ics?token={key}")
    assert response.status_code == 404


def test_an_equipment_feed_costs_two_queries_for_a_manager(campus, data, django_assert_num_queries):
    """The token with the reader's state, the equipment and its closures; then the
    reservations. The first read also records the reader's ETag."""
    path = f"/calendars/equipment/{campus.rheometer.pk}.ics"
    key = feed_token_for(user=campus.admin).key
    with django_assert_num_queries(3):
        first = Client().get(f"{path}?token={key}")
    assert first.status_code == 200
    with django_assert_num_queries(2):
        again = Client().get(f"{path}?token={key}")
    assert again.content == first.content
    with django_assert_num_queries(2):
        cached = Client().get(f"{path}?token={key}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert cached.status_code == 304
    # Any other reader: + 2 for what they see in full (their projects, their equipment).
    other = feed_token_for(user=campus.outsider).key
    Client().get(f"{path}?token={other}")
    with django_assert_num_queries(4):
        assert Client().get(f"{path}?token={other}").status_code == 200
