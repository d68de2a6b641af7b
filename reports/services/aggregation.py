"""The figures per group and in total: one aggregate query, then names, order, rounding."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import BigIntegerField, BooleanField, ExpressionWrapper, F, Q, QuerySet
from django.db.models.functions import Greatest, TruncMonth

from core.timezones import local_tz
from equipment.models import Category, Equipment, Site
from partners.models import Partner, Project, ProjectKind
from reservations.models import Reservation

from ..rounding import euros, hours
from ..sql import Microseconds, as_microseconds, instant
from .compiled import compiled_sql
from .database import full_read
from .reservation_sql import COUNTED, EquipmentFacts, S, reads_as_no_show, with_figures
from .scope import Filters, Scope

DIMENSIONS = (
    "partner",
    "project",
    "project_kind",
    "equipment",
    "category",
    "site",
    "month",
    "user",
)
KIND_ORDER = {kind: n for n, kind in enumerate(ProjectKind.values)}

GROUP_KEYS: dict[str, Any] = {
    "partner": F("project__partner_id"),
    "project": F("project_id"),
    "project_kind": F("project__kind"),
    "equipment": F("equipment_id"),
    "category": F("equipment__category_id"),
    "site": F("equipment__site_id"),
    "user": F("booked_by_id"),
}
# Dimensions labelled by their row's name.
_NAMED: dict[str, Any] = {
    "partner": Partner,
    "project": Project,
    "category": Category,
    "site": Site,
}


def _row_figures() -> dict[str, Any]:
    """Each reservation's contribution to the figures, as columns summed per group.

    The stored status where it gives the same answer as the effective one (`r_status`
    maps only `confirmed`, to statuses that count alike): see reservation_sql._durations.
    """
    return {
        "r_counted": ExpressionWrapper(Q(status__in=COUNTED), output_field=BooleanField()),
        "r_no_show": ExpressionWrapper(reads_as_no_show(), output_field=BooleanField()),
        "r_stored": F("status"),
        "r_booked_": F("r_booked"),
        "r_used_": F("r_used"),
        "r_billable_": F("r_billable"),
        "r_late_": F("r_late"),
        # Microseconds × cents per hour: divided once, at the end (see rounding.euros()).
        "r_units": ExpressionWrapper(
            Microseconds("r_billable") * F("r_rate"), output_field=BigIntegerField()
        ),
    }


# The figures per group, over the columns of `_row_figures()`: sums and counts only, so
# that the database evaluates each reservation's expressions once.
_FIGURES_SQL = (
    "SUM(CASE WHEN r_counted THEN 1 ELSE 0 END) AS reservations, "
    "SUM(r_booked_) AS booked, "
    "SUM(r_used_) AS used, "
    "SUM(r_billable_) AS billable, "
    "SUM(CASE WHEN r_no_show THEN 1 ELSE 0 END) AS no_shows, "
    f"SUM(CASE WHEN r_stored = '{S.CANCELLED}' THEN 1 ELSE 0 END) AS cancellations, "
    "SUM(r_late_) AS late_cancellations, "
    f"SUM(CASE WHEN r_stored = '{S.DISPLACED}' THEN 1 ELSE 0 END) AS displaced, "
    "SUM(r_units) AS amount_units, "
    "COUNT(DISTINCT CASE WHEN r_counted THEN r_user END) AS users"
)


def aggregate(
    group_by: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    scope: Scope,
    filters: Filters | None,
    facts: EquipmentFacts,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Run the grouped query over the reservations of the window, scope and filters: the
    raw figures per group, each with its dimensions by name (months as `YYYY-MM`), and the
    raw totals."""
    sql, params = aggregate_sql(
        group_by, start=start, end=end, now=now, scope=scope, filters=filters, facts=facts
    )
    with full_read(), connection.cursor() as cursor:
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
    return raw_rows, totals_raw


def aggregate_sql(
    group_by: Sequence[str],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    scope: Scope,
    filters: Filters | None,
    facts: EquipmentFacts,
) -> tuple[str, tuple[Any, ...]]:
    """The grouped query's SQL and parameters, compiled once per shape (see
    compiled.compiled_sql)."""
    tz = local_tz()
    filters = filters or Filters()

    def build(start: datetime, end: datetime, now: datetime) -> tuple[str, tuple[Any, ...]]:
        qs = with_figures(start=start, end=end, scope=scope, now=now, filters=filters, facts=facts)
        keys: dict[str, Any] = {}
        for n, name in enumerate(group_by):
            if name == "month":
                keys[f"d{n}"] = TruncMonth(Greatest(F("start"), instant(start)), tzinfo=tz)
            else:
                keys[f"d{n}"] = GROUP_KEYS[name]
        return grouped_sql(qs, keys)

    shape = ("aggregate", tuple(group_by), scope, filters, facts.shape())
    return compiled_sql(shape, build, start=start, end=end, now=now)


def grouped_sql(qs: QuerySet[Reservation], keys: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """The figures per group and in total, in one statement over one row per reservation.

    Each reservation's figures are computed once, in a subquery (an annotation referred
    to by several aggregates would be inlined, and evaluated, in each), then summed per
    group. On PostgreSQL the groups and the total come from one pass (GROUPING SETS);
    SQLite has none: the total is a second aggregate over the same rows.
    """
    rows = qs.values(**keys, r_user=F("booked_by_id")).annotate(**_row_figures())
    rows_sql, params = rows.query.sql_with_params()
    dim_list = ", ".join(keys)
    # Only our own identifiers and constants are formatted in; every value stays a
    # query parameter.
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT GROUPING({dim_list}) AS is_total, {dim_list}, {_FIGURES_SQL} "  # noqa: S608
            f"FROM ({rows_sql}) AS per_reservation "
            f"GROUP BY GROUPING SETS (({dim_list}), ())"
        )
        return sql, params
    nulls = ", ".join(f"NULL AS {d}" for d in keys)
    sql = (
        f"WITH per_reservation AS ({rows_sql}) "  # noqa: S608
        f"SELECT 0 AS is_total, {dim_list}, {_FIGURES_SQL} "
        f"FROM per_reservation GROUP BY {dim_list} "
        f"UNION ALL "
        f"SELECT 1 AS is_total, {nulls}, {_FIGURES_SQL} FROM per_reservation"
    )
    return sql, params


def labelled_rows(
    group_by: Sequence[str], raw_rows: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[int]]:
    """The report's rows: objects named, figures rounded, in display order; and each row's
    exact booked microseconds (for its utilisation)."""
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
    return [rows[i] for i in order], [booked[i] for i in order]


def labels(group_by: Sequence[str], rows: list[dict[str, Any]]) -> dict[str, dict[Any, Any]]:
    """Names of the objects in the rows: one small query per object dimension."""
    found: dict[str, dict[Any, Any]] = {}
    for name in group_by:
        ids = {row[name] for row in rows}
        if name in _NAMED:
            found[name] = {
                pk: {"id": pk, "name": n}
                for pk, n in _NAMED[name].objects.filter(pk__in=ids).values_list("pk", "name")
            }
        elif name == "equipment":
            found[name] = {
                pk: {"id": pk, "code": code, "name": n}
                for pk, code, n in Equipment.objects.filter(pk__in=ids).values_list(
                    "pk", "code", "name"
                )
            }
        elif name == "user":
            found[name] = {
                pk: {"id": pk, "name": f"{first} {last}".strip() or username}
                for pk, username, first, last in get_user_model()
                .objects.filter(pk__in=ids)
                .values_list("pk", "username", "first_name", "last_name")
            }
    return found


def month_text(value: Any) -> str:
    # A raw query returns the truncated month as a naive local datetime (PostgreSQL)
    # or as text "YYYY-MM-01 00:00:00" (SQLite).
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m")
    return str(value)[:7]


def sort_key(name: str, value: Any) -> tuple[Any, ...]:
    if name == "project_kind":
        return (KIND_ORDER.get(value, 99), value)
    if name == "month":
        return (value,)
    return (str(value.get("code") or value["name"]).casefold(), value["id"])


def figures(raw: dict[str, Any]) -> dict[str, Any]:
    def n(key: str) -> int:
        return int(raw.get(key) or 0)

    return {
        "reservations": n("reservations"),
        "booked_hours": hours(as_microseconds(raw.get("booked"))),
        "used_hours": hours(as_microseconds(raw.get("used"))),
        "billable_hours": hours(as_microseconds(raw.get("billable"))),
        "no_shows": n("no_shows"),
        "cancellations": n("cancellations"),
        "late_cancellations": n("late_cancellations"),
        "displaced": n("displaced"),
        "users": n("users"),
        "amount": euros(n("amount_units")),
    }
