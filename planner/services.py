"""Term plans: create, solve (in the worker), commit through the booking service."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.roles import is_platform_manager
from core.timezones import local_tz
from equipment.models import Equipment
from equipment.policy import WEEKDAYS, to_minutes
from partners.models import Project, ProjectKind
from reservations.exceptions import BookingError
from reservations.models import Reservation
from reservations.services import reservation_create

from . import solver
from .build import is_member
from .models import Plan, PlanRequest, PlanStatus
from .tasks import solve_plan

# The most classes a plan holds (the API refuses more at once; the page one at a time).
MAX_REQUESTS = 200

log = logging.getLogger(__name__)

DEFAULT_TIME_LIMIT = 30.0
# Beyond the solver's largest time limit: reading the facts, judging, storing, queueing.
LOST_AFTER_SECONDS = 15 * 60


class PlanError(DomainError):
    """A refused operation on a plan (codes and words in core.errors)."""


def may_plan_for(user: Any, project: Project) -> bool:
    """Platform managers plan for any project; teachers for those they lead or belong to."""
    return is_platform_manager(user) or is_member(project, user)


def plan_create(
    *,
    user: Any,
    name: str,
    term_start: date,
    term_end: date,
    requests: list[dict[str, Any]],
    now: datetime,
    skip_school_holidays: bool = True,
) -> Plan:
    """Create a draft plan of pedagogical classes for the projects `user` may plan for.

    Each request gives `project` (a Project), `title`, `equipment_choices` (ids),
    `duration_minutes`, `allowed_slots` ([{weekday, start, end}]) and optionally
    `expected_participants`, `count`, `sessions_per_week`, `same_slot_every_week`.
    """
    today = now.astimezone(local_tz()).date()
    if term_end < term_start or term_start <= today:
        raise PlanError(
            "invalid.term", fields={"term_start": [str(PlanError("invalid.term").message)]}
        )
    _check_requests(user, requests)
    with transaction.atomic():
        plan = Plan.objects.create(
            name=name,
            term_start=term_start,
            term_end=term_end,
            skip_school_holidays=skip_school_holidays,
            created_by=user,
            created_at=now,
        )
        PlanRequest.objects.bulk_create(
            PlanRequest(
                plan=plan,
                position=n,
                project=item["project"],
                title=item["title"],
                expected_participants=item.get("expected_participants", 1),
                equipment_choices=list(item["equipment_choices"]),
                count=item.get("count", 1),
                duration_minutes=item["duration_minutes"],
                sessions_per_week=item.get("sessions_per_week", 1),
                allowed_slots=list(item["allowed_slots"]),
                same_slot_every_week=item.get("same_slot_every_week", True),
            )
            for n, item in enumerate(requests)
        )
    return plan


def _check_requests(user: Any, requests: list[dict[str, Any]], *, first: int = 0) -> None:
    """Refuse classes of projects that are not pedagogical or not the user's, and unknown
    equipment (`first`: the index of the first request, for the error's field name)."""
    for item in requests:
        project = item["project"]
        if project.kind != ProjectKind.PEDAGOGICAL:
            raise PlanError("not_pedagogical", project=project.pk)
        if not may_plan_for(user, project):
            raise PlanError("permission_denied.plan", project=project.pk)
    for n, item in enumerate(requests):
        # The API's and the page's forms check the slots' shape too; here for every path.
        for slot in item.get("allowed_slots") or []:
            begins, ends = _minutes(slot.get("start")), _minutes(slot.get("end"))
            if (
                slot.get("weekday") not in WEEKDAYS
                or begins is None
                or ends is None
                or begins >= ends
            ):
                raise PlanError(
                    "invalid",
                    fields={
                        f"requests.{first + n}.allowed_slots": [
                            _("A slot must end after it starts.")
                        ]
                    },
                )
    wanted = {int(e) for item in requests for e in item["equipment_choices"]}
    known = set(Equipment.objects.filter(pk__in=wanted).values_list("pk", flat=True))
    for n, item in enumerate(requests):
        unknown = sorted({int(e) for e in item["equipment_choices"]} - known)
        if unknown:
            raise PlanError(
                "invalid",
                fields={
                    f"requests.{first + n}.equipment_choices": [
                        _("Unknown equipment: %(ids)s.") % {"ids": ", ".join(map(str, unknown))}
                    ]
                },
            )


def _minutes(text: Any) -> int | None:
    """HH:MM in minutes, None when it is not that."""
    try:
        return to_minutes(text) if isinstance(text, str) else None
    except ValueError:
        return None


def plan_request_add(
    *, plan: Plan, user: Any, request: dict[str, Any], now: datetime
) -> PlanRequest:
    """Add one class to a plan not yet committed (keys as for `plan_create`'s requests).

    A plan already solved goes back to `draft`: its answer no longer fits its classes.
    """
    _check_requests(user, [request])
    with transaction.atomic():
        locked = _editable(plan, now)
        if PlanRequest.objects.filter(plan=locked).count() >= MAX_REQUESTS:
            raise PlanError("invalid", fields={"requests": [_("Give from 1 to 200 classes.")]})
        last = PlanRequest.objects.filter(plan=locked).order_by("-position").first()
        added = PlanRequest.objects.create(
            plan=locked,
            position=last.position + 1 if last else 0,
            project=request["project"],
            title=request["title"],
            expected_participants=request.get("expected_participants", 1),
            equipment_choices=list(request["equipment_choices"]),
            count=request.get("count", 1),
            duration_minutes=request["duration_minutes"],
            sessions_per_week=request.get("sessions_per_week", 1),
            allowed_slots=list(request["allowed_slots"]),
            same_slot_every_week=request.get("same_slot_every_week", True),
        )
        _back_to_draft(locked)
    return added


def plan_request_remove(*, plan: Plan, user: Any, request_id: int, now: datetime) -> None:
    """Remove one class from a plan not yet committed (the plan goes back to `draft`)."""
    with transaction.atomic():
        locked = _editable(plan, now)
        found = PlanRequest.objects.filter(plan=locked, pk=request_id).select_related("project")
        request = found.first()
        if request is None:
            raise PlanError("not_found")
        if not may_plan_for(user, request.project):
            raise PlanError("permission_denied.plan", project=request.project_id)
        request.delete()
        _back_to_draft(locked)


def _editable(plan: Plan, now: datetime) -> Plan:
    """The plan, locked, when its classes may change: neither committed nor being solved."""
    locked = Plan.objects.select_for_update().get(pk=plan.pk)
    if locked.status == PlanStatus.COMMITTED:
        raise PlanError("plan_committed")
    if locked.status == PlanStatus.SOLVING and not _lost(locked, now):
        raise PlanError("plan_solving")
    return locked


def _back_to_draft(plan: Plan) -> None:
    """Forget the last solve's answer: the classes it placed have changed."""
    PlanRequest.objects.filter(plan=plan).update(assignment=None, unplaced=None)
    plan.status = PlanStatus.DRAFT
    plan.objective = {}
    plan.optimal = False
    plan.solve_seconds = None
    plan.displaced = []
    plan.solved_at = None
    plan.error = ""
    plan.save(
        update_fields=[
            "status",
            "objective",
            "optimal",
            "solve_seconds",
            "displaced",
            "solved_at",
            "error",
        ]
    )


def plan_delete(*, plan: Plan, user: Any) -> None:
    """Delete a plan not committed; checked under the plan's lock, so that a commit running
    at the same time cannot have its plan (and its link to the bookings) deleted."""
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if locked.status == PlanStatus.COMMITTED:
            raise PlanError("plan_committed")
        locked.delete()


def plan_solve_start(
    *, plan: Plan, user: Any, now: datetime, time_limit_seconds: float = DEFAULT_TIME_LIMIT
) -> Plan:
    """Mark the plan `solving` and hand it to the worker (after this transaction commits).

    The solve checks the rules for `user` (membership, qualification): the one who solves
    is the one expected to commit, and the commit checks again for whoever commits.
    """
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if locked.status == PlanStatus.COMMITTED:
            raise PlanError("plan_committed")
        if locked.status == PlanStatus.SOLVING and not _lost(locked, now):
            raise PlanError("plan_solving")
        locked.status = PlanStatus.SOLVING
        locked.solving_since = now
        locked.solved_by = user
        locked.error = ""
        locked.save(update_fields=["status", "solving_since", "solved_by", "error"])
        limit = max(1.0, min(float(time_limit_seconds), solver.MAX_TIME_LIMIT))
        transaction.on_commit(
            lambda: solve_plan.enqueue(plan_id=locked.pk, time_limit_seconds=limit)
        )
    locked.refresh_from_db()
    return locked


def _lost(plan: Plan, now: datetime) -> bool:
    """Whether a plan `solving` lost its worker: far longer than any solve may take."""
    limit = timedelta(seconds=solver.MAX_TIME_LIMIT + LOST_AFTER_SECONDS)
    return plan.solving_since is None or plan.solving_since < now - limit


def plan_commit(*, plan: Plan, user: Any, now: datetime) -> tuple[Plan, list[Reservation]]:
    """Book every assignment through the booking service, all or nothing, as `user`.

    A request with the same slot every week becomes one series (a session when on several
    equipment), skipping holidays and closures as any series does; one whose slot varies
    is booked week by week. When any booking is refused, nothing is: the error lists every
    refused occurrence (409 when all are conflicts, else 400, as for a series).
    """
    tz = local_tz()
    with transaction.atomic():
        locked = Plan.objects.select_for_update().get(pk=plan.pk)
        if locked.status == PlanStatus.COMMITTED:
            raise PlanError("plan_committed")
        if locked.status == PlanStatus.SOLVING:
            raise PlanError("plan_solving")
        if locked.status != PlanStatus.SOLVED:
            raise PlanError("plan_not_solved")
        requests = list(
            PlanRequest.objects.filter(plan=locked, assignment__isnull=False)
            .select_related("project")
            .order_by("position", "id")
        )
        if not requests:
            raise PlanError("plan_empty")
        created: list[Reservation] = []
        failures: list[dict[str, Any]] = []
        for request in requests:
            for booking in _bookings(request, locked):
                try:
                    outcome = reservation_create(
                        user=user,
                        project=request.project,
                        equipment=booking["equipment"],
                        start=booking["start"],
                        end=booking["end"],
                        title=request.title,
                        expected_participants=request.expected_participants,
                        rrule=booking["rrule"],
                        skip_school_holidays=locked.skip_school_holidays,
                        now=now,
                    )
                except BookingError as error:
                    failures.extend(
                        {**o, "request": request.pk}
                        for o in error.extra.get("occurrences")
                        or [{"start": booking["start"], "end": booking["end"], "code": error.code}]
                    )
                    continue
                created.extend(outcome.reservations)
        if failures:
            transaction.set_rollback(True)
            codes = [f["code"] for f in failures]
            if all(code == "conflict" for code in codes):
                refused = PlanError("conflict.plan", occurrences=_as_local(failures, tz))
            else:
                # As for a series: the code of the first rule other than a conflict.
                refused = PlanError("plan_refused", occurrences=_as_local(failures, tz))
                refused.code = next(code for code in codes if code != "conflict")
        else:
            locked.status = PlanStatus.COMMITTED
            locked.committed_at = now
            locked.save(update_fields=["status", "committed_at"])
            locked.reservations.add(*created)
            refused = None
    if refused is not None:
        raise refused
    return locked, created


def _as_local(failures: list[dict[str, Any]], tz: Any) -> list[dict[str, Any]]:
    return [
        {
            **f,
            "start": f["start"].astimezone(tz).isoformat(),
            "end": f["end"].astimezone(tz).isoformat(),
        }
        for f in failures
    ]


def _bookings(request: PlanRequest, plan: Plan) -> list[dict[str, Any]]:
    """The booking calls of a placed request: a weekly series per session, or one booking
    per occurrence when its slot varies from week to week."""
    assignment = request.assignment or {}
    calls = []
    for session in assignment.get("sessions", []):
        occurrences = [
            (datetime.fromisoformat(o["start"]), datetime.fromisoformat(o["end"]))
            for o in session["occurrences"]
        ]
        if not occurrences:
            continue
        if request.same_slot_every_week:
            first_start, first_end = occurrences[0]
            last_start = occurrences[-1][0]
            until = (last_start + timedelta(minutes=1)).astimezone(solver.UTC)
            calls.append(
                {
                    "equipment": session["equipment"],
                    "start": first_start,
                    "end": first_end,
                    "rrule": f"FREQ=WEEKLY;UNTIL={until:%Y%m%dT%H%M%SZ}",
                }
            )
        else:
            calls.extend(
                {"equipment": session["equipment"], "start": s, "end": e, "rrule": None}
                for s, e in occurrences
            )
    return calls
