"""My reservations: upcoming and past, grouped by series and session; cancel after a
confirmation, check-in and check-out; the partner's bookings for its referents."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from core.timezones import day_bounds
from partners.models import Project
from partners.services import feed_token_for
from reservations.exceptions import BookingError
from reservations.forms import CancelForm, MoveForm, local_input
from reservations.models import Reservation, ReservationStatus
from reservations.permissions import can_be_cancelled, can_be_moved, check_in_open
from reservations.selectors import managed_equipment, reservations_visible_to
from reservations.services import (
    reservation_cancel,
    reservation_check_in,
    reservation_check_out,
    reservation_update,
)
from reservations.services.changes import cancel_targets
from reservations.services.noshows import record_no_shows
from reservations.web.common import (
    error_message,
    is_manager,
    next_url,
)
from reservations.web.hooks import my_reservations_shown, sections

RELATED = ("equipment__site", "project__partner", "booked_by", "usage")


@dataclass
class Occurrence:
    """One date of a group: the reservations of its equipment at the same times."""

    start: datetime
    end: datetime
    reservations: list[Reservation] = field(default_factory=list)

    @property
    def cancel_target(self) -> Reservation | None:
        """The reservation the cancel link names (the service is asked for each one)."""
        return next((r for r in self.reservations if r.can_cancel), None)  # type: ignore[attr-defined]

    @property
    def several_equipment(self) -> bool:
        return len(self.reservations) > 1


@dataclass
class Group:
    """A series, a session or a single reservation: one row of the page."""

    key: str
    kind: str  # "series", "session" or "single"
    occurrences: list[Occurrence] = field(default_factory=list)

    @property
    def first(self) -> Reservation:
        return self.occurrences[0].reservations[0]

    @property
    def last_occurrence(self) -> Occurrence:
        return self.occurrences[-1]

    @property
    def equipment(self) -> list[Any]:
        seen: dict[int, Any] = {}
        for occurrence in self.occurrences:
            for r in occurrence.reservations:
                seen.setdefault(r.equipment_id, r.equipment)
        return sorted(seen.values(), key=lambda e: e.code)

    @property
    def statuses(self) -> list[tuple[str, str, int]]:
        """Each status of the group's reservations with its label and count."""
        counts: dict[str, list[Any]] = {}
        for occurrence in self.occurrences:
            for r in occurrence.reservations:
                entry = counts.setdefault(r.status, [r.get_status_display(), 0])
                entry[1] += 1
        return [(status, label, n) for status, (label, n) in counts.items()]


def group_reservations(items: list[Reservation]) -> list[Group]:
    """Gather reservations of a series or a session into one group each, in the order
    of their first appearance; inside a group, one occurrence per start and end."""
    groups: dict[str, Group] = {}
    for r in items:
        if r.series_id:
            key, kind = f"series-{r.series_id}", "series"
        elif r.session_id:
            key, kind = f"session-{r.session_id}", "session"
        else:
            key, kind = f"reservation-{r.pk}", "single"
        group = groups.setdefault(key, Group(key=key, kind=kind))
        if group.occurrences and (group.occurrences[-1].start, group.occurrences[-1].end) == (
            r.start,
            r.end,
        ):
            group.occurrences[-1].reservations.append(r)
        else:
            occurrence = next(
                (o for o in group.occurrences if (o.start, o.end) == (r.start, r.end)), None
            )
            if occurrence is None:
                occurrence = Occurrence(start=r.start, end=r.end)
                group.occurrences.append(occurrence)
            occurrence.reservations.append(r)
    return list(groups.values())


def _my_reservations(user: Any) -> QuerySet[Reservation]:
    mine = Project.objects.filter(Q(members=user) | Q(leader=user)).values("pk")
    return Reservation.objects.filter(Q(booked_by=user) | Q(project__in=mine)).select_related(
        *RELATED
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
        r.can_move = can_be_moved(r, now)  # type: ignore[attr-defined]
        r.can_check_in = (  # type: ignore[attr-defined]
            confirmed and usage is None and check_in_open(r, now)
        )
        r.can_check_out = (  # type: ignore[attr-defined]
            confirmed and usage is not None and usage.checked_out_at is None
        )
        r.usage_record = usage  # type: ignore[attr-defined]
    return items


def _feed_url(user: Any) -> str:
    """The personal iCalendar address, public like the equipment page's (SITE_URL)."""
    token = feed_token_for(user=user)
    return f"{settings.SITE_URL}{reverse('calendars:me')}?{urlencode({'token': token.key})}"


def _is_referent(user: Any) -> bool:
    return bool(user.is_authenticated and user.referent_of.exists())


@login_required
def my_reservations(request: HttpRequest) -> HttpResponse:
    """Upcoming and past reservations the user booked or of their projects."""
    now = timezone.now()
    user = request.user
    # SPEC §5: past its check-in grace a reservation reads as a no-show.
    record_no_shows(now=now)
    qs = _my_reservations(user)
    upcoming = _annotate_actions(
        list(
            qs.filter(end__gt=now)
            .exclude(status=ReservationStatus.CANCELLED)
            .order_by("start", "equipment__code", "pk")
        ),
        now,
    )
    past_page = Paginator(
        qs.filter(end__lte=now).order_by("-start", "equipment__code", "-pk"), 20
    ).get_page(request.GET.get("past"))
    past = _annotate_actions(list(past_page), now)
    managed_today: list[Reservation] = []
    manager = is_manager(user)
    referent = _is_referent(user)
    if manager:
        day_start, day_end = day_bounds(timezone.localdate(now))
        managed = (
            Reservation.objects.overlapping(day_start, day_end)
            .filter(
                equipment__in=managed_equipment(user).values("pk"),
                status__in=(ReservationStatus.CONFIRMED, ReservationStatus.COMPLETED),
            )
            .select_related(*RELATED)
        )
        managed_today = _annotate_actions(
            list(managed.order_by("start", "equipment__code", "pk")), now
        )
    return render(
        request,
        "reservations/my.html",
        {
            "upcoming": group_reservations(upcoming),
            "past": group_reservations(past),
            "past_page": past_page,
            "managed_today": group_reservations(managed_today),
            "is_manager": manager,
            "is_referent": referent,
            "nav_manager": manager,
            "nav_referent": referent,
            "feed_url": _feed_url(user),
            "now": now,
            # What the apps above add (the waitlist: the user's entries).
            "sections": sections(my_reservations_shown, request=request, now=now),
        },
    )


@login_required
def partner_reservations(request: HttpRequest) -> HttpResponse:
    """For partner referents: the upcoming bookings of their partners' projects."""
    now = timezone.now()
    user: Any = request.user
    if not _is_referent(user):
        return HttpResponseRedirect(reverse("web:my"))
    record_no_shows(now=now)
    # Visibility stays the selector's (SPEC §6): a referent sees their partner's projects.
    qs = (
        reservations_visible_to(user)
        .filter(project__partner__referents=user, end__gt=now)
        .exclude(status=ReservationStatus.CANCELLED)
        .select_related(*RELATED)
        .order_by("start", "equipment__code", "pk")
    )
    page = Paginator(qs, 100).get_page(request.GET.get("page"))
    rows = _annotate_actions(list(page), now)
    return render(
        request,
        "reservations/my.html",
        {
            "partner_view": True,
            "partners": list(user.referent_of.order_by("name")),
            "partner_rows": group_reservations(rows),
            "partner_page": page,
            "is_referent": True,
            "nav_referent": True,
            "now": now,
        },
    )


def _visible_reservation(request: HttpRequest, pk: int) -> Reservation:
    return get_object_or_404(reservations_visible_to(request.user).select_related(*RELATED), pk=pk)


def _occurrence_of(reservation: Reservation, user: Any, now: datetime) -> list[Reservation]:
    """What "this one" cancels, as the service reads it (services.changes.cancel_targets):
    the occurrence on every equipment of its session the user may still cancel."""
    targets = cancel_targets(reservation, user, "this", now, whole_session=True, related=RELATED)
    return sorted(targets, key=lambda r: (r.equipment.code, r.pk))


def _series_dates(reservation: Reservation, user: Any, now: datetime) -> dict[str, int]:
    """How many dates "following" and "series" would cancel, as the service reads them
    ("following" is the series from this date on: one read answers both)."""
    if reservation.series_id is None:
        return {}
    targets = cancel_targets(reservation, user, "series", now, whole_session=True)
    starts = {r.start for r in targets}
    return {
        "following": len({start for start in starts if start >= reservation.start}),
        "series": len(starts),
    }


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation step (what will be cancelled); POST: cancel it."""
    reservation = _visible_reservation(request, pk)
    now = timezone.now()
    if request.method == "GET":
        occurrence = _occurrence_of(reservation, request.user, now)
        # The service refuses "this one" unless the reservation itself is among its targets.
        cancellable = reservation.end > now and reservation.pk in {r.pk for r in occurrence}
        return render(
            request,
            "reservations/cancel_confirm.html",
            {
                "reservation": reservation,
                # Nothing left to cancel: the reservation alone, with its status.
                "occurrence": occurrence if cancellable else [reservation],
                "cancellable": cancellable,
                "next": next_url(request, reverse("web:my"), request.GET.get("next", "")),
                "series_dates": _series_dates(reservation, request.user, now),
            },
        )
    form = CancelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Invalid input.") + " [invalid]")
        return HttpResponseRedirect(next_url(request, reverse("web:my")))
    scope = form.cleaned_data["scope"] or "this"
    reason = form.cleaned_data["reason"]
    try:
        # A date of a session is one line of the page: cancel it on every equipment.
        cancelled = reservation_cancel(
            reservation=reservation,
            user=request.user,
            now=now,
            scope=scope,
            reason=reason,
            whole_session=True,
        )
    except BookingError as error:
        error_message(request, error)
    else:
        messages.success(
            request,
            ngettext(
                "Cancelled: %(n)d reservation.",
                "Cancelled: %(n)d reservations.",
                len(cancelled),
            )
            % {"n": len(cancelled)},
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


def _on_fields(form: MoveForm, error: BookingError) -> bool:
    """Show the service's refusal on the move form's fields when it concerns them: those
    it names (`fields`), and a refusal of the times' shape (`invalid` naming no field: the
    form already read them as Paris times within the years, so it is their order) on the
    end. False when it concerns none of them (the page shows it above the form)."""
    fields = dict(error.extra.get("fields") or {})
    if not fields and error.code == "invalid":
        fields = {"end": [error.message]}
    if not fields or not set(fields) <= set(form.fields):
        return False
    for name, problems in fields.items():
        for problem in problems:
            form.add_error(name, ValidationError(problem, code=error.code))
    return True


@login_required
@require_http_methods(["GET", "POST"])
def move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move or resize one's reservation to new times; a refusal is shown next to the form
    with the times that could be taken instead (the service applies every rule)."""
    reservation = _visible_reservation(request, pk)
    now = timezone.now()
    movable = can_be_moved(reservation, now)
    refusal: dict[str, Any] | None = None
    status = 200
    if request.method == "POST" and movable:
        form = MoveForm(request.POST)
        if form.is_valid():
            try:
                reservation_update(
                    reservation=reservation,
                    user=request.user,
                    now=now,
                    start=form.cleaned_data["start"],
                    end=form.cleaned_data["end"],
                )
            except BookingError as error:
                status = error.status
                if not _on_fields(form, error):
                    refusal = {
                        "code": error.code,
                        "message": error.message,
                        # Times on this equipment only: a booking does not change equipment.
                        "alternatives": [
                            a
                            for a in error.extra.get("alternatives") or []
                            if a["equipment"] == reservation.equipment_id
                        ],
                    }
            else:
                messages.success(request, _("The reservation was moved."))
                return HttpResponseRedirect(next_url(request, reverse("web:my")))
        else:
            status = 400
    else:
        initial = {
            "start": local_input(reservation.start),
            "end": local_input(reservation.end),
        }
        for name in ("start", "end"):  # an alternative's link fills the form
            if request.GET.get(name):
                initial[name] = request.GET[name]
        form = MoveForm(initial=initial)
    alternatives = [
        {
            "start": a["start"],
            "end": a["end"],
            "url": reverse("web:move", args=[reservation.pk])
            + "?"
            + urlencode({"start": local_input(a["start"]), "end": local_input(a["end"])}),
        }
        for a in (refusal or {}).get("alternatives", [])
    ]
    return render(
        request,
        "reservations/move.html",
        {
            "reservation": reservation,
            "form": form,
            "movable": movable,
            "refusal": refusal,
            "alternatives": alternatives,
        },
        status=status,
    )
