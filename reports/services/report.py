"""The usage report: the figures of SPEC §5 per group and in total."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.errors import DomainError
from core.timezones import local_tz
from equipment.models import Equipment

from ..sql import as_microseconds
from .aggregation import DIMENSIONS, aggregate, figures, labelled_rows, sort_key
from .open_time import add_utilisation
from .reservation_sql import EquipmentFacts
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
    object dimension) and, grouped by equipment, their closures. Grouped by equipment (and
    month), idle equipment has its row of zeros (see `with_idle_equipment`)."""
    if (
        not 1 <= len(group_by) <= 2
        or len(set(group_by)) != len(group_by)
        or any(d not in DIMENSIONS for d in group_by)
    ):
        raise DomainError("bad_group_by", params={"choices": ", ".join(DIMENSIONS)})
    facts = EquipmentFacts.load()
    raw_rows, totals_raw = aggregate(
        group_by, start=start, end=end, now=now, scope=scope, filters=filters, facts=facts
    )
    rows, booked = labelled_rows(group_by, raw_rows)
    if "equipment" in group_by and set(group_by) <= {"equipment", "month"}:
        rows, booked = with_idle_equipment(
            group_by, rows, booked, scope=scope, filters=filters, start=start, end=end, facts=facts
        )
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


def window_months(start: datetime, end: datetime) -> list[str]:
    """The local months (`YYYY-MM`) that the window `[start, end)` touches, in order."""
    tz = local_tz()
    first = start.astimezone(tz).date().replace(day=1)
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    months = []
    while first <= last:
        months.append(first.strftime("%Y-%m"))
        first = (first + timedelta(days=32)).replace(day=1)
    return months


def with_idle_equipment(
    group_by: Sequence[str],
    rows: list[dict[str, Any]],
    booked: list[int],
    *,
    scope: Scope,
    filters: Filters | None,
    start: datetime,
    end: datetime,
    facts: EquipmentFacts,
) -> tuple[list[dict[str, Any]], list[int]]:
    """Add a row of zeros for each equipment (and month) without reservations.

    Idle equipment is what a manager looks for in a report by equipment. The candidates
    are the equipment the reader answers for (every one for the platform's managers, their
    own for equipment managers; none for a referent, whose scope is their partners'
    reservations), within the equipment filter; retired equipment only when it has rows.
    Partner and kind filters select reservations, not equipment: equipment those
    reservations did not use shows zero. Grouped by equipment and month, every month of
    the window has a row.
    """
    filters = filters or Filters()
    candidates = {
        pk
        for pk, (_code, _name, status) in facts.names.items()
        if (scope.everything or pk in scope.equipment_ids)
        and (not filters.equipment or pk in filters.equipment)
        and status != Equipment.Status.RETIRED
    }
    months: list[str | None] = list(window_months(start, end)) if "month" in group_by else [None]
    present = {(row["equipment"]["id"], row.get("month")) for row in rows}
    zero = figures({})
    added = False
    for pk in candidates:
        code, name, _status = facts.names[pk]
        for month in months:
            if (pk, month) in present:
                continue
            row: dict[str, Any] = {}
            for dimension in group_by:
                if dimension == "equipment":
                    row["equipment"] = {"id": pk, "code": code, "name": name}
                else:
                    row["month"] = month
            row.update(zero)
            rows.append(row)
            booked.append(0)
            added = True
    if not added:
        return rows, booked
    order = sorted(
        range(len(rows)),
        key=lambda i: tuple(k for name in group_by for k in sort_key(name, rows[i][name])),
    )
    return [rows[i] for i in order], [booked[i] for i in order]
