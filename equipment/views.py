"""Web pages of the inventory: the catalogue (an equipment's page, with its bookings, is
reservations.web.equipment)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Category, Site
from .selectors import equipment_list


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
