"""Which reservations a closure covers, and which closures touch an equipment.

`_covered_by` (reservations.services.closures) attributes each covered reservation to
the earliest closure covering it, in one sweep: tested directly on plain values and
against a brute-force search. Then closures created through the service (equipment,
site, every site) displace exactly the live reservations they overlap. Last, the
closures an equipment sees are the same in availability (reservations.api.booking),
in the booking service's facts and in the free-equipment filter (reservations.selectors).
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.models import AuditEntry
from core.roles import SYSTEM
from equipment.models import Equipment
from equipment.services import equipment_create, equipment_update
from reservations import facts as facts_module
from reservations.exceptions import BookingError
from reservations.models import Closure, Reservation, ReservationStatus
from reservations.selectors import availability, equipment_free_between
from reservations.services import reservation_create
from reservations.services.closures import ClosureSpec, _covered_by, closure_create, closures_create
from tests.conftest import reservation_row

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)  # a Monday
WED = date(2026, 12, 2)
THU = date(2026, 12, 3)
BASE = datetime(2026, 12, 2, 0, 0, tzinfo=PARIS)
CONFIRMED, DISPLACED = ReservationStatus.CONFIRMED, ReservationStatus.DISPLACED


def at(hhmm: str, day: date = WED) -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime(day.year, day.month, day.day, int(hours), int(minutes), tzinfo=PARIS)


def m(minutes: int) -> datetime:
    return BASE + timedelta(minutes=minutes)


def closures(*pairs: tuple[int, int]) -> list[Closure]:
    """Unsaved closures over minutes after BASE: `_covered_by` reads only their times."""
    return [Closure(start=m(a), end=m(b), reason=f"c{i}") for i, (a, b) in enumerate(pairs)]


def rows(*triples: tuple[int, int, int]) -> list[tuple[int, datetime, datetime]]:
    """(pk, start, end) reservation rows over minutes after BASE."""
    return [(pk, m(a), m(b)) for pk, a, b in triples]


def covered(closure_pairs, row_triples) -> dict[int, set[int]]:
    return dict(_covered_by(closures(*closure_pairs), rows(*row_triples)))


# --- _covered_by on plain values ------------------------------------------------------------


def test_nothing_to_cover():
    assert covered([], [(1, 0, 10)]) == {}
    assert covered([(0, 10)], []) == {}
    assert covered([], []) == {}


@pytest.mark.parametrize(
    ("reservation", "is_covered"),
    [
        pytest.param((100, 200), True, id="equal"),
        pytest.param((120, 180), True, id="inside"),
        pytest.param((50, 300), True, id="spanning"),
        pytest.param((50, 101), True, id="over-the-start"),
        pytest.param((199, 300), True, id="over-the-end"),
        pytest.param((50, 100), False, id="ends-at-its-start"),
        pytest.param((200, 300), False, id="starts-at-its-end"),
        pytest.param((0, 50), False, id="before"),
        pytest.param((250, 300), False, id="after"),
    ],
)
def test_one_closure(reservation, is_covered):
    result = covered([(100, 200)], [(7, *reservation)])
    assert result == ({0: {7}} if is_covered else {})


def test_a_reservation_covered_twice_belongs_to_the_earliest_closure():
    # Closures given out of order: the answer uses their positions in the input.
    result = covered(
        [(150, 300), (100, 160), (500, 600)],
        [(1, 140, 170), (2, 155, 158), (3, 200, 250), (4, 550, 560), (5, 400, 450)],
    )
    assert result == {1: {1, 2}, 0: {3}, 2: {4}}


def test_a_long_early_closure_is_found_past_later_short_ones():
    # The long closure starts first and reaches past the short ones: a reservation after
    # the short ones is still covered by it.
    result = covered(
        [(0, 1000), (100, 110), (200, 210), (300, 310)], [(1, 400, 450), (2, 205, 206)]
    )
    assert result == {0: {1, 2}}


def test_closures_with_the_same_start_go_to_the_first_given():
    result = covered([(100, 150), (100, 200), (100, 120)], [(1, 130, 140), (2, 160, 170)])
    assert result == {0: {1}, 1: {2}}


def test_many_reservations_and_closures():
    # A closure every other hour over 30 days; one-hour reservations every hour.
    hours = 24 * 30
    given = [(60 * h, 60 * h + 60) for h in range(0, hours, 2)]
    reservations = [(h, 60 * h, 60 * h + 60) for h in range(hours)]
    result = covered(given, reservations)
    assert result == {k: {2 * k} for k in range(hours // 2)}


def brute_force(given: list[tuple[int, int]], reservations) -> dict[int, set[int]]:
    answer: dict[int, set[int]] = {}
    for pk, start, end in reservations:
        hits = [(a, k) for k, (a, b) in enumerate(given) if a < end and start < b]
        if hits:
            answer.setdefault(min(hits)[1], set()).add(pk)
    return answer


@pytest.mark.parametrize("seed", range(30))
def test_covered_by_matches_brute_force(seed):
    rng = random.Random(seed)
    for _ in range(20):
        given = []
        for _k in range(rng.randrange(0, 8)):
            start = rng.randrange(0, 100)
            given.append((start, start + rng.randrange(1, 40)))
        reservations = []
        for pk in range(rng.randrange(0, 12)):
            start = rng.randrange(0, 120)
            reservations.append((pk, start, start + rng.randrange(1, 20)))
        assert covered(given, reservations) == brute_force(given, reservations), (
            given,
            reservations,
        )


# --- closures created by the service displace what they cover --------------------------------


def make(campus, equipment, start: str, end: str, *, status=CONFIRMED, **extra: Any) -> Reservation:
    """A reservation written directly: closures displace rows whatever wrote them."""
    return reservation_row(
        campus, at(start), 0, end=at(end), equipment=equipment, status=status, at=NOW, **extra
    )


def status_of(*reservations: Reservation) -> list[str]:
    by_pk = dict(
        Reservation.objects.filter(pk__in=[r.pk for r in reservations]).values_list("pk", "status")
    )
    return [by_pk[r.pk] for r in reservations]


@pytest.fixture
def twin(campus) -> Equipment:
    """A second rheometer at the rheometer's site."""
    return equipment_create(
        actor=SYSTEM,
        code="TO-RHEO-02",
        name="Rhéomètre 2",
        category=campus.rheo,
        site=campus.other_site,
    )


@pytest.mark.django_db
def test_an_equipment_closure_displaces_live_overlapping_reservations_of_that_equipment(
    campus, twin
):
    inside = make(campus, campus.rheometer, "10:00", "11:00")
    pending = make(campus, campus.rheometer, "13:00", "14:00", status=ReservationStatus.PENDING)
    over_start = make(campus, campus.rheometer, "08:00", "09:15")
    before = make(campus, campus.rheometer, "08:00", "09:00", status=ReservationStatus.CANCELLED)
    between = make(campus, campus.rheometer, "11:00", "12:00")
    touching_after = make(campus, campus.rheometer, "17:00", "18:00")
    other_equipment = make(campus, twin, "10:00", "11:00")
    dead = [
        make(campus, campus.rheometer, "10:00", "11:00", status=s)
        for s in (
            ReservationStatus.CANCELLED,
            ReservationStatus.REJECTED,
            ReservationStatus.COMPLETED,
            ReservationStatus.NO_SHOW,
            ReservationStatus.DISPLACED,
        )
    ]
    # Closed 09:00-11:00 and 12:00-17:00: the reservation between them touches both.
    closed, displaced = closures_create(
        user=campus.admin,
        equipment=campus.rheometer,
        specs=[
            ClosureSpec(start=at("12:00"), end=at("17:00"), reason="Révision"),
            ClosureSpec(start=at("09:00"), end=at("11:00"), reason="Panne"),
        ],
        now=NOW,
    )
    assert len(closed) == 2
    assert sorted(r.pk for r in displaced) == sorted([inside.pk, pending.pk, over_start.pk])
    assert status_of(inside, pending, over_start) == [DISPLACED] * 3
    assert status_of(between, touching_after, other_equipment, before) == [
        CONFIRMED,
        CONFIRMED,
        CONFIRMED,
        ReservationStatus.CANCELLED,
    ]
    assert status_of(*dead) == [r.status for r in dead]
    # Each displaced reservation names the closure that covered it.
    reasons = dict(
        AuditEntry.objects.filter(object_type="reservation", action="displace").values_list(
            "object_id", "reason"
        )
    )
    assert set(reasons) == {inside.pk, pending.pk, over_start.pk}
    assert "Panne" in reasons[inside.pk] and "Panne" in reasons[over_start.pk]
    assert "Révision" in reasons[pending.pk]


@pytest.mark.django_db
def test_a_reservation_under_two_closures_is_displaced_once_by_the_earliest(campus):
    both = make(campus, campus.rheometer, "10:00", "12:00")
    _closed, displaced = closures_create(
        user=campus.admin,
        equipment=campus.rheometer,
        specs=[
            ClosureSpec(start=at("11:00"), end=at("13:00"), reason="Seconde"),
            ClosureSpec(start=at("09:00"), end=at("10:30"), reason="Première"),
        ],
        now=NOW,
    )
    assert [r.pk for r in displaced] == [both.pk]
    (entry,) = both.audit.filter(action="displace")
    assert "Première" in entry.reason


@pytest.mark.django_db
def test_a_site_closure_displaces_at_that_site_only(campus, twin):
    rheo = make(campus, campus.rheometer, "10:00", "11:00")
    second = make(campus, twin, "10:30", "11:30")
    elsewhere = make(campus, campus.hplc, "10:00", "11:00")
    _closure, displaced = closure_create(
        user=campus.admin,
        site=campus.other_site,
        start=at("09:00"),
        end=at("12:00"),
        reason="Événement",
        now=NOW,
    )
    assert sorted(r.pk for r in displaced) == sorted([rheo.pk, second.pk])
    assert status_of(rheo, second, elsewhere) == [DISPLACED, DISPLACED, CONFIRMED]


@pytest.mark.django_db
def test_a_campus_wide_closure_displaces_everywhere(campus, twin):
    everywhere = [
        make(campus, campus.rheometer, "10:00", "11:00"),
        make(campus, twin, "11:00", "12:00"),
        make(campus, campus.hplc, "09:00", "10:00"),
    ]
    after = make(campus, campus.hplc, "12:00", "13:00")
    _closure, displaced = closure_create(
        user=campus.admin, start=at("09:30"), end=at("12:00"), reason="Pont", now=NOW
    )
    assert sorted(r.pk for r in displaced) == sorted(r.pk for r in everywhere)
    assert status_of(*everywhere, after) == [DISPLACED] * 3 + [CONFIRMED]


@pytest.mark.django_db
def test_a_closure_over_the_buffer_only_displaces_nothing(campus):
    """A closure counts against a reservation's use, not its buffer: the booking rule lets
    a reservation's buffer run into a closure, so a closure there does not displace it."""
    equipment_update(actor=SYSTEM, equipment=campus.rheometer, policy={"buffer_minutes": 30})
    buffered = make(campus, campus.rheometer, "10:00", "12:00", blocked_until=at("12:30"))
    _closure, displaced = closure_create(
        user=campus.admin,
        equipment=campus.rheometer,
        start=at("12:15"),
        end=at("14:00"),
        reason="Nettoyage",
        now=NOW,
    )
    assert displaced == []
    assert status_of(buffered) == [CONFIRMED]
    # The booking rule agrees: the same slot can be booked again with its buffer.
    Reservation.objects.filter(pk=buffered.pk).update(status=ReservationStatus.CANCELLED)
    made = reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=[campus.rheometer],
        start=at("10:00"),
        end=at("12:00"),
        title="Mesures",
        now=NOW,
    ).reservations[0]
    assert made.blocked_until == at("12:30")
    # One minute into the closure is closed.
    Reservation.objects.filter(pk=made.pk).update(status=ReservationStatus.CANCELLED)
    with pytest.raises(BookingError) as caught:
        reservation_create(
            user=campus.researcher,
            project=campus.research,
            equipment=[campus.rheometer],
            start=at("10:15"),
            end=at("12:30"),
            title="Mesures",
            now=NOW,
        )
    assert caught.value.code == "closed"


# --- which closures touch an equipment ------------------------------------------------------


@pytest.fixture
def closure_matrix(campus, twin) -> dict[str, Closure]:
    """One closure of each scope on Wednesday, each in its own hour."""

    def close(start: str, end: str, **scope: Any) -> Closure:
        return Closure.objects.create(start=at(start), end=at(end), reason="x", **scope)

    return {
        "rheometer": close("09:00", "10:00", equipment=campus.rheometer),
        "twin": close("10:00", "11:00", equipment=twin),
        "rheometer_site": close("11:00", "12:00", site=campus.other_site),
        "hplc_site": close("13:00", "14:00", site=campus.site),
        "everywhere": close("15:00", "16:00"),
        # The next day: never seen on Wednesday.
        "next_day": Closure.objects.create(
            equipment=campus.rheometer,
            start=at("09:00", THU),
            end=at("18:00", THU),
            reason="x",
        ),
    }


SEES = {
    "rheometer": {"rheometer", "rheometer_site", "everywhere"},
    "twin": {"twin", "rheometer_site", "everywhere"},
    "hplc": {"hplc_site", "everywhere"},
}


def by_code(campus, twin) -> dict[str, Equipment]:
    return {"rheometer": campus.rheometer, "twin": twin, "hplc": campus.hplc}


def names(matrix: dict[str, Closure], intervals) -> set[str]:
    found = {(s, e) for s, e in intervals}
    return {name for name, c in matrix.items() if (c.start, c.end) in found}


@pytest.mark.django_db
@pytest.mark.parametrize("which", sorted(SEES))
def test_availability_shows_the_closures_of_the_equipment_its_site_and_every_site(
    campus, twin, closure_matrix, which
):
    equipment = by_code(campus, twin)[which]
    answer = availability(equipment, at("00:00"), at("00:00", THU))
    shown = [(b["start"], b["end"]) for b in answer["busy"] if b["kind"] == "closure"]
    assert names(closure_matrix, shown) == SEES[which]
    assert len(shown) == len(SEES[which])
    # Free time is the opening hours (08:00-19:00) minus those closures.
    free = [(f["start"], f["end"]) for f in answer["free"]]
    hours = sorted((closure_matrix[n].start, closure_matrix[n].end) for n in SEES[which])
    expected, cursor = [], at("08:00")
    for start, end in hours:
        if start > cursor:
            expected.append((cursor, start))
        cursor = max(cursor, end)
    expected.append((cursor, at("19:00")))
    assert free == expected


@pytest.mark.django_db
@pytest.mark.parametrize("which", sorted(SEES))
def test_the_booking_service_sees_the_same_closures_as_availability(
    campus, twin, closure_matrix, which
):
    equipment = Equipment.objects.get(pk=by_code(campus, twin)[which].pk)
    facts = facts_module.gather(
        equipment=[equipment],
        project=campus.research,
        span_start=at("00:00"),
        span_end=at("00:00", THU),
        exclude_id=None,
        tz=PARIS,
    )
    seen = [(i.start, i.end) for i in facts.closures.get(equipment.pk, [])]
    assert names(closure_matrix, seen) == SEES[which]
    assert len(seen) == len(SEES[which])


@pytest.mark.django_db
def test_a_session_gives_each_equipment_its_own_closures(campus, twin, closure_matrix):
    items = list(Equipment.objects.filter(pk__in=[campus.rheometer.pk, campus.hplc.pk, twin.pk]))
    facts = facts_module.gather(
        equipment=items,
        project=campus.research,
        span_start=at("00:00"),
        span_end=at("00:00", THU),
        exclude_id=None,
        tz=PARIS,
    )
    for which, equipment in by_code(campus, twin).items():
        seen = [(i.start, i.end) for i in facts.closures.get(equipment.pk, [])]
        assert names(closure_matrix, seen) == SEES[which], which


@pytest.mark.django_db
def test_closures_touching_the_window_are_not_shown(campus):
    Closure.objects.create(
        equipment=campus.rheometer, start=at("06:00"), end=at("10:00"), reason="avant"
    )
    Closure.objects.create(
        site=campus.other_site, start=at("14:00"), end=at("18:00"), reason="après"
    )
    Closure.objects.create(start=at("11:00"), end=at("12:00"), reason="dedans")
    answer = availability(campus.rheometer, at("10:00"), at("14:00"))
    assert [(b["start"], b["end"]) for b in answer["busy"]] == [(at("11:00"), at("12:00"))]
    assert [(f["start"], f["end"]) for f in answer["free"]] == [
        (at("10:00"), at("11:00")),
        (at("12:00"), at("14:00")),
    ]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "end", "free"),
    [
        ("09:00", "10:00", {"twin", "hplc"}),
        ("10:00", "11:00", {"rheometer", "hplc"}),
        ("11:00", "12:00", {"hplc"}),
        ("13:00", "14:00", {"rheometer", "twin"}),
        ("15:00", "16:00", set()),
        ("16:00", "17:00", {"rheometer", "twin", "hplc"}),
        ("08:00", "09:00", {"rheometer", "twin", "hplc"}),
    ],
)
def test_the_free_filter_agrees(campus, twin, closure_matrix, start, end, free):
    equipment = by_code(campus, twin)
    found = set(
        equipment_free_between(Equipment.objects.all(), at(start), at(end)).values_list(
            "pk", flat=True
        )
    )
    assert found == {equipment[name].pk for name in free}


@pytest.mark.django_db
def test_live_reservations_only_count_as_busy_in_availability(campus):
    make(campus, campus.rheometer, "10:00", "11:00")
    make(campus, campus.rheometer, "12:00", "13:00", status=ReservationStatus.CANCELLED)
    make(campus, campus.rheometer, "14:00", "15:00", status=ReservationStatus.DISPLACED)
    answer = availability(campus.rheometer, at("00:00"), at("00:00", THU))
    assert [(b["start"], b["kind"]) for b in answer["busy"]] == [(at("10:00"), "reservation")]


@pytest.mark.django_db
def test_the_free_filter_ignores_closures_before_and_after_the_window(campus):
    Closure.objects.create(
        equipment=campus.rheometer, start=at("09:00"), end=at("10:00"), reason="a"
    )
    Closure.objects.create(
        equipment=campus.rheometer, start=at("16:00"), end=at("17:00"), reason="b"
    )
    # The availability answer agrees that 12:00-13:00 is free.
    answer = availability(campus.rheometer, at("12:00"), at("13:00"))
    assert [(f["start"], f["end"]) for f in answer["free"]] == [(at("12:00"), at("13:00"))]
    free = equipment_free_between(Equipment.objects.all(), at("12:00"), at("13:00"))
    assert campus.rheometer.pk in set(free.values_list("pk", flat=True))


@pytest.mark.django_db
def test_the_free_filter_ignores_reservations_before_and_after_the_window(campus):
    make(campus, campus.rheometer, "08:00", "09:00")
    make(campus, campus.rheometer, "16:00", "17:00")
    answer = availability(campus.rheometer, at("12:00"), at("13:00"))
    assert [(f["start"], f["end"]) for f in answer["free"]] == [(at("12:00"), at("13:00"))]
    free = equipment_free_between(Equipment.objects.all(), at("12:00"), at("13:00"))
    assert campus.rheometer.pk in set(free.values_list("pk", flat=True))
