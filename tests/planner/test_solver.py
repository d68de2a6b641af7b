"""The term planner's solver on plain data (no database): known answers, displacement,
holidays, and its agreement with `reservations.rules.check_booking` on random cases."""

from __future__ import annotations

import itertools
import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from equipment.policy import effective_policy
from planner.solver import (
    UTC,
    EquipmentData,
    Problem,
    RequestData,
    Window,
    local_at,
    solve,
    verify,
)
from reservations import rules

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)  # a Monday
TUE, WED, THU = 1, 2, 3


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime(
        day.year, day.month, day.day, int(hours), int(minutes), tzinfo=PARIS
    ).astimezone(UTC)


def busy(pk: int, day: date, start: str, end: str, priority: str = "research") -> rules.Busy:
    return rules.Busy(pk, at(day, start), at(day, end), at(day, end), priority)


def problem(equipment, requests, **extra) -> Problem:
    values = {
        "now": NOW,
        "tz": PARIS,
        "term_start": date(2027, 1, 4),
        "term_end": date(2027, 1, 24),  # three weeks: Tuesdays 5, 12 and 19 January
        "equipment": {e.id: e for e in equipment},
        "requests": requests,
    }
    values.update(extra)
    return Problem(**values)


def test_small_term_is_solved_to_optimality_with_the_known_answer():
    """Hand-checked: R1 (4 h, E1 only) can only take Tuesday 08:00 on E1, its Thursday
    slot being blocked by another class in week 3; R2 (2 h, E1 or E2) then goes to E2,
    and at 08:00, the only start that neither displaces the research booking of week 2
    (10:00-12:00) nor leaves E2's teaching window (Tuesday 08:00-10:00); R3 needs E3, on
    which the booking teacher is not qualified: unplaced, with that reason."""
    plain = effective_policy({})
    windowed = effective_policy(
        {"teaching_windows": [{"weekday": "tue", "start": "08:00", "end": "10:00"}]}
    )
    e1 = EquipmentData(
        1, plain, busy=(busy(10, date(2027, 1, 21), "15:00", "16:00", "pedagogical"),)
    )
    e2 = EquipmentData(2, windowed, busy=(busy(11, date(2027, 1, 12), "10:00", "12:00"),))
    e3 = EquipmentData(3, plain, requires_qualification=True)
    requests = [
        RequestData(1, (1,), 240, (Window(TUE, 8 * 60, 12 * 60), Window(THU, 14 * 60, 18 * 60))),
        RequestData(2, (1, 2), 120, (Window(TUE, 8 * 60, 12 * 60),)),
        RequestData(3, (3,), 180, (Window(WED, 8 * 60, 12 * 60),)),
    ]
    solution = solve(problem([e1, e2, e3], requests), time_limit_seconds=10)

    assert solution.optimal
    r1, r2, r3 = solution.placements
    assert r1.placed and [(s.weekday, s.start, s.equipment) for s in r1.sessions] == [
        (TUE, 8 * 60, [1])
    ]
    assert [o[0] for o in r1.sessions[0].occurrences] == [
        at(date(2027, 1, d), "08:00") for d in (5, 12, 19)
    ]
    assert r2.placed and [(s.weekday, s.start, s.equipment) for s in r2.sessions] == [
        (TUE, 8 * 60, [2])
    ]
    assert not r3.placed and r3.reason == {"code": "not_qualified", "params": {}}
    assert solution.displaced == set()
    assert solution.objective["placed"] == 2


def test_a_request_that_fits_alone_but_not_beside_the_others_says_so():
    e1 = EquipmentData(1, effective_policy({}))
    requests = [RequestData(n, (1,), 240, (Window(TUE, 8 * 60, 12 * 60),)) for n in (1, 2)]
    solution = solve(problem([e1], requests), time_limit_seconds=5)
    assert sorted(p.placed for p in solution.placements) == [False, True]
    unplaced = next(p for p in solution.placements if not p.placed)
    assert unplaced.reason == {"code": "plan_full", "params": {}}
    assert solution.optimal


def test_research_is_displaced_only_beyond_the_preemption_notice():
    # Notice 14 days from Monday 23 November: a class on Tuesday 1 December may not
    # displace; one on Tuesday 8 December may.
    request = [RequestData(1, (1,), 120, (Window(TUE, 8 * 60, 10 * 60),))]
    near = dict(term_start=date(2026, 11, 30), term_end=date(2026, 12, 6))
    far = dict(term_start=date(2026, 12, 7), term_end=date(2026, 12, 13))

    inside = EquipmentData(
        1, effective_policy({}), busy=(busy(7, date(2026, 12, 1), "08:00", "10:00"),)
    )
    refused = solve(problem([inside], request, **near), time_limit_seconds=5)
    assert not refused.placements[0].placed
    assert refused.placements[0].reason["code"] == "conflict"

    beyond = EquipmentData(
        1, effective_policy({}), busy=(busy(8, date(2026, 12, 8), "08:00", "10:00"),)
    )
    placed = solve(problem([beyond], request, **far), time_limit_seconds=5)
    assert placed.placements[0].placed
    assert placed.displaced == {8}
    assert placed.objective["displaced_hours"] == 2.0


def test_pedagogical_bookings_are_never_displaced():
    request = [RequestData(1, (1,), 120, (Window(TUE, 8 * 60, 10 * 60),))]
    item = EquipmentData(
        1, effective_policy({}), busy=(busy(9, date(2027, 1, 12), "09:00", "11:00", "pedagogical"),)
    )
    solution = solve(problem([item], request), time_limit_seconds=5)
    assert not solution.placements[0].placed
    assert solution.placements[0].reason["code"] == "conflict"
    assert solution.displaced == set()


def test_fewer_displaced_hours_win_over_a_preferred_slot():
    """Two starts: 08:00 displaces a research hour, 10:00 does not: 10:00 it is."""
    item = EquipmentData(
        1, effective_policy({}), busy=(busy(5, date(2027, 1, 12), "08:00", "09:00"),)
    )
    request = [
        RequestData(1, (1,), 120, (Window(TUE, 8 * 60, 10 * 60), Window(TUE, 10 * 60, 12 * 60)))
    ]
    solution = solve(problem([item], request), time_limit_seconds=5)
    (placement,) = solution.placements
    assert placement.placed
    assert placement.sessions[0].start not in range(7 * 60, 9 * 60)
    assert solution.displaced == set()


def test_holidays_and_closures_are_skipped_not_failing():
    item = EquipmentData(
        1,
        effective_policy({}),
        closures=(rules.Interval(at(date(2027, 1, 19), "00:00"), at(date(2027, 1, 20), "00:00")),),
    )
    request = [RequestData(1, (1,), 120, (Window(TUE, 8 * 60, 10 * 60),))]
    solution = solve(
        problem(
            [item],
            request,
            public_holidays=frozenset({date(2027, 1, 5)}),
            school_holidays=frozenset({date(2027, 1, 12)}),
        ),
        time_limit_seconds=5,
    )
    assert not solution.placements[0].placed  # every Tuesday is a holiday or closed
    assert solution.placements[0].reason["code"] == "no_occurrence"
    kept = solve(
        problem(
            [item],
            request,
            public_holidays=frozenset({date(2027, 1, 5)}),
            school_holidays=frozenset({date(2027, 1, 12)}),
            skip_school_holidays=False,
        ),
        time_limit_seconds=5,
    )
    (placement,) = kept.placements
    assert [o[0] for o in placement.sessions[0].occurrences] == [at(date(2027, 1, 12), "08:00")]


def test_two_sessions_a_week_on_two_equipment_at_once():
    items = [EquipmentData(n, effective_policy({})) for n in (1, 2, 3)]
    request = [
        RequestData(
            1,
            (1, 2, 3),
            120,
            (Window(TUE, 8 * 60, 12 * 60), Window(THU, 8 * 60, 10 * 60)),
            count=2,
            sessions_per_week=2,
        )
    ]
    solution = solve(problem(items, request), time_limit_seconds=5)
    (placement,) = solution.placements
    assert placement.placed and len(placement.sessions) == 2
    assert all(len(s.equipment) == 2 for s in placement.sessions)
    assert placement.sessions[0].equipment == placement.sessions[1].equipment
    assert verify(problem(items, request), solution) == []


def test_a_slot_that_varies_week_by_week_avoids_each_weeks_conflict():
    item = EquipmentData(
        1,
        effective_policy({}),
        busy=(
            busy(1, date(2027, 1, 5), "08:00", "10:00", "pedagogical"),
            busy(2, date(2027, 1, 14), "08:00", "10:00", "pedagogical"),
        ),
    )
    request = [
        RequestData(
            1,
            (1,),
            120,
            (Window(TUE, 8 * 60, 10 * 60), Window(THU, 8 * 60, 10 * 60)),
            same_slot_every_week=False,
        )
    ]
    data = problem([item], request)
    solution = solve(data, time_limit_seconds=5)
    (placement,) = solution.placements
    assert placement.placed
    days = [o[0].astimezone(PARIS).date() for s in placement.sessions for o in s.occurrences]
    assert sorted(days) == [date(2027, 1, 7), date(2027, 1, 12), date(2027, 1, 19)] or sorted(
        days
    ) == [date(2027, 1, 7), date(2027, 1, 12), date(2027, 1, 21)]
    assert verify(data, solution) == []
    # Any one fixed slot would meet a class: the same request keeping its slot cannot fit.
    request[0].same_slot_every_week = False
    fixed = [RequestData(1, (1,), 120, request[0].allowed)]
    assert not solve(problem([item], fixed), time_limit_seconds=5).placements[0].placed


# --- the solver against the rules, on random small cases ----------------------------------------


def _random_policy(rng: random.Random):
    overrides: dict = {}
    if rng.random() < 0.5:
        overrides["granularity_minutes"] = 30
    if rng.random() < 0.3:
        overrides["buffer_minutes"] = 30
    if rng.random() < 0.3:
        overrides["opening_hours"] = {"tue": [["09:00", "12:00"], ["13:00", "17:00"]]}
    if rng.random() < 0.2:
        overrides["max_duration_minutes"] = 90
    return effective_policy(overrides)


def _random_case(rng: random.Random, seed: int):
    mondays = [date(2026, 12, 7) + timedelta(weeks=n) for n in range(3)]  # 7, 14, 21 Dec
    items = []
    pk = seed * 100
    for eq_id in range(1, rng.randint(1, 3) + 1):
        blocks = []
        for _ in range(rng.randint(0, 6)):
            pk += 1
            day = rng.choice(mondays) + timedelta(days=rng.choice([TUE, THU]))
            start = rng.randrange(8 * 60, 17 * 60, 15)
            length = rng.choice([30, 60, 120])
            blocks.append(
                rules.Busy(
                    pk,
                    local_at(day, start, PARIS),
                    local_at(day, start + length, PARIS),
                    local_at(day, start + length, PARIS),
                    rng.choice(["pedagogical", "research", "industrial"]),
                )
            )
        closures = ()
        if rng.random() < 0.2:
            day = rng.choice(mondays) + timedelta(days=TUE)
            closures = (rules.Interval(local_at(day, 0, PARIS), local_at(day, 24 * 60, PARIS)),)
        items.append(
            EquipmentData(
                eq_id,
                _random_policy(rng),
                requires_qualification=rng.random() < 0.15,
                busy=tuple(blocks),
                closures=closures,
            )
        )
    windows = [Window(TUE, 8 * 60, 12 * 60)]
    if rng.random() < 0.5:
        windows.append(Window(THU, 13 * 60, 18 * 60 + 30))
    request = RequestData(
        1,
        tuple(e.id for e in items),
        rng.choice([60, 90, 120, 105]),
        tuple(windows),
        count=rng.choice([1, 1, 2]),
    )
    return Problem(
        now=NOW,
        tz=PARIS,
        term_start=mondays[0],
        term_end=mondays[-1] + timedelta(days=6),
        equipment={e.id: e for e in items},
        requests=[request],
        public_holidays=frozenset({mondays[1] + timedelta(days=THU)}),
    )


def _rules_accept(data: Problem, weekday: int, start: int, items) -> bool:
    """Brute force with the rules alone: every week's occurrence on every equipment is
    accepted, or skipped as a series skips it (holiday, closure), and one at least is kept."""
    request = data.requests[0]
    kept = 0
    for monday in data.mondays():
        day = monday + timedelta(days=weekday)
        if day in data.public_holidays:
            continue
        occ_start = local_at(day, start, PARIS)
        occ_end = local_at(day, start + request.duration_minutes, PARIS)
        codes = []
        for item in items:
            facts = rules.BookingFacts(
                start=occ_start,
                end=occ_end,
                now=data.now,
                tz=PARIS,
                policy=item.policy,
                kind=request.kind,
                equipment_active=item.active,
                closures=item.closures,
                qualification_required=item.requires_qualification,
                qualified=False,
                busy=item.busy,
            )
            verdict = rules.check_booking(facts)
            codes.append(verdict.first.code if verdict.first else None)
        if "closed" in codes and all(c in (None, "closed") for c in codes):
            continue
        if any(codes):
            return False
        kept += 1
    return kept > 0


def test_the_solver_agrees_with_the_rules_on_random_small_cases():
    rng = random.Random(20261123)
    placed_cases = refused_cases = 0
    for seed in range(40):
        data = _random_case(rng, seed)
        request = data.requests[0]
        solution = solve(data, time_limit_seconds=5)
        (placement,) = solution.placements
        starts = [
            (w.weekday, minute)
            for w in request.allowed
            for minute in range(w.start, w.end - request.duration_minutes + 1, 15)
        ]
        placeable = any(
            _rules_accept(data, weekday, start, [data.equipment[e] for e in combo])
            for weekday, start in starts
            for combo in itertools.combinations(request.choices, request.count)
        )
        assert placement.placed == placeable, f"case {seed}: {placement.reason}"
        if placement.placed:
            placed_cases += 1
            assert verify(data, solution) == []
            (session,) = placement.sessions
            items = [data.equipment[e] for e in session.equipment]
            assert _rules_accept(data, session.weekday, session.start, items)
        else:
            refused_cases += 1
    # The random cases cover both answers.
    assert placed_cases >= 5 and refused_cases >= 5
