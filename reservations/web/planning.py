"""The planning page: a day or week across many equipment."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from equipment.models import Equipment
from reservations.forms import (
    PlanningForm,
)
from reservations.planning import build_planning, monday_of
from reservations.services.noshows import record_no_shows_of
from reservations.web.calendar_feed import calendar_settings

# The equipment columns the page reads (rows, blocks, no-shows, the calendar's resources).
PAGE_COLUMNS = (
    "code",
    "name",
    "status",
    "site",
    "category",
    "requires_check_in",
    "policy_overrides",
)


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
    # Only PAGE_COLUMNS: 200 equipment with their rates, texts and dates took longer to
    # read than the week's reservations.
    items = Equipment.objects.exclude(status=Equipment.Status.RETIRED).only(*PAGE_COLUMNS)
    if site is not None:
        items = items.filter(site=site)
    if category is not None:
        items = items.filter(category=category)
    equipment = list(items.order_by("site__name", "code"))
    record_no_shows_of(equipment, now=now)
    grid = build_planning(
        equipment=equipment, first_day=first, days=count, user=request.user, now=now
    )
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
            "calendar": calendar_settings(
                equipment=equipment,
                query={"equipment": [e.pk for e in equipment]} if equipment else {"site": 0},
                first_day=first,
                view="resourceTimelineDay" if view == "day" else "resourceTimelineWeek",
                views=["resourceTimelineDay", "resourceTimelineWeek"],
                day_view="resourceTimelineDay",
                grid=grid,
                replaces=["#planning-dates", "#planning-pager", "#planning-grid"],
                resources=True,
                narrow_day=day,
            ),
        },
    )
