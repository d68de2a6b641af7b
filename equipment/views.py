"""Web pages of the inventory: the catalogue and an equipment's page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from .models import Category, Site
from .policy_text import describe_policy
from .selectors import can_manage_equipment, equipment_list


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    site = _int_or_none(request.GET.get("site"))
    category = _int_or_none(request.GET.get("category"))
    q = request.GET.get("q", "").strip()
    items = equipment_list(site=site, category=category, q=q)
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    return render(
        request,
        "equipment/catalogue.html",
        {
            "page": page,
            "sites": Site.objects.all(),
            "categories": Category.objects.all(),
            "selected_site": site,
            "selected_category": category,
            "q": q,
        },
    )


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    equipment = get_object_or_404(equipment_list(), pk=pk)
    return render(
        request,
        "equipment/detail.html",
        {
            "equipment": equipment,
            "policy_lines": describe_policy(equipment.policy),
            "can_manage": can_manage_equipment(request.user, equipment),
        },
    )
