"""What the booking pages share: manager checks, safe redirects, error messages."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from core.errors import DomainError
from equipment.selectors import manages_any
from reservations import permissions

BOOKING_RESULT = "web.booking_result"
CLOSURE_RESULT = "web.closure_result"


def code_labels() -> dict[str, str]:
    """Short words for the codes listed per occurrence (the first error has its message)."""
    return {
        "invalid": _("invalid"),
        "ambiguous_time": _("ambiguous local time"),
        "in_past": _("in the past"),
        "bad_granularity": _("off the time grid"),
        "too_short": _("too short"),
        "too_long": _("too long"),
        "outside_opening_hours": _("outside opening hours"),
        "closed": _("closed"),
        "equipment_unavailable": _("equipment unavailable"),
        "beyond_horizon": _("too far ahead"),
        "too_late": _("too late to book"),
        "not_project_member": _("not a project member"),
        "project_inactive": _("project inactive"),
        "not_qualified": _("qualification required"),
        "teaching_window": _("kept for teaching"),
        "quota_exceeded": _("quota exceeded"),
        "conflict": _("already booked"),
        "school_holiday": _("school holiday"),
    }


def is_manager(user: Any) -> bool:
    """permissions.may_use_manager_pages for this user."""
    if permissions.may_use_manager_pages(user, manages_any=False):
        return True  # a platform manager: no query
    return permissions.may_use_manager_pages(user, manages_any=manages_any(user))


def require_manager(request: HttpRequest) -> None:
    if not is_manager(request.user):
        raise PermissionDenied(_("This page is for platform and equipment managers."))


def next_url(request: HttpRequest, default: str, target: str | None = None) -> str:
    """`target` (the POSTed `next` when not given) if it stays on this site, else `default`."""
    if target is None:
        target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def error_message(request: HttpRequest, error: DomainError) -> None:
    messages.error(request, f"{error.message} [{error.code}]")
