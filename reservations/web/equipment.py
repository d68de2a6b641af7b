"""An equipment's page: facts, policy in plain words, its week and its feed link."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from equipment.forms import DocumentForm
from equipment.permissions import may_manage_documents, may_manage_equipment
from equipment.policy_text import describe_policy
from equipment.selectors import equipment_list, training_state, with_documents
from partners.services import feed_token_for
from reservations.forms import FIRST_YEAR, LAST_YEAR
from reservations.planning import build_grid, monday_of, opening_week
from reservations.services.noshows import record_no_shows
from reservations.web.calendar_feed import calendar_settings


def _week_of(value: str | None, opening: date) -> date:
    """The Monday of the week of `value` (an ISO date), else the week the page opens on."""
    try:
        day = date.fromisoformat(value) if value else opening
    except ValueError:
        day = opening
    if not FIRST_YEAR <= day.year <= LAST_YEAR:  # beyond, date arithmetic overflows
        day = opening
    return monday_of(day)


def _narrow_day(value: str | None, monday: date, today: date, equipment: Any) -> date:
    """The day a phone opens on (a day view): the day asked for, else today in the shown
    week, else its first open day."""
    try:
        asked = date.fromisoformat(value or "")
    except ValueError:
        asked = None
    week = [monday + timedelta(days=n) for n in range(7)]
    if asked in week:
        return asked
    if today in week:
        return today
    policy = equipment.policy
    return next((d for d in week if policy.opening_minutes(d.weekday())), monday)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An equipment: facts, documents, policy in plain words, its week calendar and
    iCalendar link."""
    equipment = get_object_or_404(with_documents(equipment_list()), pk=pk)
    can_manage = may_manage_equipment(request.user, equipment)
    # One read of the managers: who manages the equipment manages its documents.
    manages_documents = can_manage and may_manage_documents(request.user, equipment)
    now = timezone.now()
    today = timezone.localdate(now)
    # On a Sunday or once the week's open days are over, the next open week.
    opening = opening_week(equipment, today)
    monday = _week_of(request.GET.get("week"), opening)
    if equipment.requires_check_in:
        # Past its check-in grace a booking is a no-show and no longer busy (SPEC §5).
        record_no_shows(now=now, equipment_ids=[equipment.pk])
    grid = build_grid(equipment=[equipment], first_day=monday, days=7, user=request.user, now=now)
    token = feed_token_for(user=request.user)
    feed_path = reverse("calendars:equipment", args=[equipment.pk])
    # The address calendar clients subscribe to from outside: the public SITE_URL.
    feed_url = f"{settings.SITE_URL}{feed_path}?{urlencode({'token': token.key})}"
    return render(
        request,
        "equipment/detail.html",
        {
            "equipment": equipment,
            "policy_lines": describe_policy(equipment.policy),
            "can_manage": can_manage,
            "documents": equipment.documents.all(),
            "manages_documents": manages_documents,
            "document_form": DocumentForm() if manages_documents else None,
            # Who may ask for training on it (SPEC §13), and what became of their requests.
            "training": training_state(request.user, equipment, on=today)
            if equipment.requires_qualification
            else None,
            # The admin's own test: staff with the change permission (others are refused).
            "can_edit_in_admin": request.user.is_staff
            and request.user.has_perm("equipment.change_equipment"),
            "grid": grid,
            "previous_week": "?" + urlencode({"week": (monday - timedelta(days=7)).isoformat()}),
            "next_week": "?" + urlencode({"week": (monday + timedelta(days=7)).isoformat()}),
            "this_week": "?" + urlencode({"week": opening.isoformat()}),
            "feed_url": feed_url,
            "book_url": reverse("web:book") + "?" + urlencode({"equipment": equipment.pk}),
            "bookable": equipment.status == equipment.Status.ACTIVE,
            "calendar": calendar_settings(
                equipment=[equipment],
                query={"equipment": equipment.pk},
                first_day=monday,
                view="timeGridWeek",
                views=["timeGridDay", "timeGridWeek", "dayGridMonth", "listWeek"],
                day_view="timeGridDay",
                grid=grid,
                replaces=["#week > h2", "#week > .pager", "#week > .server-week"],
                resources=False,
                narrow_day=_narrow_day(request.GET.get("week"), monday, today, equipment),
            ),
        },
    )
