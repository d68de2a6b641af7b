"""What people read of a report: dimension, figure and column names in words, group names,
months in words and numbers in the page's language.

The JSON answer keeps its field names (it is for programs); the page, the charts and the
CSV and XLSX headers (for people) take their words from here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.utils import formats
from django.utils.functional import Promise
from django.utils.numberformat import format as number_format
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from partners.models import ProjectKind

DIMENSION_LABELS: dict[str, Promise] = {
    "partner": _("Partner"),
    "project": _("Project"),
    "project_kind": _("Project kind"),
    "equipment": _("Equipment"),
    "category": _("Category"),
    "site": _("Site"),
    "month": _("Month"),
    "user": _("Booked by"),
}
FIGURE_LABELS: dict[str, Promise] = {
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
# The export columns that are not a dimension or a figure of the grouped report, and the
# columns of the one-row-per-reservation export.
COLUMN_LABELS: dict[str, Promise] = {
    **DIMENSION_LABELS,
    **FIGURE_LABELS,
    "partner_id": _("Partner id"),
    "project_id": _("Project id"),
    "equipment_id": _("Equipment id"),
    "equipment_code": _("Equipment code"),
    "category_id": _("Category id"),
    "site_id": _("Site id"),
    "user_id": _("User id"),
    "id": _("Reservation id"),
    "start": _("Start"),
    "end": _("End"),
    "status": _("Status"),
    "booked_by": _("Booked by"),
    "title": _("Title"),
    "late_cancellation": _("Late cancellation"),
    "rate": _("Rate (€/h)"),
}
# How each figure is shown: whole numbers, hours, euros or a share.
FIGURE_KINDS = {
    "booked_hours": "hours",
    "used_hours": "hours",
    "billable_hours": "hours",
    "open_hours": "hours",
    "amount": "money",
    "utilisation": "ratio",
}


def column_header(name: str) -> str:
    """The column's name in words, in the active language (its code when unknown)."""
    label = COLUMN_LABELS.get(name)
    return str(label) if label is not None else name


def month_label(month: str) -> str:
    """`2027-03` in words, in the active language: "mars 2027", "March 2027"."""
    try:
        day = date(int(month[:4]), int(month[5:7]), 1)
    except (ValueError, IndexError):
        return month
    return formats.date_format(day, "YEAR_MONTH_FORMAT")


def group_label(dimension: str, value: Any) -> str:
    """A group's name as people read it: a month in words, a kind by its label, equipment
    by its inventory code, anything else by its name."""
    if dimension == "month":
        return month_label(str(value))
    if dimension == "project_kind":
        return capfirst(str(dict(ProjectKind.choices).get(value, value)))
    if isinstance(value, dict):
        return str(value.get("code") or value.get("name") or "")
    return str(value)


def number(value: Any, decimals: int = 0) -> str:
    """A number in the active language's format, thousands grouped: "15 965,00"."""
    return number_format(
        Decimal(value),
        formats.get_format("DECIMAL_SEPARATOR"),
        decimal_pos=decimals,
        grouping=formats.get_format("NUMBER_GROUPING"),
        thousand_sep=formats.get_format("THOUSAND_SEPARATOR"),
        force_grouping=True,
    )


def figure_text(name: str, value: Any) -> str:
    """A figure as shown on the page: "1 234,50" hours, "15 965,00 €", "42,5 %"."""
    kind = FIGURE_KINDS.get(name, "int")
    if kind == "hours":
        return number(value, 2)
    if kind == "money":
        return f"{number(value, 2)}\N{NO-BREAK SPACE}€"
    if kind == "ratio":
        return percent(value)
    return number(value, 0)


def percent(value: Any, decimals: int = 1) -> str:
    """A share between 0 and 1 as a percentage: "42,5 %"."""
    return f"{number(Decimal(value) * 100, decimals)}\N{NO-BREAK SPACE}%"
