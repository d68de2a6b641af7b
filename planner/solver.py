"""The term planner's solver: plain data in, an assignment out (OR-Tools CP-SAT).

Pure code (no ORM). `planner.build` gathers the facts a booking would read (policies,
closures, live reservations, qualifications, holidays) into a `Problem`; here every
candidate occurrence is judged by `reservations.rules.check_booking` itself, so the
solver's hard constraints are the booking rules, not a second copy of them:

- a candidate is a request's weekly slot (weekday × start on the granularity, inside its
  allowed slots) on one of its equipment choices; for every week of the term its
  occurrence is skipped (public holiday, school holiday when the plan asks, closure: as
  a series skips them), refused (any other rule, or an overlap with a reservation it may
  not displace), or accepted with the research and industrial reservations it displaces;
- the model chooses, per request, `sessions_per_week` slots and `count` equipment among
  the accepted candidates, no two of the plan's bookings overlapping on one equipment
  (buffers included), and weighs lexicographically: requests fully placed ≫ displaced
  quarter hours ≫ preferences (teaching windows, occurrences lost to closures, the same
  slot every week).
"""

from __future__ import annotations

import bisect
import time as time_module
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from ortools.sat.python import cp_model

from equipment.policy import Policy
from reservations import rules

UTC = ZoneInfo("UTC")
WEEK_MINUTES = 7 * 24 * 60
MAX_TIME_LIMIT = 120.0


@dataclass(frozen=True)
class Window:
    """An allowed weekly slot of a request: weekday (0 = Monday), minutes since midnight."""

    weekday: int
    start: int
    end: int


@dataclass
class EquipmentData:
    id: int
    policy: Policy
    active: bool = True
    requires_qualification: bool = False
    closures: tuple[rules.Interval, ...] = ()
    busy: tuple[rules.Busy, ...] = ()  # live reservations, any order

    def __post_init__(self) -> None:
        self.busy = tuple(sorted(self.busy, key=lambda b: b.start))
        self._starts = [b.start for b in self.busy]
        self._longest = max((b.blocked_until - b.start for b in self.busy), default=timedelta(0))

    def busy_near(self, start: datetime, end: datetime) -> tuple[rules.Busy, ...]:
        """The reservations that may overlap [start, end): the rules see only those."""
        low = bisect.bisect_left(self._starts, start - self._longest)
        high = bisect.bisect_left(self._starts, end)
        return tuple(b for b in self.busy[low:high] if b.blocked_until > start)


@dataclass
class RequestData:
    id: int
    choices: tuple[int, ...]
    duration_minutes: int
    allowed: tuple[Window, ...]
    count: int = 1
    sessions_per_week: int = 1
    same_slot_every_week: bool = True
    kind: str = rules.PEDAGOGICAL
    is_member: bool = True
    active_from: date | None = None
    active_until: date | None = None


@dataclass
class Problem:
    now: datetime
    tz: ZoneInfo
    term_start: date
    term_end: date
    equipment: dict[int, EquipmentData]
    requests: list[RequestData]
    # The booking user's qualifications: equipment id → last valid day.
    qualified_until: dict[int, date] = field(default_factory=dict)
    public_holidays: frozenset[date] = frozenset()
    school_holidays: frozenset[date] = frozenset()
    skip_school_holidays: bool = True

    def mondays(self) -> list[date]:
        first = self.term_start - timedelta(days=self.term_start.weekday())
        weeks = (self.term_end - first).days // 7 + 1
        return [first + timedelta(weeks=n) for n in range(weeks)]


@dataclass
class Option:
    """A weekly slot on one equipment, judged week by week by the booking rules."""

    weekday: int
    start: int  # minutes since local midnight
    equipment: int
    ok: bool
    code: str | None = None  # the first rule that refused it
    occurrences: list[tuple[datetime, datetime]] = field(default_factory=list)
    weeks: list[int] = field(default_factory=list)  # the week index of each occurrence
    displace: frozenset[int] = frozenset()
    closure_skips: int = 0
    outside_teaching: int = 0


def local_at(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time (minutes since midnight; 1440 = next day)."""
    extra, minutes = divmod(minutes, 24 * 60)
    moment = datetime.combine(
        day + timedelta(days=extra), time(minutes // 60, minutes % 60), tzinfo=tz
    )
    return moment.astimezone(UTC)


def project_active(request: RequestData, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    if request.active_from and first < request.active_from:
        return False
    return not (request.active_until and last > request.active_until)


def facts_for(
    problem: Problem, request: RequestData, item: EquipmentData, start: datetime, end: datetime
) -> rules.BookingFacts:
    """What a booking of `item` over [start, end) would give the rules (facts.for_request)."""
    tz = problem.tz
    reach_end = end + timedelta(minutes=item.policy.buffer_minutes)
    last_day = (end - timedelta(microseconds=1)).astimezone(tz).date()
    until = problem.qualified_until.get(item.id)
    return rules.BookingFacts(
        start=start,
        end=end,
        now=problem.now,
        tz=tz,
        policy=item.policy,
        kind=request.kind,
        equipment_active=item.active,
        closures=tuple(c for c in item.closures if c.start < reach_end and c.end > start),
        is_member=request.is_member,
        project_active=project_active(request, start, end, tz),
        qualification_required=item.requires_qualification,
        qualified=until is not None and until >= last_day,
        school_holidays=problem.school_holidays,
        busy=item.busy_near(start, reach_end),
    )


def date_skip(problem: Problem, day: date) -> str | None:
    """Why an occurrence on `day` is skipped whatever the equipment (as a series skips it)."""
    if day in problem.public_holidays:
        return "closed"
    if problem.skip_school_holidays and day in problem.school_holidays:
        return "school_holiday"
    return None


def evaluate(
    problem: Problem,
    request: RequestData,
    weekday: int,
    start: int,
    item: EquipmentData,
    weeks: Iterable[int] | None = None,
) -> Option:
    """Judge a weekly slot on one equipment over the term's weeks (or only `weeks`)."""
    option = Option(weekday, start, item.id, ok=True)
    mondays = problem.mondays()
    displace: set[int] = set()
    tz = problem.tz
    windows = item.policy.teaching_windows
    for index in range(len(mondays)) if weeks is None else weeks:
        day = mondays[index] + timedelta(days=weekday)
        if not problem.term_start <= day <= problem.term_end or date_skip(problem, day):
            continue
        occ_start = local_at(day, start, tz)
        occ_end = local_at(day, start + request.duration_minutes, tz)
        verdict = rules.check_booking(facts_for(problem, request, item, occ_start, occ_end))
        if verdict.first is not None:
            if verdict.first.code == "closed":
                option.closure_skips += 1
                continue
            option.ok = False
            option.code = verdict.first.code
            return option
        displace.update(verdict.displace)
        option.occurrences.append((occ_start, occ_end))
        option.weeks.append(index)
        if windows and not any(
            w.start <= occ_start and occ_end <= w.end
            for w in rules.teaching_intervals(
                item.policy, occ_start, occ_end, tz, problem.school_holidays
            )
        ):
            option.outside_teaching += 1
    option.displace = frozenset(displace)
    if not option.occurrences:
        option.ok = False
        option.code = option.code or "no_occurrence"
    return option


def candidate_starts(problem: Problem, request: RequestData) -> list[tuple[int, int]]:
    """(weekday, start) pairs inside the allowed slots, on the finest grid of the choices."""
    grids = [problem.equipment[e].policy.granularity_minutes for e in request.choices]
    step = min(grids) if grids else 15
    found: set[tuple[int, int]] = set()
    for window in request.allowed:
        first = -(-window.start // step) * step
        for minute in range(first, window.end - request.duration_minutes + 1, step):
            found.add((window.weekday, minute))
    return sorted(found)


# --- the result -------------------------------------------------------------------------------


@dataclass
class Session:
    weekday: int
    start: int
    equipment: list[int]
    occurrences: list[tuple[datetime, datetime]]


@dataclass
class Placement:
    request: int
    placed: bool
    sessions: list[Session] = field(default_factory=list)
    reason: dict[str, Any] | None = None  # {code, params} when not placed


@dataclass
class Solution:
    placements: list[Placement]
    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN, MODEL_INVALID
    optimal: bool
    seconds: float
    objective: dict[str, Any]
    displaced: set[int]


# What each rule's words take as a parameter, from the equipment's policy.
def _params(code: str, policy: Policy) -> dict[str, Any]:
    known: dict[str, dict[str, Any]] = {
        "bad_granularity": {"n": policy.granularity_minutes},
        "too_short": {"n": policy.min_duration_minutes},
        "too_long": {"n": policy.max_duration_minutes},
        "beyond_horizon": {"n": policy.horizon_days.get(rules.PEDAGOGICAL, 0)},
        "too_late": {"n": policy.min_notice_minutes},
        "teaching_window": {"days": policy.teaching_release_days},
        "quota_exceeded": {"q": "0"},
    }
    return known.get(code, {})


def unplaced_reason(
    problem: Problem, request: RequestData, options: list[Option], placeable: bool
) -> dict[str, Any]:
    """Why a request was left out, as {code, params}: the furthest rule its candidates
    reached (SPEC §3 order), or the plan's other requests when it fits on its own."""
    if len(set(request.choices)) < request.count:
        return {"code": "too_few_equipment", "params": {"n": request.count}}
    if not options:
        return {"code": "no_candidate_slot", "params": {}}
    if placeable:
        return {"code": "plan_full", "params": {}}
    order = {code: n for n, code in enumerate(rules.ORDER)}
    refused = [o for o in options if not o.ok and o.code]
    if not refused:
        return {"code": "not_enough_slots", "params": {"n": request.sessions_per_week}}
    worst = max(refused, key=lambda o: order.get(o.code or "", len(order)))
    code = worst.code or "invalid"
    if code == "no_occurrence":
        return {"code": "no_occurrence", "params": {}}
    return {"code": code, "params": _params(code, problem.equipment[worst.equipment].policy)}


# --- the model --------------------------------------------------------------------------------


@dataclass
class _Unit:
    """A part of a request chosen at once: the whole term (same slot every week) or a week."""

    request: RequestData
    week: int | None
    options: list[Option]


def solve(problem: Problem, *, time_limit_seconds: float = 30.0, workers: int = 2) -> Solution:
    """Place the problem's requests; see the module's docstring for the model."""
    began = time_module.monotonic()
    weeks = len(problem.mondays())
    units: dict[int, list[_Unit]] = {}
    all_options: dict[int, list[Option]] = {}
    for request in problem.requests:
        all_options[request.id], units[request.id] = _options(problem, request, weeks)

    per_week = any(not r.same_slot_every_week for r in problem.requests)
    hint = _greedy(problem, units, per_week)
    prepared = time_module.monotonic()
    model = cp_model.CpModel()
    placed: dict[int, Any] = {}
    distinct_vars: dict[tuple[int, int, int], Any] = {}
    all_vars: list[Any] = []
    chosen: list[tuple[Any, int, Option, _Unit]] = []  # (literal, request, option, unit)
    penalties: list[Any] = []
    for request in problem.requests:
        p = model.new_bool_var(f"placed_{request.id}")
        all_vars.append(p)
        placed[request.id] = p
        request_units = units[request.id]
        if not request_units or len(set(request.choices)) < request.count:
            model.add(p == 0)
            continue
        uses = {e: model.new_bool_var(f"uses_{request.id}_{e}") for e in set(request.choices)}
        model.add(sum(uses.values()) == request.count * p)
        all_vars.extend(uses.values())
        hinted = [o for u in request_units for o in u.options if id(o) in hint]
        model.add_hint(p, bool(hinted))
        for e, var in uses.items():
            model.add_hint(var, any(o.equipment == e for o in hinted))
        distinct: dict[tuple[int, int], Any] = {}
        for unit in request_units:
            by_slot: dict[tuple[int, int], list[Option]] = defaultdict(list)
            for option in unit.options:
                by_slot[(option.weekday, option.start)].append(option)
            slot_vars = []
            for slot, options in by_slot.items():
                z = model.new_bool_var("")
                model.add_hint(z, any(id(o) in hint for o in options))
                all_vars.append(z)
                slot_vars.append(z)
                xs = []
                for option in options:
                    x = model.new_bool_var("")
                    model.add_hint(x, id(option) in hint)
                    all_vars.append(x)
                    model.add_implication(x, uses[option.equipment])
                    model.add_implication(x, z)
                    xs.append(x)
                    chosen.append((x, request.id, option, unit))
                    cost = option.outside_teaching + option.closure_skips
                    if cost:
                        penalties.append(cost * x)
                model.add(sum(xs) == request.count * z)
                if unit.week is not None:
                    if slot not in distinct:
                        distinct[slot] = model.new_bool_var("")
                        distinct_vars[(request.id, *slot)] = distinct[slot]
                        all_vars.append(distinct[slot])
                        penalties.append(distinct[slot])
                    model.add_implication(z, distinct[slot])
            model.add(sum(slot_vars) == request.sessions_per_week * p)

    # No two bookings of the plan overlap on one equipment, buffers included: a weekly
    # timeline when every request keeps its slot, else the term's (week by week).
    intervals: dict[int, list[Any]] = defaultdict(list)
    covering: dict[int, list[tuple[int, int, Any]]] = defaultdict(list)
    for x, _rid, option, unit in chosen:
        item = problem.equipment[option.equipment]
        length = unit.request.duration_minutes + item.policy.buffer_minutes
        begin = option.weekday * 24 * 60 + option.start
        weeks_of = [unit.week] if unit.week is not None else option.weeks
        for week in weeks_of if per_week else [0]:
            offset = begin + week * WEEK_MINUTES
            intervals[option.equipment].append(
                model.new_optional_fixed_size_interval_var(offset, length, x, "")
            )
            covering[option.equipment].append((offset, offset + length, x))
    for items in intervals.values():
        if len(items) > 1:
            model.add_no_overlap(items)
    # The same as linear cuts: at each start, at most one booking covers it. Redundant, but
    # it tightens the bound CP-SAT proves (and so when it may stop).
    for spans in covering.values():
        for point in {begin for begin, _end, _x in spans}:
            over = [x for begin, end, x in spans if begin <= point < end]
            if len(over) > 1:
                model.add_at_most_one(over)

    # Displaced reservations, in quarter hours.
    quarters: dict[int, int] = {}
    displaced_vars: dict[int, Any] = {}
    for x, _rid, option, _unit in chosen:
        for busy_id in option.displace:
            if busy_id not in displaced_vars:
                displaced_vars[busy_id] = model.new_bool_var(f"displaced_{busy_id}")
                all_vars.append(displaced_vars[busy_id])
                quarters[busy_id] = _busy_quarters(problem, busy_id)
            model.add_implication(x, displaced_vars[busy_id])

    max_penalty = sum(
        max((o.outside_teaching + o.closure_skips for o in u.options), default=0)
        * r.sessions_per_week
        + (len(u.options) if u.week is not None else 0)
        for r in problem.requests
        for u in units[r.id]
    )
    w_displaced = max_penalty + 1
    hinted_slots = {
        (rid, o.weekday, o.start)
        for _x, rid, o, u in chosen
        if id(o) in hint and u.week is not None
    }
    for (rid, weekday, start), var in distinct_vars.items():
        model.add_hint(var, (rid, weekday, start) in hinted_slots)
    displaced_hint = {b for _x, _r, o, _u in chosen if id(o) in hint for b in o.displace}
    for busy_id, var in displaced_vars.items():
        model.add_hint(var, busy_id in displaced_hint)
    cost = w_displaced * sum(quarters[b] * d for b, d in displaced_vars.items()) + sum(penalties)

    # Lexicographic, in two solves: first the most requests placed; then, keeping that
    # many, the fewest displaced quarter hours and the preferences. Each objective alone
    # gives CP-SAT a far tighter bound than one weighted sum of both.
    deadline = began + min(time_limit_seconds, MAX_TIME_LIMIT)
    model.maximize(sum(placed.values()))
    first = _run(model, max(0.5, (deadline - time_module.monotonic()) * 0.4), workers)
    solver, code = first
    placed_bound = first[0].best_objective_bound if _found(first[1]) else None
    if _found(first[1]):
        best = round(first[0].objective_value)
        model.clear_hints()
        for var in all_vars:
            model.add_hint(var, first[0].boolean_value(var))
        model.add(sum(placed.values()) >= best)
        model.minimize(cost)
        second = _run(model, max(0.5, deadline - time_module.monotonic()), workers)
        if _found(second[1]):
            solver = second[0]
            # Optimal only when both steps are proven.
            code = second[1] if first[1] == cp_model.OPTIMAL else cp_model.FEASIBLE
    status = solver.status_name(code)
    found = _found(code)

    placements: list[Placement] = []
    displaced: set[int] = set()
    sessions: dict[int, dict[tuple[int | None, int, int], Session]] = defaultdict(dict)
    if found:
        for x, rid, option, unit in chosen:
            if not solver.boolean_value(x):
                continue
            key = (unit.week, option.weekday, option.start)
            session = sessions[rid].setdefault(
                key, Session(option.weekday, option.start, [], list(option.occurrences))
            )
            session.equipment.append(option.equipment)
            if option.occurrences and session.occurrences != option.occurrences:
                # A session on several equipment: an occurrence closed on one is skipped.
                kept = set(session.occurrences) & set(option.occurrences)
                session.occurrences = sorted(kept)
            displaced |= option.displace
        displaced = {b for b, d in displaced_vars.items() if solver.boolean_value(d)}
    for request in problem.requests:
        ok = found and solver.boolean_value(placed[request.id])
        if ok:
            merged = _merge_sessions(list(sessions[request.id].values()))
            placements.append(Placement(request.id, True, merged))
        else:
            placeable = any(u.options for u in units[request.id]) and _fits_alone(
                units[request.id], request
            )
            reason = unplaced_reason(problem, request, all_options[request.id], placeable)
            placements.append(Placement(request.id, False, reason=reason))
    n_placed = sum(p.placed for p in placements)
    objective = {
        "requests": len(problem.requests),
        "placed": n_placed,
        "displaced_hours": round(sum(quarters.get(b, 0) for b in displaced) / 4, 2),
        "displaced_reservations": len(displaced),
        "solver_status": status,
        "value": solver.objective_value if found else None,
        "placed_bound": placed_bound,
        "judge_seconds": round(prepared - began, 2),
        "weights": {"displaced_quarter": w_displaced, "preference": 1},
        "cp_sat_seconds": round(time_module.monotonic() - prepared, 2),
        "bound": solver.best_objective_bound if found else None,
    }
    return Solution(
        placements=placements,
        status=status,
        optimal=code == cp_model.OPTIMAL,
        seconds=round(time_module.monotonic() - began, 3),
        objective=objective,
        displaced=displaced,
    )


def _found(code: Any) -> bool:
    return code in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def _run(model: cp_model.CpModel, seconds: float, workers: int) -> tuple[cp_model.CpSolver, Any]:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = seconds
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = 1
    return solver, solver.solve(model)


def _busy_quarters(problem: Problem, busy_id: int) -> int:
    for item in problem.equipment.values():
        for b in item.busy:
            if b.id == busy_id:
                return max(1, -(-int((b.end - b.start).total_seconds()) // 900))
    return 1


def _options(
    problem: Problem, request: RequestData, weeks: int
) -> tuple[list[Option], list[_Unit]]:
    """Every candidate judged by the rules, and the accepted ones grouped into units."""
    starts = candidate_starts(problem, request)
    items = [problem.equipment[e] for e in dict.fromkeys(request.choices) if e in problem.equipment]
    judged: list[Option] = []
    if request.same_slot_every_week:
        for weekday, start in starts:
            for item in items:
                judged.append(evaluate(problem, request, weekday, start, item))
        accepted = [o for o in judged if o.ok]
        return judged, ([_Unit(request, None, accepted)] if accepted else [])
    units = []
    mondays = problem.mondays()
    for week in range(weeks):
        days = [mondays[week] + timedelta(days=d) for d in range(7)]
        if not any(
            problem.term_start <= day <= problem.term_end and not date_skip(problem, day)
            for day in days
        ):
            continue  # a week of holidays: nothing to place
        week_options = []
        for weekday, start in starts:
            for item in items:
                option = evaluate(problem, request, weekday, start, item, weeks=[week])
                judged.append(option)
                # Week by week, an occurrence lost to a closure is no placement.
                if option.ok and not option.closure_skips:
                    week_options.append(option)
        if not week_options:
            return judged, []
        units.append(_Unit(request, week, week_options))
    return judged, units


def _fits_alone(units: list[_Unit], request: RequestData) -> bool:
    """Whether each unit has enough slots with `count` equipment (ignoring the plan)."""
    for unit in units:
        by_slot: dict[tuple[int, int], set[int]] = defaultdict(set)
        for option in unit.options:
            by_slot[(option.weekday, option.start)].add(option.equipment)
        enough = [s for s, eq in by_slot.items() if len(eq) >= request.count]
        if len(enough) < request.sessions_per_week:
            return False
    return bool(units)


def _merge_sessions(sessions: list[Session]) -> list[Session]:
    """Week-by-week sessions of one request as they read: in time order."""
    return sorted(sessions, key=lambda s: s.occurrences[0] if s.occurrences else (s.weekday,))


def _greedy(problem: Problem, units: dict[int, list[_Unit]], per_week: bool) -> set[int]:
    """A first solution for CP-SAT (its hint): the most constrained requests first, each
    taking free slots and the equipment that displace least. Answers the ids of the
    options taken."""
    taken: dict[int, list[tuple[int, int]]] = defaultdict(list)  # equipment → spans
    picked: set[int] = set()

    def spans(option: Option, unit: _Unit) -> list[tuple[int, int]]:
        item = problem.equipment[option.equipment]
        begin = option.weekday * 24 * 60 + option.start
        length = unit.request.duration_minutes + item.policy.buffer_minutes
        weeks = [unit.week] if unit.week is not None else option.weeks
        return [
            (begin + w * WEEK_MINUTES, begin + w * WEEK_MINUTES + length)
            for w in (weeks if per_week else [0])
        ]

    def free(option: Option, unit: _Unit) -> bool:
        return all(
            end <= a or b <= begin
            for begin, end in spans(option, unit)
            for a, b in taken[option.equipment]
        )

    order = sorted(
        problem.requests, key=lambda r: sum(len(u.options) for u in units[r.id]) or 10**9
    )
    for request in order:
        if not units[request.id]:
            continue
        mine: list[tuple[Option, _Unit]] = []
        equipment: list[int] | None = None
        for unit in units[request.id]:
            by_slot: dict[tuple[int, int], list[Option]] = defaultdict(list)
            for option in unit.options:
                by_slot[(option.weekday, option.start)].append(option)
            sessions = 0
            for group in sorted(by_slot.values(), key=lambda g: min(len(o.displace) for o in g)):
                if sessions == request.sessions_per_week:
                    break
                ready = [
                    o
                    for o in sorted(group, key=lambda o: (len(o.displace), o.outside_teaching))
                    if (equipment is None or o.equipment in equipment)
                    and free(o, unit)
                    and all(
                        not (o.equipment == m.equipment and _clash(spans(o, unit), spans(m, u)))
                        for m, u in mine
                    )
                ]
                if len(ready) < request.count:
                    continue
                chosen = ready[: request.count]
                equipment = equipment or [o.equipment for o in chosen]
                mine.extend((o, unit) for o in chosen)
                sessions += 1
            if sessions < request.sessions_per_week:
                mine = []
                break
        for option, unit in mine:
            taken[option.equipment].extend(spans(option, unit))
            picked.add(id(option))
    return picked


def _clash(first: list[tuple[int, int]], second: list[tuple[int, int]]) -> bool:
    return any(a < d and c < b for a, b in first for c, d in second)


def verify(problem: Problem, solution: Solution) -> list[str]:
    """Re-check every placed occurrence with `rules.check_booking`, the plan's other
    bookings as busy time: what the booking service would refuse (empty when sound)."""
    requests = {r.id: r for r in problem.requests}
    booked: list[tuple[int, int, rules.Busy]] = []  # (request, session index, busy)
    for placement in solution.placements:
        for session in placement.sessions:
            for eq_id in session.equipment:
                buffer = timedelta(minutes=problem.equipment[eq_id].policy.buffer_minutes)
                for start, end in session.occurrences:
                    booked.append(
                        (
                            eq_id,
                            id(session),
                            rules.Busy(0, start, end, end + buffer, rules.PEDAGOGICAL),
                        )
                    )
    by_equipment: dict[int, list[tuple[int, rules.Busy]]] = defaultdict(list)
    for eq_id, owner, busy in booked:
        by_equipment[eq_id].append((owner, busy))
    problems: list[str] = []
    for placement in solution.placements:
        request = requests[placement.request]
        for session in placement.sessions:
            for eq_id in session.equipment:
                item = problem.equipment[eq_id]
                for start, end in session.occurrences:
                    facts = facts_for(problem, request, item, start, end)
                    others = tuple(
                        b
                        for owner, b in by_equipment[eq_id]
                        if not (owner == id(session) and b.start == start)
                    )
                    facts = _with_busy(facts, facts.busy + others)
                    verdict = rules.check_booking(facts)
                    if not verdict.ok:
                        problems.append(
                            f"request {request.id} on equipment {eq_id} at {start.isoformat()}: "
                            f"{verdict.first}"
                        )
    return problems


def _with_busy(facts: rules.BookingFacts, busy: tuple[rules.Busy, ...]) -> rules.BookingFacts:
    return replace(facts, busy=busy)
