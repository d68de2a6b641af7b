"""Waitlist pages (SPEC §8, §10): join from a refused booking, the user's entries on "my
reservations", cancel after a confirmation, and the managers' waitlist of their equipment.

The booking pages are reservations'; this app adds to them through the hooks of
reservations.web.hooks (connected in WaitlistConfig.ready). Every write goes through
waitlist.services; each form posts, then redirects (a reload never posts twice).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_http_methods, require_POST

from core.ids import is_id
from reservations.exceptions import BookingError
from reservations.forms import BookingForm, CancelForm
from reservations.selectors import managed_equipment
from reservations.web.booking import remember_booking
from reservations.web.common import error_message, is_manager, next_url, require_manager
from reservations.web.hooks import Section, booking_refused, my_reservations_shown

from .models import EntryStatus, WaitlistEntry
from .selectors import PROMOTION_ORDER, entries_visible_to, with_position
from .services import may_cancel, waitlist_cancel, waitlist_join

# The entries of the last join, for its confirmation page.
JOIN_RESULT = "web.waitlist_join_result"
# What the booking form sends that is not the request itself.
_NOT_THE_REQUEST = {"csrfmiddlewaretoken", "preview"}
# Entries no longer waiting stay on "my reservations" for so long.
RECENT = timedelta(days=30)
RECENT_MAX = 10
RELATED = ("equipment__site", "project__partner", "booked_by")


# --- hooks of the booking pages ---------------------------------------------------------


def offer_to_join(sender: Any, *, request: HttpRequest, form: Any, error: Any, **kwargs: Any):
    """Beside a conflict, a button that queues the same request (the form as it was sent,
    hidden); a session is queued as one group, booked later only as a whole."""
    if error.code != "conflict" or not form.cleaned_data.get("equipment"):
        return None
    session = len(form.cleaned_data["equipment"]) > 1
    return Section("waitlist/_join.html", {"fields": _sent(form.data), "session": session})


def my_entries(sender: Any, *, request: HttpRequest, now: datetime, **kwargs: Any):
    """The user's waiting entries with their position, and those that ended lately."""
    # Expiry is the worker's (waitlist.tasks, every two minutes): a read writes nothing.
    mine = WaitlistEntry.objects.filter(booked_by_id=request.user.pk).select_related(*RELATED)
    waiting = list(with_position(mine.filter(status=EntryStatus.WAITING)).order_by("start", "pk"))
    recent = list(
        mine.exclude(status=EntryStatus.WAITING)
        .filter(updated_at__gte=now - RECENT)
        .select_related("reservation")
        .order_by("-updated_at", "-pk")[:RECENT_MAX]
    )
    return Section("waitlist/_my_entries.html", {"waiting": waiting, "recent": recent, "now": now})


def connect() -> None:
    booking_refused.connect(offer_to_join, dispatch_uid="waitlist.offer_to_join")
    my_reservations_shown.connect(my_entries, dispatch_uid="waitlist.my_entries")


# --- join --------------------------------------------------------------------------------


def _sent(data: Any) -> list[tuple[str, str]]:
    """The booking form's request as it was sent (a QueryDict: repeated names kept)."""
    return [(k, v) for k, values in data.lists() if k not in _NOT_THE_REQUEST for v in values]


def _back_to_form(form: BookingForm) -> str:
    """The booking form filled with the request again (its query string prefills it)."""
    pairs = _sent(form.data)
    return reverse("web:book") + "?" + urlencode(pairs)


@login_required
@require_POST
def join(request: HttpRequest) -> HttpResponse:
    """Queue the booking form's request (the refusal's button): booked if the time freed in
    the meantime, queued if it is still taken, refused as the form would be otherwise."""
    user = request.user
    form = BookingForm(request.POST, user=user, can_override=is_manager(user))
    if not form.is_valid():
        messages.error(request, _("The request is no longer valid: check the form again."))
        return redirect(_back_to_form(form))
    data = form.cleaned_data
    try:
        joined = waitlist_join(
            user=user,
            project=data["project"],
            equipment_ids=[e.pk for e in data["equipment"]],
            start=data["start"],
            end=data["end"],
            title=data["title"],
            expected_participants=data["expected_participants"],
            rrule=form.rrule(),
            skip_school_holidays=data.get("skip_school_holidays"),
            override=bool(data.get("override")),
            now=timezone.now(),
        )
    except BookingError as error:
        error_message(request, error)
        return redirect(_back_to_form(form))
    if joined.booking is not None:
        remember_booking(request, joined.booking)
    if not joined.entries:
        messages.success(request, _("The time is free again: it is booked."))
        return redirect("web:book_done")
    request.session[JOIN_RESULT] = {
        "entries": [e.pk for e in joined.entries],
        "booked": len(joined.booking.reservations) if joined.booking else 0,
    }
    return redirect("web:waitlist_joined")


@login_required
def joined(request: HttpRequest) -> HttpResponse:
    """The confirmation of the last join: the entries with their positions."""
    result = request.session.get(JOIN_RESULT)
    if not result:
        return redirect("web:my")
    entries = list(
        with_position(entries_visible_to(request.user).filter(pk__in=result["entries"]))
        .select_related(*RELATED)
        .order_by("start", "pk")
    )
    return render(
        request,
        "waitlist/joined.html",
        {"entries": entries, "booked": result.get("booked", 0)},
    )


# --- cancel ------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the confirmation step; POST: leave the waitlist. Entries the user may not see
    answer 404 (SPEC §6); the service decides who may cancel."""
    entry = get_object_or_404(
        with_position(entries_visible_to(request.user)).select_related(*RELATED), pk=pk
    )
    back = reverse("web:my") + "#waitlist"
    if request.method == "GET":
        return render(
            request,
            "waitlist/cancel_confirm.html",
            {
                "entry": entry,
                "cancellable": entry.status == EntryStatus.WAITING
                and may_cancel(request.user, entry),
                "next": next_url(request, back, request.GET.get("next", "")),
            },
        )
    form = CancelForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    try:
        waitlist_cancel(entry=entry, user=request.user, now=timezone.now(), reason=reason)
    except BookingError as error:
        error_message(request, error)
    else:
        messages.success(request, _("You left the waitlist: %(title)s.") % {"title": entry.title})
    return HttpResponseRedirect(next_url(request, back))


# --- the managers' waitlist --------------------------------------------------------------


def _managed_waiting(user: Any) -> QuerySet[WaitlistEntry]:
    return WaitlistEntry.objects.filter(
        status=EntryStatus.WAITING, equipment__in=managed_equipment(user).values("pk")
    )


@login_required
def manage(request: HttpRequest) -> HttpResponse:
    """The waiting entries on the equipment the user manages, in promotion order for each
    equipment (`equipment` filters one; one the user does not manage answers 404)."""
    require_manager(request)
    user = request.user
    choices = list(managed_equipment(user).order_by("code").only("pk", "code", "name"))
    qs = _managed_waiting(user)
    chosen = request.GET.get("equipment", "")
    if chosen:
        if not is_id(chosen) or not managed_equipment(user).filter(pk=int(chosen)).exists():
            raise Http404(_("No equipment you manage has this id."))
        qs = qs.filter(equipment_id=int(chosen))
    ordered = (
        with_position(qs).select_related(*RELATED).order_by("equipment__code", *PROMOTION_ORDER)
    )
    page = Paginator(ordered, 100).get_page(request.GET.get("page"))
    total = page.paginator.count
    return render(
        request,
        "waitlist/manage.html",
        {
            "entries": list(page),
            "page": page,
            "choices": choices,
            "chosen": int(chosen) if chosen else None,
            "count": ngettext("%(n)d entry waits.", "%(n)d entries wait.", total) % {"n": total},
            "here": request.get_full_path(),
            "nav_manager": True,
        },
    )
