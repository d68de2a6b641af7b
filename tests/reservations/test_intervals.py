"""Interval arithmetic of the rules (reservations.rules.merge and subtract), without a database.

Availability, free slots and opening hours are built on these two functions: a union of
busy time and the open time left once busy time is taken out. Hand-written edge cases
first, then random small cases checked against a brute-force set of minutes.
"""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

import pytest

from reservations.rules import Interval, merge, subtract

BASE = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)


def iv(start: int, end: int) -> Interval:
    """An interval in minutes after BASE."""
    return Interval(BASE + timedelta(minutes=start), BASE + timedelta(minutes=end))


def ivs(*pairs: tuple[int, int]) -> list[Interval]:
    return [iv(a, b) for a, b in pairs]


def minutes(intervals: list[Interval]) -> set[int]:
    """The set of whole minutes the intervals cover (brute force)."""
    covered: set[int] = set()
    for item in intervals:
        first = int((item.start - BASE).total_seconds() // 60)
        last = int((item.end - BASE).total_seconds() // 60)
        covered.update(range(first, last))
    return covered


def assert_normalised(result: list[Interval], *, strict: bool) -> None:
    """Sorted, each non-empty, disjoint; `strict`: separated too (no touching pieces)."""
    for item in result:
        assert item.start < item.end, item
    for before, after in itertools.pairwise(result):
        if strict:
            assert before.end < after.start, (before, after)
        else:
            assert before.end <= after.start, (before, after)


# --- merge ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        pytest.param([], [], id="empty"),
        pytest.param([(10, 20)], [(10, 20)], id="single"),
        pytest.param([(10, 20), (30, 40)], [(10, 20), (30, 40)], id="apart"),
        pytest.param([(30, 40), (10, 20)], [(10, 20), (30, 40)], id="apart-unsorted"),
        pytest.param([(10, 20), (20, 30)], [(10, 30)], id="touching"),
        pytest.param([(20, 30), (10, 20)], [(10, 30)], id="touching-unsorted"),
        pytest.param([(10, 40), (15, 20)], [(10, 40)], id="nested"),
        pytest.param([(15, 20), (10, 40)], [(10, 40)], id="nested-unsorted"),
        pytest.param([(10, 30), (20, 40)], [(10, 40)], id="overlapping"),
        pytest.param([(10, 20), (10, 20)], [(10, 20)], id="duplicate"),
        pytest.param([(10, 20), (10, 30)], [(10, 30)], id="same-start-longer-second"),
        pytest.param([(10, 30), (10, 20)], [(10, 30)], id="same-start-shorter-second"),
        pytest.param(
            [(10, 100), (20, 30), (40, 50), (90, 120)], [(10, 120)], id="long-first-swallows"
        ),
        pytest.param(
            [(50, 60), (0, 5), (5, 10), (30, 45), (40, 52), (70, 80)],
            [(0, 10), (30, 60), (70, 80)],
            id="chain",
        ),
    ],
)
def test_merge(given, expected):
    result = merge(ivs(*given))
    assert result == ivs(*expected)
    assert_normalised(result, strict=True)


def test_merge_accepts_any_iterable_and_leaves_the_input_alone():
    given = ivs((30, 40), (10, 35))
    copy = list(given)
    assert merge(iter(given)) == ivs((10, 40))
    assert merge(tuple(given)) == ivs((10, 40))
    assert given == copy


def test_merge_of_many_intervals():
    # 500 ten-minute intervals every 15 minutes, shuffled, plus bridges over every
    # fifth gap: 100 runs of five intervals each.
    rng = random.Random(7)
    items = [iv(15 * n, 15 * n + 10) for n in range(500)]
    items += [iv(15 * n + 10, 15 * n + 15) for n in range(500) if n % 5 != 4]
    rng.shuffle(items)
    result = merge(items)
    assert result == [iv(75 * k, 75 * k + 70) for k in range(100)]


# --- subtract ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("intervals", "holes", "expected"),
    [
        pytest.param([], [(10, 20)], [], id="nothing-to-cut"),
        pytest.param([(10, 20)], [], [(10, 20)], id="no-holes"),
        pytest.param([], [], [], id="both-empty"),
        pytest.param([(10, 20)], [(0, 5)], [(10, 20)], id="hole-before"),
        pytest.param([(10, 20)], [(25, 30)], [(10, 20)], id="hole-after"),
        pytest.param([(10, 20)], [(0, 10)], [(10, 20)], id="hole-touching-start"),
        pytest.param([(10, 20)], [(20, 30)], [(10, 20)], id="hole-touching-end"),
        pytest.param([(10, 20)], [(5, 15)], [(15, 20)], id="hole-over-start"),
        pytest.param([(10, 20)], [(15, 25)], [(10, 15)], id="hole-over-end"),
        pytest.param([(10, 20)], [(12, 14)], [(10, 12), (14, 20)], id="hole-inside"),
        pytest.param([(10, 20)], [(10, 20)], [], id="hole-equal"),
        pytest.param([(10, 20)], [(0, 30)], [], id="hole-spanning"),
        pytest.param([(10, 20)], [(10, 12)], [(12, 20)], id="hole-at-start"),
        pytest.param([(10, 20)], [(18, 20)], [(10, 18)], id="hole-at-end"),
        pytest.param(
            [(10, 20), (30, 40), (50, 60)], [(15, 55)], [(10, 15), (55, 60)], id="spanning-several"
        ),
        pytest.param(
            [(10, 20), (30, 40)], [(20, 30)], [(10, 20), (30, 40)], id="hole-between-touching-both"
        ),
        pytest.param(
            [(0, 100)],
            [(80, 90), (10, 20), (40, 50)],
            [(0, 10), (20, 40), (50, 80), (90, 100)],
            id="unsorted-holes",
        ),
        pytest.param(
            [(0, 100)],
            [(10, 30), (20, 40), (40, 45), (60, 70), (65, 68)],
            [(0, 10), (45, 60), (70, 100)],
            id="overlapping-touching-and-nested-holes",
        ),
        pytest.param(
            [(0, 10), (20, 30), (40, 50)],
            [(45, 48), (5, 25), (0, 1)],
            [(1, 5), (25, 30), (40, 45), (48, 50)],
            id="holes-over-several-unsorted",
        ),
        pytest.param(
            # A long hole reaching past short ones: later intervals must still see it.
            [(0, 10), (20, 30), (40, 50), (60, 70)],
            [(5, 65), (22, 24)],
            [(0, 5), (65, 70)],
            id="long-hole-over-short-ones",
        ),
        pytest.param([(0, 10), (10, 20)], [(5, 15)], [(0, 5), (15, 20)], id="touching-intervals"),
    ],
)
def test_subtract(intervals, holes, expected):
    given_holes = ivs(*holes)
    result = subtract(ivs(*intervals), given_holes)
    assert result == ivs(*expected)
    assert_normalised(result, strict=False)


def test_subtract_accepts_a_generator_of_holes():
    holes = (h for h in ivs((12, 14), (16, 18)))
    assert subtract(ivs((10, 20)), holes) == ivs((10, 12), (14, 16), (18, 20))


def test_subtract_many_intervals_and_holes():
    # Open 08:00-19:00 for 60 days, a 30-minute booking at every even hour, shuffled.
    days = 60
    opening = [iv(1440 * d + 480, 1440 * d + 1140) for d in range(days)]
    holes = [iv(1440 * d + 60 * h, 1440 * d + 60 * h + 30) for d in range(days) for h in range(24)]
    holes = holes[::2]
    random.Random(3).shuffle(holes)
    result = subtract(opening, holes)
    # Booked from h:00 to h:30 at every even hour: free from h:30 to the next even hour.
    expected = [
        iv(1440 * d + 60 * h + 30, 1440 * d + min(60 * h + 120, 1140))
        for d in range(days)
        for h in range(8, 19, 2)
    ]
    assert result == expected
    assert minutes(result) == minutes(opening) - minutes(holes)


# --- random cases against a set of minutes --------------------------------------------------


def random_intervals(rng: random.Random, count: int, span: int = 60) -> list[Interval]:
    items = []
    for _ in range(count):
        start = rng.randrange(0, span)
        items.append(iv(start, start + rng.randrange(1, 15)))
    return items


def random_disjoint(rng: random.Random, span: int = 60) -> list[Interval]:
    """Sorted disjoint (possibly touching) intervals, as `subtract` expects them."""
    cuts = sorted(rng.sample(range(span + 1), rng.randrange(0, 9) * 2))
    pairs = list(zip(cuts[::2], cuts[1::2], strict=True))
    if pairs and rng.random() < 0.3:
        # Split one interval in two touching halves.
        k = rng.randrange(len(pairs))
        a, b = pairs[k]
        if b - a >= 2:
            middle = rng.randrange(a + 1, b)
            pairs[k : k + 1] = [(a, middle), (middle, b)]
    return [iv(a, b) for a, b in pairs]


@pytest.mark.parametrize("seed", range(40))
def test_merge_matches_brute_force(seed):
    rng = random.Random(seed)
    for _ in range(25):
        items = random_intervals(rng, rng.randrange(0, 12))
        result = merge(items)
        assert minutes(result) == minutes(items), items
        assert_normalised(result, strict=True)
        # Idempotent.
        assert merge(result) == result


@pytest.mark.parametrize("seed", range(40))
def test_subtract_matches_brute_force(seed):
    rng = random.Random(1000 + seed)
    for _ in range(25):
        intervals = random_disjoint(rng)
        holes = random_intervals(rng, rng.randrange(0, 10))
        rng.shuffle(holes)
        result = subtract(intervals, holes)
        assert minutes(result) == minutes(intervals) - minutes(holes), (intervals, holes)
        assert_normalised(result, strict=False)
        # Every piece lies inside one of the given intervals, outside every hole.
        for piece in result:
            assert any(i.start <= piece.start and piece.end <= i.end for i in intervals)
            assert not any(piece.overlaps(h) for h in holes)
