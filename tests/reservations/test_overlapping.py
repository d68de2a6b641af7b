"""Reservation.objects.overlapping(): the one window query on reservations.

On both engines it returns exactly the rows of the plain comparisons it replaces
(`start < :end AND end > :start`, or `blocked_until > :start` with buffers), at the
boundaries; on PostgreSQL it is answered by the GiST index on the held span, whatever
the history (migration 0007).
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction

from reports.services.scope import Filters, Scope, window_reservations
from reservations.models import Reservation, ReservationStatus
from tests.conftest import reservation_row

PARIS = ZoneInfo("Europe/Paris")
postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="GiST indexes and EXPLAIN plans are PostgreSQL's"
)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS)


@pytest.fixture
def rows(campus):
    """Reservations around Wednesday 2026-12-02 and the DST change of 2026-10-25."""
    row = reservation_row
    return {
        "buffered": row(campus, at("2026-12-02 10:00"), 120, blocked_until=at("2026-12-02 12:30")),
        "touching": row(campus, at("2026-12-02 12:30"), 90),
        "long": row(
            campus,
            at("2025-06-01 08:00"),
            0,
            end=at("2026-12-02 11:00"),
            blocked_until=at("2026-12-02 11:00"),
            equipment=campus.hplc,
            status=ReservationStatus.COMPLETED,
        ),
        "buffer_only": row(
            campus, at("2026-12-02 08:00"), 60, blocked_until=at("2026-12-02 09:30")
        ),
        "completed": row(campus, at("2026-12-02 14:00"), 60, status=ReservationStatus.COMPLETED),
        "cancelled": row(campus, at("2026-12-02 15:00"), 60, status=ReservationStatus.CANCELLED),
        # 01:30 to 03:30 local on the night the clocks go back: 3 hours in UTC.
        "dst": row(campus, at("2026-10-25 01:30"), 0, end=at("2026-10-25 03:30")),
        "past": row(campus, at("2016-03-01 09:00"), 60, status=ReservationStatus.COMPLETED),
    }


def names(rows, qs) -> set[str]:
    by_pk = {r.pk: name for name, r in rows.items()}
    return {by_pk[pk] for pk in qs.values_list("pk", flat=True)}


def compared(start, end, buffers):
    """The plain comparisons that `overlapping` replaces (the behaviour to keep)."""
    qs = Reservation.objects.all()
    if end is not None:
        qs = qs.filter(start__lt=end)
    if start is not None:
        qs = qs.filter(**{"blocked_until__gt" if buffers else "end__gt": start})
    return qs


WINDOWS = {
    "day": ("2026-12-02 00:00", "2026-12-03 00:00"),
    "touching-end": ("2026-12-02 12:30", "2026-12-02 14:00"),
    "buffer-only": ("2026-12-02 09:00", "2026-12-02 10:00"),
    "before-buffer": ("2026-12-02 12:00", "2026-12-02 12:30"),
    "inside-long": ("2026-12-01 00:00", "2026-12-01 01:00"),
    "empty": ("2026-12-02 10:30", "2026-12-02 10:30"),
    "reversed": ("2026-12-02 11:00", "2026-12-02 10:30"),
    "from-only": ("2026-12-02 12:00", None),
    "to-only": (None, "2026-12-02 09:00"),
    "dst-day": ("2026-10-25 00:00", "2026-10-26 00:00"),
    "dst-hour": ("2026-10-25 02:30", "2026-10-25 03:00"),
}


# On SQLite overlapping() is the plain comparisons themselves: only PostgreSQL's range
# condition has something to be compared with.
@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("buffers", [False, True], ids=["end", "buffers"])
@pytest.mark.parametrize("window", WINDOWS.values(), ids=WINDOWS.keys())
def test_overlapping_returns_the_rows_of_the_plain_comparisons(rows, window, buffers):
    start, end = (at(w) if w else None for w in window)
    got = names(rows, Reservation.objects.overlapping(start, end, buffers=buffers))
    assert got == names(rows, compared(start, end, buffers))


@pytest.mark.django_db
def test_overlapping_boundaries(rows):
    def of(start, end, **kw):
        return names(rows, Reservation.objects.overlapping(at(start), at(end), **kw))

    # Touching intervals do not overlap: [12:30, 14:00) against a booking ending at 12:30.
    assert of("2026-12-02 12:30", "2026-12-02 14:00") == {"touching"}
    # A buffer counts only when asked for.
    assert of("2026-12-02 09:00", "2026-12-02 10:00") == {"long"}
    assert of("2026-12-02 09:00", "2026-12-02 10:00", buffers=True) == {"buffer_only", "long"}
    assert of("2026-12-02 12:00", "2026-12-02 12:30") == set()
    assert of("2026-12-02 12:00", "2026-12-02 12:30", buffers=True) == {"buffered"}
    # Started a year and a half before the window, ends inside it.
    assert of("2026-12-01 00:00", "2026-12-01 01:00") == {"long"}
    # Completed and cancelled ones are there: callers choose statuses.
    assert of("2026-12-02 14:00", "2026-12-02 16:00") == {"completed", "cancelled"}
    # The DST night: the local day is 25 hours long and holds the 3-hour booking (and
    # the long one, running since 2025).
    assert of("2026-10-25 03:00", "2026-10-25 03:15") == {"dst", "long"}
    assert of("2026-10-25 00:00", "2026-10-26 00:00") == {"dst", "long"}
    assert of("2026-10-25 03:30", "2026-10-26 00:00") == {"long"}


@pytest.mark.django_db
def test_overlapping_chains_with_other_filters_and_related_managers(rows, campus):
    qs = campus.rheometer.reservations.overlapping(
        at("2026-12-02 00:00"), at("2026-12-03 00:00"), buffers=True
    ).filter(status=ReservationStatus.CONFIRMED)
    assert names(rows, qs) == {"buffered", "touching", "buffer_only"}


# Either GiST index on the held span (0007 alone, 0009 with the equipment first): both
# answer a window without the history; the planner picks by their sizes.
SPAN_INDEX = re.compile(r"(using|on) reservation_(equipment_)?held_span\b")


def plan(qs) -> str:
    """The plan of `qs` with sequential scans discouraged: tiny test tables otherwise
    always favour them."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        return qs.explain()


@postgres_only
@pytest.mark.django_db
@pytest.mark.parametrize("buffers", [False, True], ids=["end", "buffers"])
def test_overlapping_is_answered_by_the_held_span_index(rows, buffers):
    qs = Reservation.objects.overlapping(
        at("2026-12-02 00:00"), at("2026-12-03 00:00"), buffers=buffers
    )
    assert SPAN_INDEX.search(plan(qs))


@postgres_only
@pytest.mark.django_db
def test_report_window_is_answered_by_the_held_span_index(rows):
    qs = window_reservations(
        at("2026-12-01 00:00"), at("2027-01-01 00:00"), Scope(everything=True), Filters()
    )
    assert SPAN_INDEX.search(plan(qs))


@pytest.mark.django_db
def test_of_equipment_keeps_one_equipments_rows(rows, campus):
    qs = Reservation.objects.of_equipment(campus.rheometer.pk).overlapping(
        at("2026-12-02 00:00"), at("2026-12-03 00:00"), buffers=True
    )
    expected = campus.rheometer.reservations.overlapping(
        at("2026-12-02 00:00"), at("2026-12-03 00:00"), buffers=True
    )
    assert names(rows, qs) == names(rows, expected)
    assert (
        Reservation.objects.of_equipment(campus.hplc.pk).filter(equipment=campus.rheometer).count()
        == 0
    )


@postgres_only
@pytest.mark.django_db
def test_one_equipments_window_is_answered_by_the_equipment_span_index(rows, campus):
    """Compared as a bigint, the equipment and the window seek the (equipment, span) GiST
    index together; an integer parameter would leave the equipment to another index."""
    qs = Reservation.objects.of_equipment(campus.rheometer.pk).overlapping(
        at("2026-12-02 00:00"), at("2026-12-03 00:00")
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for scan in ("seqscan", "bitmapscan"):
            cursor.execute(f"SET LOCAL enable_{scan} = off")
        cursor.execute("DROP INDEX reservation_held_span")  # rolled back with the block
        text = qs.explain()
        transaction.set_rollback(True)
    assert "reservation_equipment_held_span" in text
    assert "Index Cond: ((equipment_id = " in text and "&&" in text.split("Index Cond:")[1]
