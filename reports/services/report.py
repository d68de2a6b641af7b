"""The usage report: the figures of SPEC §5 per group and in total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import DomainError
from core.timezones import local_tz

from ..sql import as_microseconds
from .aggregation import DIMENSIONS, aggregate, figures, labelled_rows
from .open_time import add_utilisation
from .reservation_sql import EquipmentFacts, with_figures
from .scope import Filters, Scope

FIGURES = (
    "reservations",
    "booked_hours",
    "used_hours",
    "billable_hours",
    "no_shows",
    "cancellations",
    "late_cancellations",
    "displaced",
    "users",
    "amount",
)
EQUIPMENT_FIGURES = ("open_hours", "utilisation")


@dataclass
class UsageReport:
    start: datetime
    end: datetime
    group_by: tuple[str, ...]
    rows: list[dict[str, Any]]
    totals: dict[str, Any]

    @property
    def with_utilisation(self) -> bool:
        return "equipment" in self.group_by

    @property
    def figure_names(self) -> tuple[str, ...]:
        return FIGURES + (EQUIPMENT_FIGURES if self.with_utilisation else ())

    def as_dict(self) -> dict[str, Any]:
        tz = local_tz()
        return {
            "start": self.start.astimezone(tz).isoformat(),
            "end": self.end.astimezone(tz).isoformat(),
            "group_by": list(self.group_by),
            "rows": self.rows,
            "totals": self.totals,
        }


def usage_report(
    *,
    start: datetime,
    end: datetime,
    group_by: Sequence[str],
    scope: Scope,
    now: datetime,
    filters: Filters | None = None,
) -> UsageReport:
    """Compute the figures of SPEC §5 per group and in total, in a fixed number of queries:
    the equipment's policies, the aggregate, the names of the groups' objects (one per
    object dimension) and, grouped by equipment, their closures."""
    if (
        not 1 <= len(group_by) <= 2
        or len(set(group_by)) != len(group_by)
        or any(d not in DIMENSIONS for d in group_by)
    ):
        raise DomainError("bad_group_by", params={"choices": ", ".join(DIMENSIONS)})
    facts = EquipmentFacts.load()
    qs = with_figures(start=start, end=end, scope=scope, now=now, filters=filters, facts=facts)
    raw_rows, totals_raw = aggregate(qs, group_by, start=start)
    rows, booked = labelled_rows(group_by, raw_rows)
    totals = figures(totals_raw)
    if "equipment" in group_by:
        add_utilisation(
            rows,
            booked,
            totals,
            total_booked=as_microseconds(totals_raw.get("booked")),
            start=start,
            end=end,
            facts=facts,
            by_month="month" in group_by,
        )
    return UsageReport(start=start, end=end, group_by=tuple(group_by), rows=rows, totals=totals)
