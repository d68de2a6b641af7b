"""The equipment catalogue (SPEC §8): search, site, category, "I am qualified", and free
time, which only bookings know (hence here and not in the inventory's app)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from equipment.forms import CatalogueFilterForm
from equipment.selectors import equipment_list
from reservations.forms import LocalDateTimeField
from reservations.selectors import equipment_free_between
from reservations.services.noshows import record_no_shows


class FreeCatalogueFilterForm(CatalogueFilterForm):
    """The catalogue's filters and a window over which the equipment must be free."""

    field_order = ["q", "site", "category", "free_from", "free_to", "qualified"]

    free_from = LocalDateTimeField(required=False, label=_("Free from"))
    free_to = LocalDateTimeField(required=False, label=_("Free until"))

    def clean(self) -> dict:
        data = super().clean() or {}
        start, end = data.get("free_from"), data.get("free_to")
        # Only a fully read window filters; a half-given one says what is missing.
        if start and not end and "free_to" not in self.errors:
            self.add_error("free_to", _("Give the end of the period too."))
        elif end and not start and "free_from" not in self.errors:
            self.add_error("free_from", _("Give the start of the period too."))
        elif start and end and end <= start:
            self.add_error("free_to", _("The end must come after the start."))
        return data


@login_required
def catalogue(request: HttpRequest) -> HttpResponse:
    """The inventory, searched (accents and case ignored) and filtered (SPEC §8).

    A filter whose value is unknown or unreadable (a removed site, an end before the
    start) is left out rather than refused: the page still lists, with that field's error
    shown next to it.
    """
    form = FreeCatalogueFilterForm(request.GET)
    form.is_valid()
    data = form.cleaned_data
    site, category = data.get("site"), data.get("category")
    now = timezone.now()
    items = equipment_list(
        site=site.pk if site else None,
        category=category.pk if category else None,
        q=(data.get("q") or "").strip(),
        usable_by=request.user if data.get("qualified") else None,
        on=timezone.localdate(now),
    )
    start, end = data.get("free_from"), data.get("free_to")
    if start and end and "free_from" not in form.errors and "free_to" not in form.errors:
        # A no-show's slot is free again (SPEC §5): recorded first, as every read does.
        record_no_shows(now=now)
        items = equipment_free_between(items, start, end)
    page = Paginator(items, 30).get_page(request.GET.get("page"))
    # The pager's links keep the search and the filters.
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "equipment/catalogue.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )
