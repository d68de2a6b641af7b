"""Web pages of the inventory: the catalogue (an equipment's page, with its bookings, is
reservations.web.equipment)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .forms import CatalogueFilterForm
from .selectors import equipment_list


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    """The inventory, searched (accents and case ignored) and filtered (SPEC §8).

    A filter whose value is unknown (a removed site) is left out rather than refused:
    the page still lists, with that field's error shown next to it.
    """
    form = CatalogueFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    site, category = data.get("site"), data.get("category")
    items = equipment_list(
        site=site.pk if site else None,
        category=category.pk if category else None,
        q=(data.get("q") or "").strip(),
        usable_by=request.user if data.get("qualified") else None,
        on=timezone.localdate(timezone.now()),
    )
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    # The pager's links keep the search and the filters.
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "equipment/catalogue.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )
