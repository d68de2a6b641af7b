"""Web pages of the booking engine (SPEC §8): planning, booking, my reservations, managers'.

Every write goes through reservations.services (and calendars' import services) with
`now=timezone.now()`; a refused write shows its translated message and its code next to
the form. Objects the reader may not see answer 404; manager pages answer 403 to others.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from calendars.holidays import import_public_holidays
from calendars.ics_import import MAX_BYTES, import_ics
from core.exceptions import DomainError
from core.roles import is_platform_manager
from core.timezones import day_bounds
from equipment.models import Equipment
from reservations.models import Closure

from .exceptions import BookingError
from .forms import (
    BookingForm,
    CancelForm,
    ClosureForm,
    DecisionForm,
    HolidaysForm,
    IcsImportForm,
    PlanningForm,
    closure_targets,
    local_input,
    target_of,
)
from .models import Project, Reservation, ReservationStatus
from .planning import build_grid, monday_of
from .selectors import reservations_visible_to
from .services import (
    closure_create,
    closure_delete,
    reservation_approve,
    reservation_cancel,
    reservation_check_in,
    reservation_check_out,
    reservation_create,
    reservation_reject,
)
from .services.booking import can_be_cancelled
from .services.usage import check_in_open, release_overdue_no_shows

BOOKING_RESULT = "web.booking_result"
CLOSURE_RESULT = "web.closure_result"


def code_labels() -> dict[str, str]:
    """Short words for the codes listed per occurrence (the first error has its message)."""
    return {
        "invalid": _("invalid"),
        "ambiguous_time": _("ambiguous local time"),
        "in_past": _("in the past"),
        "bad_granularity": _("off the time grid"),
        "too_short": _("too short"),
        "too_long": _("too long"),
        "outside_opening_hours": _("outside opening hours"),
        "closed": _("closed"),
        "equipment_unavailable": _("equipment unavailable"),
        "beyond_horizon": _("too far ahead"),
        "too_late": _("too late to book"),
        "not_project_member": _("not a project member"),
        "project_inactive": _("project inactive"),
        "not_qualified": _("qualification required"),
        "teaching_window": _("kept for teaching"),
        "quota_exceeded": _("quota exceeded"),
        "conflict": _("already booked"),
        "school_holiday": _("school holiday"),
    }


def _is_manager(user: Any) -> bool:
    return is_platform_manager(user) or user.managed_equipment.exists()


def _require_manager(request: HttpRequest) -> None:
    if not _is_manager(request.user):
        raise PermissionDenied(_("This page is for platform and equipment managers."))


def _managed_equipment(user: Any) -> QuerySet[Equipment]:
    if is_platform_manager(user):
        return Equipment.objects.all()
    return Equipment.objects.filter(managers=user)


def _next_url(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _error_message(request: HttpRequest, error: DomainError) -> None:
    messages.error(request, f"{error.message} [{error.code}]")


# --- planning -------------------------------------------------------------------------------


@login_required
def planning(request: HttpRequest) -> HttpResponse:
    """A day or a week across the equipment of a site or a category: busy time by priority."""
    now = timezone.now()
    form = PlanningForm(request.GET or None)
    site = category = None
    view = "week"
    day = timezone.localdate(now)
    if form.is_bound and form.is_valid():
        site = form.cleaned_data["site"]
        category = form.cleaned_data["category"]
        view = form.cleaned_data["view"] or "week"
        day = form.cleaned_data["date"] or day
    first = day if view == "day" else monday_of(day)
    count = 1 if view == "day" else 7
    items = Equipment.objects.exclude(status=Equipment.Status.RETIRED).select_related(
        "site", "category"
    )
    if site is not None:
        items = items.filter(site=site)
    if category is not None:
        items = items.filter(category=category)
    equipment = list(items.order_by("site__name", "code"))
    checked = [e.pk for e in equipment if e.requires_check_in]
    if checked:
        # Past its check-in grace a booking is a no-show and no longer busy (SPEC §5).
        release_overdue_no_shows(now=now, equipment_ids=checked)
    grid = build_grid(equipment=equipment, first_day=first, days=count, user=request.user, now=now)
    step = timedelta(days=count)

    def link(target: date) -> str:
        query = {"view": view, "date": target.isoformat()}
        if site is not None:
            query["site"] = str(site.pk)
        if category is not None:
            query["category"] = str(category.pk)
        return "?" + urlencode(query)

    return render(
        request,
        "reservations/planning.html",
        {
            "form": form,
            "grid": grid,
            "view": view,
            "previous_link": link(first - step),
            "next_link": link(first + step),
            "today_link": link(timezone.localdate(now)),
            "site": site,
            "category": category,
        },
    )


# --- booking --------------------------------------------------------------------------------


def _prefill(request: HttpRequest) -> dict[str, Any]:
    """Initial values from the query string: a "Book" button or an alternative's link."""
    initial: dict[str, Any] = {}
    ids = [v for v in request.GET.getlist("equipment") if v.isdigit()]
    if ids:
        initial["equipment"] = [int(v) for v in ids]
    for name in ("project", "start", "end", "title", "expected_participants"):
        value = request.GET.get(name, "").strip()
        if value:
            initial[name] = value
    return initial


def _alternatives(error: BookingError, form: BookingForm) -> list[dict[str, Any]]:
    """The error's alternatives, each with a link that fills the form with it."""
    found = error.extra.get("alternatives") or []
    if not found:
        return []
    names = {
        e.pk: e
        for e in Equipment.objects.filter(pk__in={a["equipment"] for a in found}).select_related(
            "site"
        )
    }
    data = form.cleaned_data
    items = []
    for alt in found:
        query = {
            "equipment": alt["equipment"],
            "project": data["project"].pk,
            "start": local_input(alt["start"]),
            "end": local_input(alt["end"]),
            "title": data.get("title", ""),
            "expected_participants": data.get("expected_participants") or 1,
        }
        items.append(
            {
                "equipment": names.get(alt["equipment"]),
                "start": alt["start"],
                "end": alt["end"],
                "url": reverse("web:book") + "?" + urlencode(query),
            }
        )
    return items


def _occurrences(error: BookingError) -> list[dict[str, Any]]:
    labels = code_labels()
    names: dict[int, Equipment] = {}
    listed = error.extra.get("occurrences") or []
    ids = {o["equipment"] for o in listed if o.get("equipment")}
    if ids:
        names = {e.pk: e for e in Equipment.objects.filter(pk__in=ids)}
    return [
        {
            "start": o["start"],
            "end": o["end"],
            "code": o["code"],
            "label": labels.get(o["code"], o["code"]),
            "equipment": names.get(o.get("equipment") or 0),
        }
        for o in listed
    ]


def _apply_field_errors(form: BookingForm, error: BookingError) -> None:
    """Show the service's field errors next to their fields (the RRULE's at its end)."""
    for name, problems in (error.extra.get("fields") or {}).items():
        field = name if name in form.fields else None
        if name.startswith("recurrence"):
            field = "count" if form.cleaned_data.get("repeat_end") == "count" else "until"
        for problem in problems:
            form.add_error(field, ValidationError(problem, code=error.code))


@login_required
def book(request: HttpRequest) -> HttpResponse:
    """The booking form: one equipment, a session of several, or a weekly series."""
    user = request.user
    can_override = _is_manager(user)
    status = 200
    refusal: dict[str, Any] | None = None
    if request.method == "POST":
        form = BookingForm(request.POST, user=user, can_override=can_override)
        if form.is_valid():
            data = form.cleaned_data
            try:
                outcome = reservation_create(
                    user=user,
                    project=data["project"],
                    equipment=list(data["equipment"]),
                    start=data["start"],
                    end=data["end"],
                    title=data["title"],
                    expected_participants=data["expected_participants"],
                    rrule=form.rrule(),
                    skip_school_holidays=bool(data.get("skip_school_holidays")),
                    skip_conflicts=bool(data.get("skip_conflicts")),
                    override=bool(data.get("override")),
                    now=timezone.now(),
                )
            except BookingError as error:
                status = error.status
                occurrences = _occurrences(error)
                refusal = {
                    "code": error.code,
                    "message": error.message,
                    "occurrences": occurrences,
                    "per_equipment": any(o["equipment"] for o in occurrences),
                    "conflicts": error.extra.get("conflicts") or [],
                    # Before the field errors: adding one drops the field's cleaned value.
                    "alternatives": _alternatives(error, form),
                }
                _apply_field_errors(form, error)
            else:
                request.session[BOOKING_RESULT] = {
                    "created": [r.pk for r in outcome.reservations],
                    "displaced": [r.pk for r in outcome.displaced],
                    "skipped": [
                        {
                            "start": s["start"].isoformat(),
                            "end": s["end"].isoformat(),
                            "code": s["code"],
                        }
                        for s in outcome.skipped
                    ],
                    "series": outcome.series.pk if outcome.series else None,
                    "session": outcome.session.pk if outcome.session else None,
                }
                return redirect("web:book_done")
        else:
            status = 400
    else:
        form = BookingForm(initial=_prefill(request), user=user, can_override=can_override)
    return render(
        request,
        "reservations/book.html",
        {"form": form, "refusal": refusal, "nav_manager": can_override},
        status=status,
    )


@login_required
def book_done(request: HttpRequest) -> HttpResponse:
    """What the last booking did: created, skipped (with codes) and displaced reservations."""
    result = request.session.get(BOOKING_RESULT)
    if not result:
        return redirect("web:book")
    created = list(
        reservations_visible_to(request.user)
        .filter(pk__in=result["created"])
        .select_related("equipment__site", "project__partner")
        .order_by("start", "equipment__code")
    )
    # Others' reservations: busy time only (SPEC §6), whoever displaced them.
    displaced = list(
        Reservation.objects.filter(pk__in=result["displaced"])
        .select_related("equipment")
        .only("start", "end", "priority", "equipment__code", "equipment__name")
        .order_by("start")
    )
    labels = code_labels()
    skipped = [
        {
            "start": datetime.fromisoformat(s["start"]),
            "end": datetime.fromisoformat(s["end"]),
            "code": s["code"],
            "label": labels.get(s["code"], s["code"]),
        }
        for s in result["skipped"]
    ]
    return render(
        request,
        "reservations/book_done.html",
        {
            "created": created,
            "displaced": displaced,
            "skipped": skipped,
            "series": result.get("series"),
            "session": result.get("session"),
            "pending": sum(1 for r in created if r.status == ReservationStatus.PENDING),
        },
    )


# --- my reservations ------------------------------------------------------------------------


def _my_reservations(user: Any) -> QuerySet[Reservation]:
    mine = Project.objects.filter(Q(members=user) | Q(leader=user)).values("pk")
    return Reservation.objects.filter(Q(booked_by=user) | Q(project__in=mine)).select_related(
        "equipment__site", "project__partner", "booked_by", "usage"
    )


def _usage(reservation: Reservation) -> Any:
    try:
        return reservation.usage
    except Reservation.usage.RelatedObjectDoesNotExist:
        return None


def _annotate_actions(items: list[Reservation], now: datetime) -> list[Reservation]:
    """What each row offers: cancel, check in, check out (the services check again)."""
    for r in items:
        usage = _usage(r)
        confirmed = r.status == ReservationStatus.CONFIRMED
        r.can_cancel = can_be_cancelled(r, now) and r.end > now  # type: ignore[attr-defined]
        r.can_check_in = (  # type: ignore[attr-defined]
            confirmed and usage is None and check_in_open(r, now)
        )
        r.can_check_out = (  # type: ignore[attr-defined]
            confirmed and usage is not None and usage.checked_out_at is None
        )
        r.usage_record = usage  # type: ignore[attr-defined]
    return items


@login_required
def my_reservations(request: HttpRequest) -> HttpResponse:
    """Upcoming and past reservations the user booked or of their projects."""
    now = timezone.now()
    user = request.user
    # SPEC §5: past its check-in grace a reservation reads as a no-show.
    release_overdue_no_shows(now=now)
    qs = _my_reservations(user)
    upcoming = _annotate_actions(list(qs.filter(end__gt=now).order_by("start", "pk")), now)
    past_page = Paginator(qs.filter(end__lte=now).order_by("-start", "-pk"), 20).get_page(
        request.GET.get("past")
    )
    past = _annotate_actions(list(past_page), now)
    managed_today: list[Reservation] = []
    is_manager = _is_manager(user)
    if is_manager:
        day_start, day_end = day_bounds(timezone.localdate(now))
        managed = Reservation.objects.filter(
            equipment__in=_managed_equipment(user).values("pk"),
            status__in=(ReservationStatus.CONFIRMED, ReservationStatus.COMPLETED),
            start__lt=day_end,
            end__gt=day_start,
        ).select_related("equipment__site", "project__partner", "booked_by", "usage")
        managed_today = _annotate_actions(list(managed.order_by("start", "pk")), now)
    return render(
        request,
        "reservations/my.html",
        {
            "upcoming": upcoming,
            "past": past,
            "past_page": past_page,
            "managed_today": managed_today,
            "is_manager": is_manager,
            "nav_manager": is_manager,
            "now": now,
        },
    )


def _visible_reservation(request: HttpRequest, pk: int) -> Reservation:
    return get_object_or_404(
        reservations_visible_to(request.user).select_related("project__partner"), pk=pk
    )


@login_required
@require_POST
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    reservation = _visible_reservation(request, pk)
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Invalid input.") + " [invalid]")
        return HttpResponseRedirect(_next_url(request, reverse("web:my")))
    scope = form.cleaned_data["scope"] or "this"
    reason = form.cleaned_data["reason"]
    try:
        cancelled = reservation_cancel(
            reservation=reservation,
            user=request.user,
            now=timezone.now(),
            scope=scope,
            reason=reason,
        )
    except BookingError as error:
        _error_message(request, error)
    else:
        messages.success(
            request,
            _("Cancelled: %(n)d reservation(s).") % {"n": len(cancelled)},
        )
    return HttpResponseRedirect(_next_url(request, reverse("web:my")))


@login_required
@require_POST
def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    reservation = _visible_reservation(request, pk)
    try:
        reservation_check_in(reservation=reservation, user=request.user, now=timezone.now())
    except BookingError as error:
        _error_message(request, error)
    else:
        messages.success(request, _("Checked in: %(title)s.") % {"title": reservation.title})
    return HttpResponseRedirect(_next_url(request, reverse("web:my")))


@login_required
@require_POST
def check_out(request: HttpRequest, pk: int) -> HttpResponse:
    reservation = _visible_reservation(request, pk)
    try:
        reservation_check_out(reservation=reservation, user=request.user, now=timezone.now())
    except BookingError as error:
        _error_message(request, error)
    else:
        messages.success(request, _("Checked out: %(title)s.") % {"title": reservation.title})
    return HttpResponseRedirect(_next_url(request, reverse("web:my")))


# --- managers: approvals --------------------------------------------------------------------


def _pending_for(user: Any) -> QuerySet[Reservation]:
    qs = Reservation.objects.filter(status=ReservationStatus.PENDING).select_related(
        "equipment__site", "project__partner", "booked_by"
    )
    if not is_platform_manager(user):
        qs = qs.filter(equipment__in=_managed_equipment(user).values("pk"))
    return qs


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    """Pending requests on the equipment the user manages, oldest start first."""
    _require_manager(request)
    pending = list(_pending_for(request.user).order_by("start", "pk"))
    return render(
        request,
        "reservations/approvals.html",
        {"pending": pending, "now": timezone.now(), "nav_manager": True},
    )


@login_required
@require_POST
def decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    _require_manager(request)
    reservation = get_object_or_404(_pending_for(request.user), pk=pk)
    form = DecisionForm(request.POST)
    reason = form.cleaned_data["reason"].strip() if form.is_valid() else ""
    service = reservation_approve if decision == "approve" else reservation_reject
    try:
        done = service(
            reservation=reservation, user=request.user, now=timezone.now(), reason=reason
        )
    except BookingError as error:
        _error_message(request, error)
    else:
        text = _("Approved: %(title)s.") if decision == "approve" else _("Rejected: %(title)s.")
        messages.success(request, text % {"title": done.title})
    return redirect("web:approvals")


# --- managers: closures ---------------------------------------------------------------------


def _closures_for(user: Any) -> QuerySet[Closure]:
    """Closures that concern the user's equipment (all for platform managers)."""
    qs = Closure.objects.select_related("equipment", "site", "created_by")
    if is_platform_manager(user):
        return qs
    managed = Equipment.objects.filter(managers=user)
    return qs.filter(
        Q(equipment__in=managed.values("pk"))
        | Q(site__in=managed.values("site_id"))
        | Q(equipment__isnull=True, site__isnull=True)
    )


def _closure_outcome(
    request: HttpRequest, *, created: list[Closure], displaced: list[Reservation], **extra: Any
) -> None:
    request.session[CLOSURE_RESULT] = {
        "created": [c.pk for c in created],
        "displaced": [r.pk for r in displaced],
        **extra,
    }


@login_required
def closures(request: HttpRequest) -> HttpResponse:
    """Closures of the user's equipment: list, create, delete, .ics import, public holidays."""
    _require_manager(request)
    user = request.user
    now = timezone.now()
    targets, meaning = closure_targets(user, _managed_equipment(user))
    form = ClosureForm(targets=targets)
    status = 200
    if request.method == "POST":
        form = ClosureForm(request.POST, targets=targets)
        if form.is_valid():
            data = form.cleaned_data
            try:
                closure, covered = closure_create(
                    user=user,
                    start=data["start"],
                    end=data["end"],
                    reason=data["reason"],
                    kind=data["kind"],
                    now=now,
                    **target_of(meaning, data["target"]),
                )
            except BookingError as error:
                status = error.status
                form.add_error(None, f"{error.message} [{error.code}]")
                for name, problems in (error.extra.get("fields") or {}).items():
                    for problem in problems:
                        form.add_error(name if name in form.fields else None, problem)
            else:
                _closure_outcome(request, created=[closure], displaced=covered)
                messages.success(
                    request, _("Closure created: %(reason)s.") % {"reason": closure.reason}
                )
                return redirect("web:closures")
        else:
            status = 400
    managed_ids = set(_managed_equipment(user).values_list("pk", flat=True))
    listed = list(_closures_for(user).filter(end__gt=now).order_by("start", "pk"))
    for c in listed:
        c.can_delete = is_platform_manager(user) or (  # type: ignore[attr-defined]
            c.equipment_id is not None and c.equipment_id in managed_ids
        )
    result = request.session.pop(CLOSURE_RESULT, None)
    displaced: list[Reservation] = []
    created: list[Closure] = []
    if result:
        displaced = list(
            reservations_visible_to(user)
            .filter(pk__in=result["displaced"])
            .select_related("equipment", "project__partner", "booked_by")
            .order_by("start")
        )
        created = list(Closure.objects.filter(pk__in=result["created"]).order_by("start"))
    year = timezone.localdate(now).year
    return render(
        request,
        "reservations/closures.html",
        {
            "form": form,
            "import_form": IcsImportForm(targets=targets, prefix="ics"),
            "holidays_form": HolidaysForm(
                targets=targets, prefix="holidays", initial={"year": year + 1}
            ),
            "targets": targets,
            "closures": listed,
            "result": result,
            "result_created": created,
            "result_displaced": displaced,
            "nav_manager": True,
        },
        status=status,
    )


@login_required
@require_POST
def closure_remove(request: HttpRequest, pk: int) -> HttpResponse:
    _require_manager(request)
    closure = get_object_or_404(_closures_for(request.user), pk=pk)
    try:
        closure_delete(closure=closure, user=request.user)
    except BookingError as error:
        _error_message(request, error)
    else:
        messages.success(request, _("Closure removed: %(reason)s.") % {"reason": closure.reason})
    return redirect("web:closures")


def _form_errors(request: HttpRequest, form: Any) -> None:
    """A side form's errors as messages on the closures page, with their codes."""
    for name, errors in form.errors.as_data().items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            text = " ".join(str(m) for m in error.messages)
            text = f"{label}: {text}" if label else text
            messages.error(request, f"{text} [{error.code or 'invalid'}]")


def _import_errors(request: HttpRequest, error: DomainError) -> None:
    _error_message(request, error)
    for entry in error.extra.get("errors") or []:
        where = entry.get("uid") or entry.get("summary") or "?"
        if entry.get("line"):
            where = _("%(where)s (line %(line)s)") % {"where": where, "line": entry["line"]}
        messages.error(request, f"{where}: {entry.get('message', '')}")


def _closures_from(
    request: HttpRequest,
    form: Any,
    meaning: Any,
    create: Callable[[dict[str, Any], dict[str, Any]], Any],
    done: Callable[[dict[str, Any], Any], str],
) -> HttpResponse:
    """Run one of the closure imports (an .ics file, public holidays) from its form.

    `create(data, target)` calls the service; `done(data, outcome)` says what it did.
    """
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("web:closures")
    data = form.cleaned_data
    try:
        outcome = create(data, target_of(meaning, data["target"]))
    except DomainError as error:
        _import_errors(request, error)
        return redirect("web:closures")
    _closure_outcome(
        request,
        created=outcome.created,
        displaced=outcome.displaced,
        skipped=len(outcome.skipped),
    )
    messages.success(request, done(data, outcome))
    return redirect("web:closures")


@login_required
@require_POST
def closures_import(request: HttpRequest) -> HttpResponse:
    """Closures from an uploaded .ics file, all or nothing (calendars.ics_import)."""
    _require_manager(request)
    targets, meaning = closure_targets(request.user, _managed_equipment(request.user))
    form = IcsImportForm(request.POST, request.FILES, targets=targets, prefix="ics")
    return _closures_from(
        request,
        form,
        meaning,
        # The service refuses a file over its limit: read no more than one byte beyond.
        lambda data, target: import_ics(
            data=data["file"].read(MAX_BYTES + 1),
            user=request.user,
            now=timezone.now(),
            **target,
        ),
        lambda data, outcome: (
            _("Imported %(created)d closure(s); %(skipped)d event(s) skipped.")
            % {"created": len(outcome.created), "skipped": len(outcome.skipped)}
        ),
    )


@login_required
@require_POST
def closures_holidays(request: HttpRequest) -> HttpResponse:
    """Close on the French public holidays of a year (calendars.holidays)."""
    _require_manager(request)
    targets, meaning = closure_targets(request.user, _managed_equipment(request.user))
    form = HolidaysForm(request.POST, targets=targets, prefix="holidays")
    return _closures_from(
        request,
        form,
        meaning,
        lambda data, target: import_public_holidays(
            years=[data["year"]], user=request.user, now=timezone.now(), **target
        ),
        lambda data, outcome: (
            _(
                "Public holidays of %(year)d: %(created)d closure(s) created, "
                "%(skipped)d already there."
            )
            % {
                "year": data["year"],
                "created": len(outcome.created),
                "skipped": len(outcome.skipped),
            }
        ),
    )
    year = form.cleaned_data["year"]
    try:
        outcome = import_public_holidays(
            years=[year],
            user=request.user,
            now=timezone.now(),
            **target_of(meaning, form.cleaned_data["target"]),
        )
    except DomainError as error:
        _import_errors(request, error)
        return redirect("web:closures")
    _closure_outcome(
        request,
        created=outcome.created,
        displaced=outcome.displaced,
        skipped=len(outcome.skipped),
    )
    messages.success(
        request,
        _("Public holidays of %(year)d: %(created)d closure(s) created, %(skipped)d already there.")
        % {"year": year, "created": len(outcome.created), "skipped": len(outcome.skipped)},
    )
    return redirect("web:closures")
