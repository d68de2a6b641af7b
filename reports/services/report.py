"""The usage report: the figures of SPEC §5 per group and in total."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.db.models.functions import Greatest, TruncMonth
from django.utils.translation import gettext as _

from platform_booking.exceptions import DomainError
from platform_booking.timezones import local_tz

from ..rounding import hours, ratio
from ..sql import as_microseconds, instant
from .aggregation import DIMENSIONS, GROUP_KEYS, figures, grouped_sql, labels, month_text, sort_key
from .database import tune_for_full_reads
from .open_time import open_time
from .reservation_sql import EquipmentFacts, annotated
from .scope import Filters, Scope, window_reservations

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
        raise DomainError(
            "invalid",
            _("Group by one or two different dimensions among: %(choices)s.")
            % {"choices": ", ".join(DIMENSIONS)},
        )
    tz = local_tz()
    facts = EquipmentFacts.load()
    qs = annotated(
        window_reservations(start, end, scope, filters or Filters()),
        start=start,
        end=end,
        now=now,
        facts=facts,
    )
    keys: dict[str, Any] = {}
    for n, name in enumerate(group_by):
        if name == "month":
            keys[f"d{n}"] = TruncMonth(Greatest(F("start"), instant(start)), tzinfo=tz)
        else:
            keys[f"d{n}"] = GROUP_KEYS[name]
    sql, params = grouped_sql(qs, keys)
    postgres = connection.vendor == "postgresql"
    with transaction.atomic() if postgres else nullcontext(), connection.cursor() as cursor:
        if postgres:
            tune_for_full_reads()
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        fetched = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    totals_raw: dict[str, Any] = {}
    raw_rows = []
    for item in fetched:
        if item["is_total"]:
            totals_raw = item
        else:
            raw_rows.append(
                {
                    **item,
                    **{
                        name: month_text(item[f"d{n}"]) if name == "month" else item[f"d{n}"]
                        for n, name in enumerate(group_by)
                    },
                }
            )
    found = labels(group_by, raw_rows)
    rows: list[dict[str, Any]] = []
    booked: list[int] = []
    for raw in raw_rows:
        row = {
            name: found[name].get(raw[name], {"id": raw[name], "name": ""})
            if name in found
            else raw[name]
            for name in group_by
        }
        row.update(figures(raw))
        rows.append(row)
        booked.append(as_microseconds(raw["booked"]))
    order = sorted(
        range(len(rows)),
        key=lambda i: tuple(k for name in group_by for k in sort_key(name, rows[i][name])),
    )
    rows = [rows[i] for i in order]
    booked = [booked[i] for i in order]
    totals = figures(totals_raw)

    if "equipment" in group_by:
        by_month = "month" in group_by
        opened = open_time(
            [r["equipment"]["id"] for r in rows],
            start=start,
            end=end,
            facts=facts,
            by_month=by_month,
        )
        seen: dict[tuple[int, str | None], int] = {}
        for row, booked_us in zip(rows, booked, strict=True):
            key = (row["equipment"]["id"], row["month"] if by_month else None)
            seen[key] = opened.get(key, 0)
            row["open_hours"] = hours(seen[key])
            row["utilisation"] = ratio(booked_us, seen[key])
        # The totals cover every equipment of the rows over the whole window (its months
        # without reservations too), so that they are the same split by month or not.
        total_open = sum(opened.values())
        totals["open_hours"] = hours(total_open)
        totals["utilisation"] = ratio(as_microseconds(totals_raw.get("booked")), total_open)
    return UsageReport(start=start, end=end, group_by=tuple(group_by), rows=rows, totals=totals)
