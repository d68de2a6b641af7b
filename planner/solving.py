"""Solving a plan: the worker's job (planner.tasks), storing what the solver found."""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.timezones import local_tz
from reservations.models import Reservation

from . import solver
from .build import build_problem
from .models import Plan, PlanRequest, PlanStatus

log = logging.getLogger(__name__)


def plan_solve(*, plan_id: int, now: datetime, time_limit_seconds: float) -> Plan:
    """Solve a plan and store the result (the worker's job). A solution the booking rules
    would refuse is a bug: it is not shown, the plan keeps the error."""
    plan = Plan.objects.select_related("solved_by", "created_by").get(pk=plan_id)
    user = plan.solved_by or plan.created_by
    try:
        problem = build_problem(plan, user=user, now=now)
        solution = solver.solve(problem, time_limit_seconds=time_limit_seconds)
        mismatches = solver.verify(problem, solution)
    except Exception as error:  # the plan must not stay `solving` forever
        log.exception("solving plan %s failed", plan_id)
        _store_failure(plan, f"{type(error).__name__}: {error}", now)
        raise
    if solution.status not in ("OPTIMAL", "FEASIBLE"):
        # Out of time before any solution: that says nothing of the plan's feasibility.
        _store_failure(
            plan,
            _("The solver found no solution within %(n)d seconds: give it more time.")
            % {"n": round(time_limit_seconds)},
            now,
        )
        return plan
    if mismatches:
        log.error("plan %s: the solver's answer breaks the rules: %s", plan_id, mismatches)
        _store_failure(plan, "; ".join(mismatches[:10]), now)
        return plan
    with transaction.atomic():
        by_id = {r.pk: r for r in PlanRequest.objects.filter(plan=plan)}
        for placement in solution.placements:
            request = by_id[placement.request]
            if placement.placed:
                request.assignment = assignment_payload(placement.sessions, local_tz())
                request.unplaced = None
            else:
                request.assignment = None
                request.unplaced = placement.reason
        PlanRequest.objects.bulk_update(list(by_id.values()), ["assignment", "unplaced"])
        placed = sum(p.placed for p in solution.placements)
        plan.status = PlanStatus.SOLVED if placed else PlanStatus.INFEASIBLE
        plan.objective = solution.objective
        plan.optimal = solution.optimal
        plan.solve_seconds = solution.seconds
        plan.displaced = displaced_payload(solution.displaced)
        plan.solved_at = now
        plan.error = ""
        plan.save()
    return plan


def _store_failure(plan: Plan, message: str, now: datetime) -> None:
    Plan.objects.filter(pk=plan.pk).update(
        status=PlanStatus.DRAFT, error=message[:5000], solved_at=now, optimal=False
    )
    PlanRequest.objects.filter(plan=plan).update(assignment=None, unplaced=None)
    plan.refresh_from_db()


def _local(moment: datetime, tz: Any) -> str:
    return moment.astimezone(tz).isoformat()


def assignment_payload(sessions: list[solver.Session], tz: Any) -> dict[str, Any]:
    """What a placed request reads: its (first) weekly slot, equipment and occurrences,
    and every session when there are several a week or the slot varies."""

    def one(session: solver.Session) -> dict[str, Any]:
        end = session.start + (
            int((session.occurrences[0][1] - session.occurrences[0][0]).total_seconds() // 60)
            if session.occurrences
            else 0
        )
        return {
            "weekday": ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[session.weekday],
            "start": f"{session.start // 60:02d}:{session.start % 60:02d}",
            "end": f"{end // 60 % 24:02d}:{end % 60:02d}",
            "equipment": sorted(session.equipment),
            "occurrences": [
                {"start": _local(s, tz), "end": _local(e, tz)} for s, e in session.occurrences
            ],
        }

    parts = [one(s) for s in sessions]
    # The slot most weeks use leads (one per week when it varies).
    counts = Counter((p["weekday"], p["start"], p["end"]) for p in parts)
    lead = next(
        p for p in parts if (p["weekday"], p["start"], p["end"]) == counts.most_common(1)[0][0]
    )
    occurrences = sorted((o for p in parts for o in p["occurrences"]), key=lambda o: o["start"])
    return {**lead, "occurrences": occurrences, "sessions": parts}


def displaced_payload(ids: set[int]) -> list[dict[str, Any]]:
    rows = Reservation.objects.filter(pk__in=ids).values_list(
        "pk", "project__partner_id", "start", "end"
    )
    return [
        {
            "reservation": pk,
            "partner": partner,
            "hours": round((end - start).total_seconds() / 3600, 2),
        }
        for pk, partner, start, end in sorted(rows)
    ]
