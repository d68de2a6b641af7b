"""Managers' closures pages: list, create, remove, .ics import and public holidays.

They live above the reservations app because the import and the holidays are calendars'
jobs; the closure itself is made by reservations.services.closures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format, time_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from calendars.holidays import import_public_holidays
from calendars.ics_import import MAX_BYTES, import_ics
from core.errors import DomainError, words
from core.timezones import local_tz
from reservations import permissions
from reservations.exceptions import BookingError
from reservations.forms import (
    ClosureForm,
    HolidaysForm,
    IcsImportForm,
    closure_targets,
    target_of,
)
from reservations.models import Closure, Reservation
from reservations.selectors import closures_concerning, managed_equipment, reservations_visible_to
from reservations.services import closure_create, closure_delete
from reservations.web.common import (
    CLOSURE_RESULT,
    error_message,
    require_manager,
)


def period_label(start: datetime, end: datetime) -> str:
    """A closure's period in the reader's words, in local time.

    Whole local days (midnight to midnight, as holidays and all-day .ics events are stored)
    read as dates, the last day included: "24/12/2026 → 26/12/2026", or "24 December 2026"
    for one day; other periods keep their times.
    """
    tz = local_tz()
    first, last = start.astimezone(tz), end.astimezone(tz)
    if first.time() == time(0) and last.time() == time(0) and last > first:
        last_day = last.date() - timedelta(days=1)
        if last_day == first.date():
            return date_format(first.date(), "DATE_FORMAT")
        return (
            f"{date_format(first.date(), 'SHORT_DATE_FORMAT')} → "
            f"{date_format(last_day, 'SHORT_DATE_FORMAT')}"
        )
    if first.date() == last.date():
        return (
            f"{date_format(first.date(), 'DATE_FORMAT')}, "
            f"{time_format(first.time(), 'H:i')}–{time_format(last.time(), 'H:i')}"
        )
    return (
        f"{date_format(first.date(), 'SHORT_DATE_FORMAT')} {time_format(first.time(), 'H:i')}"
        f" → {date_format(last.date(), 'SHORT_DATE_FORMAT')} {time_format(last.time(), 'H:i')}"
    )


def source_label(source: str) -> str:
    """Where a closure came from, in words (its `source` holds an .ics UID or a date)."""
    if source.startswith("ics:"):
        return _("Imported (.ics)")
    if source.startswith("holiday:"):
        return _("Public holiday")
    return _("Entered by hand")


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
    require_manager(request)
    user = request.user
    now = timezone.now()
    targets, meaning = closure_targets(user, managed_equipment(user))
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
    managed_ids = set(managed_equipment(user).values_list("pk", flat=True))
    listed = list(closures_concerning(user).filter(end__gt=now).order_by("start", "pk"))
    for c in listed:
        c.can_delete = permissions.may_close(  # type: ignore[attr-defined]
            user, equipment=c.equipment, manages=c.equipment_id in managed_ids
        )
        c.period = period_label(c.start, c.end)  # type: ignore[attr-defined]
        c.origin = source_label(c.source)  # type: ignore[attr-defined]
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
    require_manager(request)
    closure = get_object_or_404(closures_concerning(request.user), pk=pk)
    try:
        closure_delete(closure=closure, user=request.user)
    except BookingError as error:
        error_message(request, error)
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
    if error.key == "invalid_ics":
        # Its words end with the parser's own English error, which tells a manager who
        # uploaded a .txt or a .pdf nothing: say it in the catalogue's words only.
        messages.error(request, f"{words('invalid_ics.no_calendar')} [{error.code}]")
        return
    error_message(request, error)
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


def _imported(created: int, skipped: int) -> str:
    closures = ngettext("Imported %(count)d closure.", "Imported %(count)d closures.", created) % {
        "count": created
    }
    if not skipped:
        return closures
    events = ngettext("%(count)d event skipped.", "%(count)d events skipped.", skipped) % {
        "count": skipped
    }
    return f"{closures} {events}"


def _holidays_closed(year: int, created: int, skipped: int) -> str:
    closures = ngettext(
        "Public holidays of %(year)d: %(count)d closure created.",
        "Public holidays of %(year)d: %(count)d closures created.",
        created,
    ) % {"year": year, "count": created}
    if not skipped:
        return closures
    there = ngettext("%(count)d was already there.", "%(count)d were already there.", skipped) % {
        "count": skipped
    }
    return f"{closures} {there}"


@login_required
@require_POST
def closures_import(request: HttpRequest) -> HttpResponse:
    """Closures from an uploaded .ics file, all or nothing (calendars.ics_import)."""
    require_manager(request)
    targets, meaning = closure_targets(request.user, managed_equipment(request.user))
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
        lambda data, outcome: _imported(len(outcome.created), len(outcome.skipped)),
    )


@login_required
@require_POST
def closures_holidays(request: HttpRequest) -> HttpResponse:
    """Close on the French public holidays of a year (calendars.holidays)."""
    require_manager(request)
    targets, meaning = closure_targets(request.user, managed_equipment(request.user))
    form = HolidaysForm(request.POST, targets=targets, prefix="holidays")
    return _closures_from(
        request,
        form,
        meaning,
        lambda data, target: import_public_holidays(
            years=[data["year"]], user=request.user, now=timezone.now(), **target
        ),
        lambda data, outcome: _holidays_closed(
            data["year"], len(outcome.created), len(outcome.skipped)
        ),
    )
