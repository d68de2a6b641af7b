"""My reservations: upcoming and past, cancel, check-in and check-out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.timezones import day_bounds
from partners.models import Project
from reservations.exceptions import BookingError
from reservations.forms import (
    CancelForm,
)
from reservations.models import Reservation, ReservationStatus
from reservations.permissions import can_be_cancelled, check_in_open
from reservations.selectors import managed_equipment, reservations_visible_to
from reservations.services import (
    reservation_cancel,
    reservation_check_in,
    reservation_check_out,
)
from reservations.services.noshows import record_no_shows
from reservations.web.common import (
    error_message,
    is_manager,
    next_url,
)


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
    record_no_shows(now=now)
    qs = _my_reservations(user)
    upcoming = _annotate_actions(list(qs.filter(end__gt=now).order_by("start", "pk")), now)
    past_page = Paginator(qs.filter(end__lte=now).order_by("-start", "-pk"), 20).get_page(
        request.GET.get("past")
    )
    past = _annotate_actions(list(past_page), now)
    managed_today: list[Reservation] = []
    manager = is_manager(user)
    if manager:
        day_start, day_end = day_bounds(timezone.localdate(now))
        managed = Reservation.objects.filter(
            equipment__in=managed_equipment(user).values("pk"),
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
            "is_manager": manager,
            "nav_manager": manager,
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
        return HttpResponseRedirect(next_url(request, reverse("web:my")))
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
        error_message(request, error)
    else:
        messages.success(
            request,
            _("Cancelled: %(n)d reservation(s).") % {"n": len(cancelled)},
        )
    return HttpResponseRedirect(next_url(request, reverse("web:my")))


@login_required
@require_POST
def check_in(request: HttpRequest, pk: int) -> HttpResponse:
    reservation = _visible_reservation(request, pk)
    try:
        reservation_check_in(reservation=reservation, user=request.user, now=timezone.now())
    except BookingError as error:
        error_message(request, error)
    else:
        messages.success(request, _("Checked in: %(title)s.") % {"title": reservation.title})
    return HttpResponseRedirect(next_url(request, reverse("web:my")))


@login_required
@require_POST
def check_out(request: HttpRequest, pk: int) -> HttpResponse:
    reservation = _visible_reservation(request, pk)
    try:
        reservation_check_out(reservation=reservation, user=request.user, now=timezone.now())
    except BookingError as error:
        error_message(request, error)
    else:
        messages.success(request, _("Checked out: %(title)s.") % {"title": reservation.title})
    return HttpResponseRedirect(next_url(request, reverse("web:my")))
