"""The managers' audit page (`/manage/audit/`): the trail each manager may read, filtered."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.models import AuditObject
from equipment.audit import (
    AuditFilters,
    audit_filtered,
    audit_visible_to,
    may_read_audit_now,
    read_filters,
)
from reservations.audit_text import describe
from reservations.web.common import code_labels

PAGE_SIZE = 50


@login_required
def audit_page(request: HttpRequest) -> HttpResponse:
    """Newest first; the same filters as `GET /api/v1/audit/`."""
    user: Any = request.user
    if not may_read_audit_now(user):
        raise PermissionDenied(_("This page is for platform and equipment managers."))
    error = None
    try:
        filters = read_filters(request.GET, reader=user)
    except DomainError as refused:
        error = refused
        filters = AuditFilters()
    entries = audit_filtered(audit_visible_to(user), filters)
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    kept = request.GET.copy()
    kept.pop("page", None)
    return render(
        request,
        "reservations/audit.html",
        {
            "rows": describe(list(page), rule_labels=code_labels()) if error is None else [],
            "page": page if error is None else None,
            "error": error,
            "objects": AuditObject.choices,
            "query": request.GET,
            "kept": kept.urlencode(),
            "nav_manager": True,
        },
        status=400 if error is not None else 200,
    )
