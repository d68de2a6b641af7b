"""The solver's plain data, read as a booking reads its facts (reservations.facts)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from core.timezones import local_tz
from equipment.models import Equipment, Qualification
from equipment.policy import WEEKDAYS, to_minutes
from partners.models import Project
from reservations.facts import gather

from . import solver
from .models import Plan, PlanRequest


def window_of(slot: dict[str, Any]) -> solver.Window:
    return solver.Window(
        WEEKDAYS.index(slot["weekday"]), to_minutes(slot["start"]), to_minutes(slot["end"])
    )


def is_member(project: Project, user: Any) -> bool:
    return project.leader_id == user.pk or any(m.pk == user.pk for m in project.members.all())


def build_problem(plan: Plan, *, user: Any, now: datetime) -> solver.Problem:
    """Everything the rules would read to book the plan's requests as `user` at `now`."""
    tz = local_tz()
    requests = list(
        PlanRequest.objects.filter(plan=plan)
        .select_related("project")
        .prefetch_related("project__members")
        .order_by("position", "id")
    )
    ids = sorted({int(e) for r in requests for e in r.equipment_choices})
    items = list(Equipment.objects.filter(pk__in=ids).order_by("pk"))
    span_start = datetime.combine(plan.term_start, time(0), tzinfo=tz)
    span_end = datetime.combine(plan.term_end + timedelta(days=2), time(0), tzinfo=tz)
    facts = None
    if items and requests:
        # The same reading as a booking's: live reservations (with their buffers), closures
        # of the equipment, its site or everything, and the holidays of the span.
        facts = gather(
            equipment=items,
            project=requests[0].project,
            span_start=span_start,
            span_end=span_end,
            exclude_id=None,
            tz=tz,
        )
    equipment = {
        e.pk: solver.EquipmentData(
            id=e.pk,
            policy=e.policy,
            active=e.status == Equipment.Status.ACTIVE,
            requires_qualification=e.requires_qualification,
            closures=tuple(facts.closures.get(e.pk, ())) if facts else (),
            busy=tuple(facts.busy.get(e.pk, ())) if facts else (),
        )
        for e in items
    }
    qualified: dict[int, date] = dict(
        Qualification.objects.filter(user=user, equipment_id__in=ids).values_list(
            "equipment_id", "valid_until"
        )
    )
    return solver.Problem(
        now=now,
        tz=tz,
        term_start=plan.term_start,
        term_end=plan.term_end,
        equipment=equipment,
        requests=[
            solver.RequestData(
                id=r.pk,
                choices=tuple(int(e) for e in r.equipment_choices if int(e) in equipment),
                duration_minutes=r.duration_minutes,
                allowed=tuple(window_of(s) for s in r.allowed_slots),
                count=r.count,
                sessions_per_week=r.sessions_per_week,
                same_slot_every_week=r.same_slot_every_week,
                kind=r.project.kind,
                is_member=is_member(r.project, user),
                active_from=r.project.active_from,
                active_until=r.project.active_until,
            )
            for r in requests
        ],
        qualified_until=qualified,
        public_holidays=frozenset(facts.holidays) if facts else frozenset(),
        school_holidays=facts.school if facts else frozenset(),
        skip_school_holidays=plan.skip_school_holidays,
    )
