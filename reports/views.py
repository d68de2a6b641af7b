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
from partners.models import ProjectKind

from . import charts
from .params import parse_report_query
from .services import DIMENSIONS, UsageReport, report_scope, usage_report

DIMENSION_LABELS = {
    "partner": _("Partner"),
    "project": _("Project"),
    "project_kind": _("Project kind"),
    "equipment": _("Equipment"),
    "category": _("Category"),
    "site": _("Site"),
    "month": _("Month"),
    "user": _("Booked by"),
}
# The form's own labels, to name a parameter in an error (never its raw name).
PARAMETER_LABELS = {
    **DIMENSION_LABELS,
    "start": _("From"),
    "end": _("To (excluded)"),
    "group_by": _("Group by"),
    "then": _("then by"),
}
FIGURE_LABELS = {
    "reservations": _("Reservations"),
    "booked_hours": _("Booked hours"),
    "used_hours": _("Used hours"),
    "billable_hours": _("Billable hours"),
    "no_shows": _("No-shows"),
    "cancellations": _("Cancellations"),
    "late_cancellations": _("Late cancellations"),
    "displaced": _("Displaced"),
    "users": _("Users"),
    "amount": _("Amount (€)"),
    "open_hours": _("Open hours"),
    "utilisation": _("Utilisation"),
}


def _default_window(today: date) -> tuple[str, str]:
    """The last twelve months, this one included."""
    first = today.replace(day=1)
    start = date(first.year - 1, first.month, 1) + timedelta(days=31)
    start = start.replace(day=1)
    end = (first + timedelta(days=31)).replace(day=1)
    return start.isoformat(), end.isoformat()


def _cell(name: str, value: Any) -> Any:
    if name == "project_kind":
        return dict(ProjectKind.choices).get(value, value)
    if isinstance(value, dict):
        return value.get("code") or value.get("name")
    return value


def _table(report: UsageReport) -> dict[str, Any]:
    figures = report.figure_names
    return {
        "headers": [DIMENSION_LABELS[d] for d in report.group_by]
        + [FIGURE_LABELS[f] for f in figures],
        "rows": [
            [_cell(d, row[d]) for d in report.group_by] + [row[f] for f in figures]
            for row in report.rows
        ],
        "totals": [report.totals[f] for f in figures],
        "span": len(report.group_by),
    }


@login_required
def usage(request: HttpRequest) -> HttpResponse:
    try:
        scope = report_scope(request.user)
    except DomainError:
        raise PermissionDenied from None
    start_default, end_default = _default_window(timezone.localdate())
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

    def grouped(*group_by: str) -> Any:
        """The table's report when it has this grouping, else one more."""
        if tuple(query.group_by) == group_by:
            return report
        return usage_report(group_by=list(group_by), **window)

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
        charts=[
            charts.hours_per_partner(grouped("partner")),
            charts.hours_per_project_kind(grouped("project_kind")),
            charts.utilisation_per_equipment_and_month(grouped("equipment", "month")),
        ],
        window_start=query.start,
        window_end=query.end - timedelta(microseconds=1),
    )
    return render(request, "reports/usage.html", context)
