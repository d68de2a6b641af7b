"""Managers' approvals queue."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from reservations.exceptions import BookingError
from reservations.forms import (
    DecisionForm,
)
from reservations.models import Reservation
from reservations.selectors import pending_requests_for
from reservations.services import (
    reservation_approve,
    reservation_reject,
)
from reservations.web.common import require_manager

# A refused decision, kept for the next page of the queue so that it shows next to its row.
DECISION_ERROR = "web.decision_error"


def _pending_for(user: Any) -> QuerySet[Reservation]:
    return pending_requests_for(user)


@login_required
def approvals(request: HttpRequest) -> HttpResponse:
    """Pending requests on the equipment the user manages, oldest start first."""
    require_manager(request)
    pending = list(_pending_for(request.user).order_by("start", "pk"))
    refused = request.session.pop(DECISION_ERROR, None)
    if refused:
        for r in pending:
            if r.pk == refused["pk"]:
                r.decision_error = refused  # type: ignore[attr-defined]
    return render(
        request,
        "reservations/approvals.html",
        {"pending": pending, "now": timezone.now(), "nav_manager": True},
    )


@login_required
@require_POST
def decide(request: HttpRequest, pk: int, decision: str) -> HttpResponse:
    require_manager(request)
    reservation = get_object_or_404(_pending_for(request.user), pk=pk)
    form = DecisionForm(request.POST)
    reason = form.cleaned_data["reason"].strip() if form.is_valid() else ""
    service = reservation_approve if decision == "approve" else reservation_reject
    try:
        done = service(
            reservation=reservation, user=request.user, now=timezone.now(), reason=reason
        )
    except BookingError as error:
        # Shown on the request's own row, with the reason typed so far (see approvals()).
        request.session[DECISION_ERROR] = {
            "pk": reservation.pk,
            "message": str(error.message),
            "code": error.code,
            "reason": reason,
        }
        return redirect(f"{reverse('web:approvals')}#request-{reservation.pk}")
    else:
        text = _("Approved: %(title)s.") if decision == "approve" else _("Rejected: %(title)s.")
        messages.success(request, text % {"title": done.title})
    return redirect("web:approvals")
