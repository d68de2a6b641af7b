"""The booking form, its refusals with alternatives, and the confirmation page."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.errors import words
from core.ids import is_id
from core.timezones import TimeError, day_bounds, local_tz, parse_local
from equipment.models import Equipment
from reservations import rules
from reservations.calendar_events import DAY_IN_WORDS
from reservations.exceptions import BookingError
from reservations.forms import (
    FIRST_YEAR,
    LAST_YEAR,
    TERM_PRESETS,
    BookingForm,
    local_input,
    term_last_day,
)
from reservations.models import LIVE_STATUSES, Reservation, ReservationStatus
from reservations.selectors import availabilities, reservations_visible_to
from reservations.services import BookingOutcome, reservation_create
from reservations.services.noshows import record_no_shows_of
from reservations.web.common import (
    BOOKING_RESULT,
    code_labels,
    is_manager,
)
from reservations.web.hooks import booking_refused, sections

_PREFILLED = (
    "project",
    "start",
    "end",
    "title",
    "expected_participants",
    "frequency",
    "interval",
    "repeat_end",
    "term",
    "until",
    "count",
    "school_holidays",
)
# A preview reads the free time of so many of the ticked equipment at most.
PREVIEW_MAX = 12


def _prefill(query: QueryDict) -> dict[str, Any]:
    """Initial values from the query string: a "Book" button, an alternative's link, or the
    form itself sent again to show the free time."""
    initial: dict[str, Any] = {}
    ids = [v for v in query.getlist("equipment") if is_id(v)]
    if ids:
        initial["equipment"] = [int(v) for v in ids]
    for name in _PREFILLED:
        value = query.get(name, "").strip()
        if value:
            initial[name] = value
    days = query.getlist("weekdays")
    if days:
        initial["weekdays"] = days
    for name in ("skip_conflicts", "override"):
        if query.get(name):
            initial[name] = True
    return initial


def _preview_day(value: Any, now: datetime) -> date:
    """The local day whose free time is shown: the start's, else today."""
    try:
        return parse_local(value).astimezone(local_tz()).date()
    except TimeError:
        return now.astimezone(local_tz()).date()


def _preview(initial: dict[str, Any], now: datetime) -> dict[str, Any]:
    """Busy and free time of the ticked equipment on the day of the start, each drawn on
    a bar spanning the opening hours of them all that day (two queries for the times)."""
    day = _preview_day(initial.get("start"), now)
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        day = now.astimezone(local_tz()).date()
    first, last = day_bounds(day)
    chosen = list(
        Equipment.objects.exclude(status=Equipment.Status.RETIRED)
        .filter(pk__in=initial.get("equipment") or [])
        .order_by("code")[:PREVIEW_MAX]
    )
    kinds = {"reservation": _("booked"), "buffer": _("set-up time"), "closure": _("closed")}
    record_no_shows_of(chosen, now=now)
    found = availabilities(chosen, first, last)
    tz = local_tz()
    opening = [
        o
        for item in chosen
        for o in rules.opening_intervals(item.policy, first, last, tz)
        if o.start < o.end
    ]
    hours = (
        (_minutes(day, min(o.start for o in opening)), _minutes(day, max(o.end for o in opening)))
        if opening
        else (0, 24 * 60)
    )
    items = []
    for item in chosen:
        times = found[item.pk]
        busy = [{**b, "label": kinds.get(b["kind"], b["kind"])} for b in times["busy"]]
        _bar, low, high = day_bar(day, times["free"], busy, hours=hours)
        hours = (min(hours[0], low), max(hours[1], high))
        items.append({"equipment": item, "free": times["free"], "busy": busy})
    for entry in items:  # every bar on one scale, the widest any of them needs
        entry["bar"] = day_bar(day, entry["free"], entry["busy"], hours=hours)[0]
    low, high = hours
    return {
        "day": day,
        "items": items,
        "low": f"{low // 60:02d}:{low % 60:02d}",
        "high": f"{high // 60:02d}:{high % 60:02d}",
    }


def _minutes(day: date, moment: datetime) -> int:
    """Minutes from the local midnight of `day`, clamped to the day."""
    local = moment.astimezone(local_tz())
    if local.date() < day:
        return 0
    if local.date() > day:
        return 24 * 60
    return local.hour * 60 + local.minute


def day_bar(
    day: date,
    free: list[dict[str, Any]],
    busy: list[dict[str, Any]],
    *,
    hours: tuple[int, int] = (7 * 60, 20 * 60),
) -> tuple[list[dict[str, Any]], int, int]:
    """Segments of a day bar in percent of `hours` (minutes from midnight: the opening
    hours), widened to what it must show; with the bar's first and last minute."""
    spans = [("free", _minutes(day, f["start"]), _minutes(day, f["end"])) for f in free] + [
        ("busy", _minutes(day, b["start"]), _minutes(day, b["end"])) for b in busy
    ]
    low = min([hours[0], *(s for _k, s, e in spans if e > s)])
    high = max([hours[1], *(e for _k, s, e in spans if e > s)])
    if high <= low:
        low, high = 0, 24 * 60
    scale = 100 / (high - low)
    segments = [
        {
            "kind": kind,
            "left": f"{(start - low) * scale:.2f}",
            "width": f"{(end - start) * scale:.2f}",
        }
        for kind, start, end in spans
        if end > start
    ]
    return segments, low, high


@login_required
def free_time(request: HttpRequest) -> HttpResponse:
    """The preview as an HTML fragment, for the booking page's script: the ticked
    equipment (`equipment`, repeated) on the day of `start`."""
    preview = _preview(_prefill(request.GET), timezone.now())
    return render(request, "reservations/_free_time.html", {"preview": preview})


def parse_date_or_none(text: str) -> date | None:
    try:
        return parse_date(text)
    except ValueError:  # well formed, not a date: 2027-02-30
        return None


@login_required
def term_end(request: HttpRequest) -> JsonResponse:
    """The last day of a term preset (`term`) from the day of `start`, for the booking
    page's buttons: `{until, words}`, or `{code, detail}` where the zone B calendar does
    not say (the form reads the same presets without JavaScript)."""
    preset = request.GET.get("term", "")
    # Only the day matters: read the date part, so that a start in the night of a clock
    # change (02:30 in March does not exist) still finds its term.
    day = parse_date_or_none(request.GET.get("start", "")[:10])
    if preset not in TERM_PRESETS or day is None or not FIRST_YEAR <= day.year <= LAST_YEAR:
        return JsonResponse({"code": "invalid", "detail": words("invalid")}, status=400)
    try:
        last = term_last_day(preset, day)
    except ValidationError as error:
        return JsonResponse({"code": error.code, "detail": error.messages[0]}, status=400)
    return JsonResponse(
        {
            "until": last.isoformat(),
            "words": _("Last day set to %(day)s.") % {"day": date_format(last, DAY_IN_WORDS)},
        }
    )


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
        if name == "recurrence.skip_school_holidays":
            field = "school_holidays"
        elif name.startswith("recurrence"):
            field = "count" if form.cleaned_data.get("repeat_end") == "count" else "until"
        for problem in problems:
            form.add_error(field, ValidationError(problem, code=error.code))


@login_required
def book(request: HttpRequest) -> HttpResponse:
    """The booking form: one equipment, a session of several, or a series; "Show free
    time" sends it back with the chosen equipment's free time instead of booking."""
    user = request.user
    can_override = is_manager(user)
    status = 200
    refusal: dict[str, Any] | None = None
    preview: dict[str, Any] | None = None
    if request.method == "POST" and request.POST.get("preview"):
        # "Show free time" without JavaScript: the form comes back as typed, unchecked.
        initial = _prefill(request.POST)
        form = BookingForm(initial=initial, user=user, can_override=can_override)
        preview = _preview(initial, timezone.now())
    elif request.method == "POST":
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
                    skip_school_holidays=data.get("skip_school_holidays"),
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
                    # What the apps above offer (the waitlist: "join the waitlist").
                    "sections": sections(booking_refused, request=request, form=form, error=error),
                }
                _apply_field_errors(form, error)
            else:
                remember_booking(request, outcome)
                return redirect("web:book_done")
        else:
            status = 400
    else:
        form = BookingForm(initial=_prefill(request.GET), user=user, can_override=can_override)
    return render(
        request,
        "reservations/book.html",
        {
            "form": form,
            "refusal": refusal,
            "preview": preview,
            "nav_manager": can_override,
        },
        status=status,
    )


def remember_booking(request: HttpRequest, outcome: BookingOutcome) -> None:
    """Keep what a booking did for the confirmation page (book_done)."""
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
            "weeks": weeks_of(created),
            "displaced": displaced,
            "skipped": skipped,
            "series": result.get("series"),
            "session": result.get("session"),
            "pending": sum(1 for r in created if r.status == ReservationStatus.PENDING),
        },
    )


def weeks_of(reservations: list[Reservation]) -> list[dict[str, Any]]:
    """Reservations by ISO week (from its local Monday), the equipment of one time together:
    a class on three workstations for a term is one row a week, not three."""
    tz = local_tz()
    weeks: dict[date, dict[tuple[Any, ...], dict[str, Any]]] = {}
    for r in sorted(reservations, key=lambda r: (r.start, r.equipment.code)):
        day = r.start.astimezone(tz).date()
        monday = day - timedelta(days=day.weekday())
        key = (r.start, r.end, r.title, r.project_id)
        row = weeks.setdefault(monday, {}).setdefault(
            key, {"start": r.start, "end": r.end, "first": r, "items": []}
        )
        row["items"].append(r)
    return [{"monday": m, "rows": list(rows.values())} for m, rows in sorted(weeks.items())]
