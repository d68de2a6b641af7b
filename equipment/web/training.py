"""Training requests' pages (SPEC §13): ask from the equipment's page, withdraw, and the
managers' queue where they accept (with a validity date) or decline (with a reason).

Every write goes through equipment.services; each form posts, then redirects (a reload
never posts twice). The equipment's page itself is reservations.web.equipment.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.roles import is_platform_manager

from ..forms import TrainingAcceptForm, TrainingDeclineForm, TrainingRequestForm
from ..models import Equipment
from ..selectors import manages_any, training_requests_to_decide, training_requests_visible_to
from ..services import (
    training_request_accept,
    training_request_cancel,
    training_request_create,
    training_request_decline,
)


def _error_message(request: HttpRequest, error: DomainError) -> None:
    messages.error(request, f"{error.message} ({error.code})")


def _form_error(request: HttpRequest, form: Any) -> None:
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label}: {' '.join(errors)}" if label else " ".join(errors))


@login_required
@require_POST
def training_request(request: HttpRequest, pk: int) -> HttpResponse:
    """Ask for training on this equipment (from its page)."""
    equipment = get_object_or_404(Equipment, pk=pk)
    back = reverse("equipment:detail", args=[equipment.pk]) + "#training"
    form = TrainingRequestForm(request.POST)
    if not form.is_valid():
        _form_error(request, form)
        return redirect(back)
    try:
        training_request_create(
            user=request.user,
            equipment=equipment,
            message=form.cleaned_data["message"],
            now=timezone.now(),
        )
    except DomainError as error:
        _error_message(request, error)
    else:
        messages.success(request, _("Your training request is sent to the equipment's managers."))
    return redirect(back)


@login_required
@require_POST
def training_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    """Withdraw one's own pending request (others' answer 404)."""
    found = get_object_or_404(training_requests_visible_to(request.user), pk=pk)
    try:
        training_request_cancel(actor=request.user, training_request=found, now=timezone.now())
    except DomainError as error:
        _error_message(request, error)
    else:
        messages.success(request, _("Your training request is withdrawn."))
    return redirect(reverse("equipment:detail", args=[found.equipment_id]) + "#training")


def _require_manager(request: HttpRequest) -> None:
    if not (is_platform_manager(request.user) or manages_any(request.user)):
        raise PermissionDenied(_("This page is for platform and equipment managers."))


@login_required
def training_queue(request: HttpRequest) -> HttpResponse:
    """The pending training requests on the equipment the user manages, oldest first."""
    _require_manager(request)
    today = timezone.localdate()
    return render(
        request,
        "equipment/training_queue.html",
        {
            "pending": list(training_requests_to_decide(request.user)),
            "today": today,
            # A year is the usual validity of a training; the manager may choose another.
            "default_until": today + timedelta(days=365),
            "nav_manager": True,
        },
    )


@login_required
@require_POST
def training_decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    """Accept (with `valid_until`) or decline (with `reason`) a request of the queue."""
    _require_manager(request)
    found = get_object_or_404(training_requests_to_decide(request.user), pk=pk)
    back = reverse("web:training_queue")
    now = timezone.now()
    try:
        if decision == "accept":
            form: Any = TrainingAcceptForm(request.POST)
            if not form.is_valid():
                _form_error(request, form)
                return redirect(f"{back}#training-{found.pk}")
            training_request_accept(
                actor=request.user,
                training_request=found,
                valid_until=form.cleaned_data["valid_until"],
                now=now,
            )
            text = _("Accepted: %(user)s is qualified on %(equipment)s.")
        else:
            form = TrainingDeclineForm(request.POST)
            reason = form.cleaned_data["reason"] if form.is_valid() else ""
            training_request_decline(
                actor=request.user, training_request=found, reason=reason, now=now
            )
            text = _("Declined: the training request of %(user)s on %(equipment)s.")
    except DomainError as error:
        _error_message(request, error)
        return redirect(f"{back}#training-{found.pk}")
    who = found.user.get_full_name() or found.user.get_username()
    messages.success(request, text % {"user": who, "equipment": found.equipment.code})
    return redirect(back)
