"""The booking form, its refusals with alternatives, and the confirmation page."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from equipment.models import Equipment
from reservations.exceptions import BookingError
from reservations.forms import (
    BookingForm,
    local_input,
)
from reservations.models import LIVE_STATUSES, Reservation, ReservationStatus
from reservations.selectors import reservations_visible_to
from reservations.services import (
    reservation_create,
)
from reservations.web.common import (
    BOOKING_RESULT,
    code_labels,
    is_manager,
)


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


def _conflicts(error: BookingError, form: BookingForm) -> list[dict[str, Any]]:
    """What is in the way, with the equipment it holds (the API's conflicts are times)."""
    listed = error.extra.get("conflicts") or []
    if not listed:
        return []
    chosen = list(form.cleaned_data.get("equipment") or [])
    holders = {
        (start, end): equipment
        for start, end, equipment in Reservation.objects.filter(
            equipment__in=chosen,
            status__in=LIVE_STATUSES,
            start__in={c["start"] for c in listed},
        )
        .select_related("equipment")
        .values_list("start", "end", "equipment__code")
    }
    only = chosen[0].code if len(chosen) == 1 else ""
    return [
        {
            "start": c["start"],
            "end": c["end"],
            "equipment": holders.get((c["start"], c["end"]), only),
        }
        for c in listed
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
    can_override = is_manager(user)
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
                    "conflicts": _conflicts(error, form),
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
