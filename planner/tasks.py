"""The planner's worker task (django-tasks: the same on any backend)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from .solving import plan_solve


@task()
def solve_plan(plan_id: int, time_limit_seconds: float) -> dict[str, object]:
    """Solve a plan marked `solving` and store its assignment (SPEC §11)."""
    plan = plan_solve(plan_id=plan_id, now=timezone.now(), time_limit_seconds=time_limit_seconds)
    return {"status": plan.status, "optimal": plan.optimal, "seconds": plan.solve_seconds}
