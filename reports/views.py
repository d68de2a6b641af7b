"""The managers' usage report page: a window and a grouping, the table, exports, charts."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from core.timezones import local_tz
from partners.models import ProjectKind

from . import charts
from .labels import DIMENSION_LABELS, FIGURE_LABELS, figure_text, group_label
from .params import parse_report_query
from .presets import presets
from .services import DIMENSIONS, UsageReport, report_scope, usage_report

# The form's own labels, to name a parameter in an error (never its raw name).
PARAMETER_LABELS = {
    **DIMENSION_LABELS,
    "start": _("From"),
    "end": _("To (excluded)"),
    "group_by": _("Group by"),
    "then": _("then by"),
}


def _default_window(today: date) -> tuple[str, str]:
    """The last twelve months, this one included."""
    first = today.replace(day=1)
    start = date(first.year - 1, first.month, 1) + timedelta(days=31)
    start = start.replace(day=1)
    end = (first + timedelta(days=31)).replace(day=1)
    return start.isoformat(), end.isoformat()


def _table(report: UsageReport) -> dict[str, Any]:
    """The table as the page shows it: groups by name, months in words, numbers in the
    page's language (thousands grouped, decimal comma in French)."""
    figures = report.figure_names
    return {
        "headers": [DIMENSION_LABELS[d] for d in report.group_by]
        + [FIGURE_LABELS[f] for f in figures],
        # Each cell with its class: numbers to the right, months kept on one line.
        "rows": [
            [(group_label(d, row[d]), "month" if d == "month" else "") for d in report.group_by]
            + [(figure_text(f, row[f]), "num") for f in figures]
            for row in report.rows
        ],
        "totals": [figure_text(f, report.totals[f]) for f in figures],
        "span": len(report.group_by),
    }


def _presets(today: date, params: dict[str, str], then: str) -> list[dict[str, Any]]:
    """The preset windows as links that keep the grouping and filters."""
    keep = {
        "group_by": params["group_by"].split(",")[0],
        "then": then,
        "project_kind": params["project_kind"],
    }
    links = []
    for preset in presets(today):
        start, end = preset.start.isoformat(), preset.end.isoformat()
        query = {"start": start, "end": end, **{k: v for k, v in keep.items() if v}}
        links.append(
            {
                "label": preset.label,
                "url": "?" + urlencode(query),
                "current": (params["start"], params["end"]) == (start, end),
            }
        )
    return links


@login_required
def usage(request: HttpRequest) -> HttpResponse:
    try:
        scope = report_scope(request.user)
    except DomainError:
        raise PermissionDenied from None
    today = timezone.localdate(timezone.now(), local_tz())
    start_default, end_default = _default_window(today)
    params = {
        "start": request.GET.get("start") or start_default,
        "end": request.GET.get("end") or end_default,
        "group_by": ",".join(
            d for d in (request.GET.get("group_by", "partner"), request.GET.get("then", "")) if d
        ),
        "project_kind": request.GET.get("project_kind", ""),
    }
    context: dict[str, Any] = {
        "params": params,
        "first": params["group_by"].split(",")[0],
        "then": request.GET.get("then", ""),
        "dimensions": [(d, DIMENSION_LABELS[d]) for d in DIMENSIONS],
        "kinds": ProjectKind.choices,
        "presets": _presets(today, params, request.GET.get("then", "")),
    }
    try:
        query = parse_report_query(params)
    except DomainError as error:
        context["errors"] = [
            _("%(field)s: %(messages)s")
            % {"field": PARAMETER_LABELS.get(name, name), "messages": " ".join(messages)}
            for name, messages in error.extra.get("fields", {}).items()
        ] or [error.message]
        return render(request, "reports/usage.html", context, status=400)

    now = timezone.now()
    window: dict[str, Any] = {
        "start": query.start,
        "end": query.end,
        "scope": scope,
        "now": now,
        "filters": query.filters,
    }
    report = usage_report(group_by=query.group_by, **window)

    api = reverse("report-usage")
    base = {k: v for k, v in params.items() if v}
    context.update(
        table=_table(report),
        exports=[
            (_("CSV"), f"{api}?{urlencode({**base, 'format': 'csv'})}"),
            (
                _("CSV (French Excel, ;)"),
                f"{api}?{urlencode({**base, 'format': 'csv', 'sep': ';'})}",
            ),
            (_("Excel (XLSX)"), f"{api}?{urlencode({**base, 'format': 'xlsx'})}"),
            (
                _("Every reservation (CSV)"),
                f"{api}?{urlencode({**base, 'format': 'csv', 'detail': 'reservations'})}",
            ),
        ],
        charts=charts.charts_for(report),
        window_start=query.start,
        window_end=query.end - timedelta(microseconds=1),
    )
    return render(request, "reports/usage.html", context)
