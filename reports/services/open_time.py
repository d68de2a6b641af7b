"""Open hours of equipment in a window: its opening hours minus its closures."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from core.timezones import local_tz
from equipment.policy import effective_policy
from reservations import rules
from reservations.models import Closure

from ..rounding import hours, ratio
from ..sql import as_microseconds
from .reservation_sql import EquipmentFacts


def _next_month(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    year, month = divmod(local.year * 12 + local.month, 12)
    return datetime.combine(date(year, month + 1, 1), time(0), tzinfo=tz).astimezone(rules.UTC)


def open_time(
    equipment_ids: Iterable[int],
    *,
    start: datetime,
    end: datetime,
    facts: EquipmentFacts,
    by_month: bool,
) -> dict[tuple[int, str | None], int]:
    """Open microseconds of each equipment in [start, end), per local month if asked.

    Opening hours come from each equipment's effective policy; closures are removed.
    """
    tz = local_tz()
    ids = sorted(set(equipment_ids))
    if not ids:
        return {}
    start, end = start.astimezone(rules.UTC), end.astimezone(rules.UTC)
    sites = {facts.site[pk] for pk in ids if pk in facts.site}
    closures: dict[int, list[rules.Interval]] = defaultdict(list)
    rows = (
        Closure.objects.touching(equipment_ids=ids, site_ids=sites)
        .during(start, end)
        .values_list("equipment_id", "site_id", "start", "end")
    )
    for eq_id, site_id, c_start, c_end in rows:
        for pk in ids:
            if eq_id == pk or (eq_id is None and site_id in (None, facts.site.get(pk))):
                closures[pk].append(rules.Interval(c_start, c_end))
    opening: dict[str, list[rules.Interval]] = {}
    result: dict[tuple[int, str | None], int] = {}
    for pk in ids:
        policy = effective_policy(facts.overrides.get(pk))
        key = json.dumps(policy.opening_hours, sort_keys=True)
        if key not in opening:
            opening[key] = [
                rules.Interval(max(i.start, start), min(i.end, end))
                for i in rules.opening_intervals(policy, start, end, tz)
                if i.start < end and i.end > start
            ]
        intervals = rules.subtract(opening[key], closures.get(pk, []))
        if not by_month:
            result[(pk, None)] = sum(as_microseconds(i.end - i.start) for i in intervals)
            continue
        for item in intervals:
            cursor = item.start
            while cursor < item.end:
                piece = rules.Interval(cursor, min(item.end, _next_month(cursor, tz)))
                month = cursor.astimezone(tz).strftime("%Y-%m")
                result[(pk, month)] = result.get((pk, month), 0) + as_microseconds(
                    piece.end - piece.start
                )
                cursor = piece.end
    return result


def add_utilisation(
    rows: list[dict[str, Any]],
    booked: list[int],
    totals: dict[str, Any],
    *,
    total_booked: int,
    start: datetime,
    end: datetime,
    facts: EquipmentFacts,
    by_month: bool,
) -> None:
    """Add `open_hours` and `utilisation` to rows grouped by equipment, and to the totals.

    `booked` and `total_booked` are the exact booked microseconds of the rows and totals.
    """
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
    totals["utilisation"] = ratio(total_booked, total_open)
