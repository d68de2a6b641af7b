"""The term planner's pages (SPEC §8, §11): the plans, and a plan's page where its classes
are entered, solved in the worker, shown on a typical week, and committed.

Every write goes through planner.services; a form posts, then redirects (a reload never
posts twice), except a refused form or commit, shown again with its errors. A plan the
reader may not see does not exist (404), and so do these pages for users who are neither
platform managers nor teachers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.timezones import local_tz
from equipment.models import Equipment
from reservations.models import Reservation
from reservations.web.common import code_labels

from .forms import CommitForm, PlanForm, RequestForm, SolveForm, weekday_names
from .models import Plan, PlanRequest, PlanStatus
from .permissions import may_use_planner, plans_visible_to
from .reasons import reason_words
from .services import (
    plan_commit,
    plan_create,
    plan_delete,
    plan_request_add,
    plan_request_remove,
    plan_solve_start,
)
from .week import build_week, colour_of


def _require_planner(request: HttpRequest) -> None:
    if not may_use_planner(request.user):
        raise Http404


def _plan_of(request: HttpRequest, pk: int) -> Plan:
    _require_planner(request)
    return get_object_or_404(plans_visible_to(request.user), pk=pk)


def _error(request: HttpRequest, error: DomainError) -> None:
    messages.error(request, f"{error.message} [{error.code}]")


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    """The plans the reader may see, newest first, and the form of a new plan."""
    _require_planner(request)
    form = PlanForm(request.POST or None, initial={"skip_school_holidays": True})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                plan = plan_create(
                    user=request.user,
                    name=data["name"],
                    term_start=data["term_start"],
                    term_end=data["term_end"],
                    skip_school_holidays=data["skip_school_holidays"],
                    requests=[],
                    now=timezone.now(),
                )
            except DomainError as error:
                form.add_error(None, f"{error.message} [{error.code}]")
            else:
                messages.success(request, _("Plan created: add its classes."))
                return redirect("planner:detail", pk=plan.pk)
        status = 400
    plans = (
        plans_visible_to(request.user)
        .select_related("created_by")
        .order_by("-created_at", "-id")
        .prefetch_related("requests")
    )
    return render(
        request,
        "planner/list.html",
        {"plans": plans, "form": form, "nav_planner": True},
        status=status,
    )


def _slot_words(slot: dict[str, Any], names: dict[str, Any]) -> str:
    return f"{names.get(slot['weekday'], slot['weekday'])} {slot['start']}–{slot['end']}"


def _occurrence_words(item: dict[str, Any], tz: Any) -> str:
    start = datetime.fromisoformat(str(item["start"])).astimezone(tz)
    end = datetime.fromisoformat(str(item["end"])).astimezone(tz)
    return _("%(day)s, %(start)s–%(end)s") % {
        "day": formats.date_format(start, "SHORT_DATE_FORMAT"),
        "start": formats.time_format(start, "TIME_FORMAT"),
        "end": formats.time_format(end, "TIME_FORMAT"),
    }


def _page(
    request: HttpRequest,
    plan: Plan,
    *,
    request_form: RequestForm | None = None,
    commit_form: CommitForm | None = None,
    refusal: DomainError | None = None,
    status: int = 200,
) -> HttpResponse:
    tz = local_tz()
    names = dict(weekday_names())
    requests = list(
        PlanRequest.objects.filter(plan=plan)
        .select_related("project", "project__partner")
        .order_by("position", "id")
    )
    ids = {int(e) for r in requests for e in r.equipment_choices}
    for r in requests:
        for session in (r.assignment or {}).get("sessions", []):
            ids.update(session["equipment"])
    codes = dict(Equipment.objects.filter(pk__in=ids).values_list("pk", "code"))
    rows = []
    for n, r in enumerate(requests):
        assignment = r.assignment or {}
        sessions = []
        for session in assignment.get("sessions", []):
            words = (
                f"{_slot_words(session, names)} · "
                f"{', '.join(codes.get(e, str(e)) for e in session['equipment'])}"
            )
            if words not in sessions:
                sessions.append(words)
        rows.append(
            {
                "number": n + 1,
                "colour": colour_of(n),
                "request": r,
                "choices": [codes.get(int(e), str(e)) for e in r.equipment_choices],
                "slots": [_slot_words(s, names) for s in r.allowed_slots],
                "sessions": sessions,
                "occurrences": len(assignment.get("occurrences", [])),
                "reason": reason_words(r.unplaced) if r.unplaced else "",
            }
        )
    placed = [r for r in requests if r.assignment]
    displaced, per_partner = _displaced(plan, tz)
    editable = plan.status in (PlanStatus.DRAFT, PlanStatus.SOLVED, PlanStatus.INFEASIBLE)
    week = build_week(requests, codes) if placed else None
    for day in week.days if week else []:
        day.name = str(names[day.code])
    context = {
        "plan": plan,
        "rows": rows,
        "week": week,
        "legend": [row for row in rows if row["sessions"]],
        "unplaced": [row for row in rows if row["reason"]],
        "displaced": displaced,
        "per_partner": per_partner,
        "editable": editable,
        "request_form": request_form
        or (RequestForm(user=request.user, prefix="class") if editable else None),
        "solve_form": SolveForm(),
        "commit_form": commit_form or CommitForm(),
        "refusal": refusal,
        "refused": _refused(refusal, requests, tz) if refusal else [],
        "bookings": _bookings(plan, tz) if plan.status == PlanStatus.COMMITTED else [],
        "poll_url": reverse("plan-detail", args=[plan.pk]),
        "nav_planner": True,
    }
    return render(request, "planner/detail.html", context, status=status)


def _displaced(plan: Plan, tz: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The bookings the plan displaces (when, what, whose partner, hours), and the hours by
    partner. Their titles and people stay hidden (SPEC §6: others' bookings are busy time)."""
    hours = {d["reservation"]: d["hours"] for d in plan.displaced}
    found = {
        r.pk: r
        for r in Reservation.objects.filter(pk__in=hours).select_related(
            "equipment", "project__partner"
        )
    }
    rows = []
    totals: dict[str, float] = defaultdict(float)
    for pk, h in hours.items():
        reservation = found.get(pk)
        partner = reservation.project.partner.name if reservation else "—"
        rows.append(
            {
                "id": pk,
                "equipment": reservation.equipment.code if reservation else "—",
                "when": _occurrence_words(
                    {"start": reservation.start.isoformat(), "end": reservation.end.isoformat()},
                    tz,
                )
                if reservation
                else "—",
                "priority": reservation.get_priority_display() if reservation else "",
                "partner": partner,
                "hours": h,
            }
        )
        totals[partner] += h
    return rows, [
        {"partner": name, "hours": round(total, 2)} for name, total in sorted(totals.items())
    ]


def _refused(refusal: DomainError, requests: list[PlanRequest], tz: Any) -> list[dict[str, Any]]:
    """The occurrences the commit could not book, in words."""
    titles = {r.pk: r.title for r in requests}
    labels = code_labels()
    return [
        {
            "request": titles.get(o.get("request"), ""),
            "when": _occurrence_words(o, tz),
            "reason": labels.get(o.get("code", ""), o.get("code", "")),
        }
        for o in refusal.extra.get("occurrences") or []
    ]


def _bookings(plan: Plan, tz: Any) -> list[dict[str, Any]]:
    """What the commit booked, by class title: each booking links to its equipment's week."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in plan.reservations.select_related("equipment").order_by("title", "start", "pk"):
        day = r.start.astimezone(tz).date()
        groups[r.title].append(
            {
                "reservation": r,
                "when": _occurrence_words(
                    {"start": r.start.isoformat(), "end": r.end.isoformat()}, tz
                ),
                "url": f"{reverse('equipment:detail', args=[r.equipment_id])}?week={day:%Y-%m-%d}",
            }
        )
    return [{"title": title, "items": items} for title, items in groups.items()]


@login_required
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _plan_of(request, pk))


def _back(plan: Plan, anchor: str = "") -> HttpResponse:
    return redirect(reverse("planner:detail", args=[plan.pk]) + anchor)


@login_required
@require_POST
def request_add(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_of(request, pk)
    form = RequestForm(request.POST, user=request.user, prefix="class")
    if form.is_valid():
        try:
            plan_request_add(
                plan=plan, user=request.user, request=form.request(), now=timezone.now()
            )
        except DomainError as error:
            form.add_error(None, f"{error.message} [{error.code}]")
            for messages_of_field in (error.extra.get("fields") or {}).values():
                for text in messages_of_field:
                    form.add_error(None, str(text))
        else:
            messages.success(request, _("Class added."))
            return _back(plan, "#classes")
    return _page(request, plan, request_form=form, status=400)


@login_required
@require_POST
def request_remove(request: HttpRequest, pk: int, request_id: int) -> HttpResponse:
    plan = _plan_of(request, pk)
    found = get_object_or_404(PlanRequest, plan=plan, pk=request_id)
    try:
        plan_request_remove(plan=plan, user=request.user, request_id=found.pk, now=timezone.now())
    except DomainError as error:
        _error(request, error)
    else:
        messages.success(request, _("Class removed: %(title)s.") % {"title": found.title})
    return _back(plan, "#classes")


@login_required
@require_POST
def solve(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_of(request, pk)
    form = SolveForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(str(e) for e in errors))
        return _back(plan, "#solve")
    try:
        plan_solve_start(
            plan=plan,
            user=request.user,
            now=timezone.now(),
            time_limit_seconds=form.cleaned_data["time_limit_seconds"],
        )
    except DomainError as error:
        _error(request, error)
    return _back(plan, "#result")


@login_required
@require_POST
def commit(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_of(request, pk)
    form = CommitForm(request.POST)
    if not form.is_valid():
        return _page(request, plan, commit_form=form, status=400)
    try:
        plan, created = plan_commit(plan=plan, user=request.user, now=timezone.now())
    except DomainError as error:
        plan.refresh_from_db()
        if error.extra.get("occurrences"):
            return _page(request, plan, refusal=error, status=error.status)
        _error(request, error)
        return _back(plan, "#commit")
    n = len(created)
    messages.success(
        request,
        ngettext("Plan committed: %(n)d booking made.", "Plan committed: %(n)d bookings made.", n)
        % {"n": n},
    )
    return _back(plan, "#bookings")


@login_required
@require_POST
def delete(request: HttpRequest, pk: int) -> HttpResponse:
    plan = _plan_of(request, pk)
    try:
        plan_delete(plan=plan, user=request.user)
    except DomainError as error:
        _error(request, error)
        return _back(plan)
    messages.success(request, _("Plan deleted: %(name)s.") % {"name": plan.name})
    return redirect("planner:list")
