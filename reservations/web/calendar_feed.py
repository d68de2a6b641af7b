"""The busy time the browser calendars draw (SPEC §8): JSON for the equipment page and
the planning, read with the visibility rules of SPEC §6."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import reduce
from math import gcd
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from core.errors import words
from core.ids import is_id
from core.timezones import local_tz
from equipment.models import Equipment
from reservations.calendar_events import MAX_CALENDAR_DAYS, calendar_events
from reservations.forms import FIRST_YEAR, LAST_YEAR
from reservations.planning import Grid, equipment_links
from reservations.services.noshows import record_no_shows_of


def _day(value: str | None) -> date | None:
    """A local day from an ISO date, or the date part of an ISO date and time."""
    try:
        day = date.fromisoformat((value or "")[:10])
    except ValueError:
        return None
    return day if FIRST_YEAR <= day.year <= LAST_YEAR else None


def _invalid() -> JsonResponse:
    return JsonResponse({"code": "invalid", "detail": words("invalid")}, status=400)


@login_required
@require_GET
def events(request: HttpRequest) -> JsonResponse:
    """Busy blocks of some equipment (`equipment`, repeated, or a `site` or `category`)
    over the local days [`start`, `end`): reservations with their priority and, for who
    may see them in full, their details; buffers; closures; equipment out of service."""
    first, last = _day(request.GET.get("start")), _day(request.GET.get("end"))
    if first is None or last is None or not first < last <= first + timedelta(MAX_CALENDAR_DAYS):
        return _invalid()
    chosen = {name: request.GET.getlist(name) for name in ("equipment", "site", "category")}
    values = [v for found in chosen.values() for v in found]
    if not values or not all(is_id(v) for v in values):
        return _invalid()
    items = Equipment.objects.exclude(status=Equipment.Status.RETIRED)
    if chosen["equipment"]:
        items = items.filter(pk__in=[int(v) for v in chosen["equipment"]])
    if chosen["site"]:
        items = items.filter(site_id__in=[int(v) for v in chosen["site"]])
    if chosen["category"]:
        items = items.filter(category_id__in=[int(v) for v in chosen["category"]])
    equipment = list(items.order_by("pk"))
    now = timezone.now()
    record_no_shows_of(equipment, now=now)
    found = calendar_events(
        equipment=equipment, first_day=first, last_day=last, user=request.user, now=now
    )
    return JsonResponse(found, safe=False)


def calendar_words() -> dict[str, Any]:
    """The browser calendar's words in the reader's language: buttons and messages."""
    return {
        "buttons": {
            "today": _("Today"),
            "timeGridDay": _("Day"),
            "timeGridWeek": _("Week"),
            "dayGridMonth": _("Month"),
            "listWeek": _("List"),
            "resourceTimelineDay": _("Day"),
            "resourceTimelineWeek": _("Week"),
            "prev": _("Previous"),
            "next": _("Next"),
        },
        "moved": _("The reservation was moved."),
        "refused": _("The reservation could not be moved."),
        "unavailable": _("The calendar could not be loaded; reload the page."),
        "notBookable": _("This equipment cannot be booked now."),
        "otherEquipment": _(
            "A reservation cannot be moved to another equipment: book it there and cancel this one."
        ),
    }


def paris_offset(now: datetime) -> str:
    """Europe/Paris's offset from UTC now, as EventCalendar's `timeZone` reads it ("+01:00").

    EventCalendar 5 knows fixed offsets, not zone names: with Paris's offset its "now" line
    and "today" are Paris's whatever the browser's zone (the events already travel as Paris
    wall-clock times without offset). A page left open across a clock change is an hour off
    until it is reloaded.
    """
    minutes = int((timezone.localtime(now, local_tz()).utcoffset() or timedelta()).total_seconds())
    minutes //= 60
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def click_minutes(equipment: Equipment) -> int:
    """How long a click on a free hour selects: an hour, unless the equipment's policy
    says longer (its minimum) or shorter (its maximum), on its granularity."""
    policy = equipment.policy
    step, longest = policy.granularity_minutes, policy.max_duration_minutes
    wanted = min(max(60, policy.min_duration_minutes), longest)
    on_grid = -(-wanted // step) * step  # rounded up to the grid
    if on_grid > longest:
        on_grid = longest // step * step
    return max(step, on_grid)


def calendar_settings(
    *,
    equipment: Sequence[Equipment],
    query: dict[str, Any],
    first_day: date,
    view: str,
    views: list[str],
    day_view: str,
    grid: Grid,
    replaces: list[str],
    resources: bool,
    narrow_day: date | None = None,
) -> dict[str, Any]:
    """What calendar.js needs: where to read and write, what to show first, its words."""
    bookable = [e for e in equipment if e.status == Equipment.Status.ACTIVE] or list(equipment)
    # Drags and resizes land on every equipment's grid: the steps they all share.
    snap = reduce(gcd, (e.policy.granularity_minutes for e in bookable), 0) or 15
    settings: dict[str, Any] = {
        "timeZone": paris_offset(timezone.now()),
        "snap_minutes": snap,
        "click_minutes": click_minutes(bookable[0]) if bookable else 60,
        # Below 600 px a week's columns are too narrow to read: a day, the views still offered.
        "narrow_view": "resourceTimelineDay" if resources else "timeGridDay",
        "narrow_date": (narrow_day or first_day).isoformat(),
        "events": reverse("web:calendar_events") + "?" + urlencode(query, doseq=True),
        "book": reverse("web:book"),
        "api": reverse("reservation-list"),
        "date": first_day.isoformat(),
        "view": view,
        "views": views,
        "dayView": day_view,
        # The library snaps from the first minute shown, the rules count the grid from
        # midnight: start the view on a step of the grid (07:30 for 45 minutes, not 08:00).
        "first_minute": grid.first_minute // snap * snap,
        "last_minute": grid.last_minute,
        "replaces": replaces,
        "words": calendar_words(),
    }
    if resources:
        # The planning's 200 rows: the pages' URLs reversed once, a click's length computed
        # once per policy (Equipment.load_policies shares equal ones).
        links = equipment_links(e.pk for e in equipment)
        clicks: dict[int, int] = {}
        resources_list = []
        for e in equipment:
            policy = e.policy
            click = clicks.get(id(policy))
            if click is None:
                click = clicks[id(policy)] = click_minutes(e)
            active = e.status == Equipment.Status.ACTIVE
            resources_list.append(
                {
                    "id": e.pk,
                    "title": f"{e.code} · {e.name}"
                    + ("" if active else f" ({e.get_status_display()})"),
                    "extendedProps": {
                        "bookable": active,
                        "click_minutes": click,
                        "url": links[e.pk],
                    },
                }
            )
        settings["resources"] = resources_list
    else:
        (only,) = equipment
        settings["equipment"] = only.pk
        settings["selectable"] = only.status == Equipment.Status.ACTIVE
    return settings
