"""Usage reports of SPEC §5: every figure computed by the database, grouped and clipped.

A report covers a window `[start, end)` of aware instants. A reservation counts when it
overlaps the window, and its hours are clipped to the window. The figures per group:

- `reservations`: pending, confirmed, completed and no-show reservations;
- `booked_hours`: confirmed, completed and no-show ones;
- `used_hours`: check-in to check-out (a check-in without check-out runs until the
  reservation's end, or now if earlier); without a check-in record, on equipment that
  does not require check-in, the booked hours of completed reservations;
- `billable_hours`: used hours plus the booked hours of no-shows;
- `no_shows`, `cancellations`, `late_cancellations` (cancelled less than the equipment's
  `late_cancellation_hours` before the start, or after it), `displaced`;
- `users`: distinct booking users of the counted reservations;
- `amount`: billable hours times the equipment's rate: `teaching` for pedagogical
  projects, else the rate of the partner's category (academic or industrial);
- with `equipment` among the dimensions, `open_hours` and `utilisation`.

What "now" changes (SPEC §5): a confirmed reservation of equipment that requires
check-in, not checked in once its grace has passed, is a no-show whether or not
`release_no_shows` has run; a confirmed reservation that has ended is completed.

Open hours are the equipment's opening hours (its effective policy, in local time)
inside the window, minus its closures (its own, its site's and the all-sites ones): time
the equipment could not be booked is not time it stood idle. Utilisation is booked hours
÷ open hours, capped at 1 (a manager's override can book outside opening hours), and 0
when the equipment had no open hours. Grouped by equipment and month, a row's open hours
are those of that local month.

A group's `month` is the local month (Europe/Paris) of the start of the reservation's
counted part: its start, or the window's start when it began before.

The database clips and sums durations exactly (to the microsecond) and counts; amounts
are sums of microseconds × cents per hour. Figures are rounded once, half up: hours to
2 decimals, euros to cents, utilisation to 4 decimals. A report is one aggregate query
(per group and per booking user, then per group and in total over that), plus a few
small lookups: a fixed number of queries whatever the data.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Count,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least, TruncMonth
from django.utils.translation import gettext as _

from equipment.models import Category, Closure, Equipment, Site
from equipment.policy import PLATFORM_DEFAULTS, effective_policy
from platform_booking.exceptions import DomainError
from platform_booking.roles import is_platform_manager
from platform_booking.timezones import local_tz
from reservations import rules
from reservations.models import Partner, Project, ProjectKind, Reservation, ReservationStatus

from .rounding import euros, hours, ratio
from .sql import Cents, Epoch, Microseconds, as_microseconds, duration, instant

S = ReservationStatus
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
COUNTED = (S.PENDING, S.CONFIRMED, S.COMPLETED, S.NO_SHOW)
BOOKED = (S.CONFIRMED, S.COMPLETED, S.NO_SHOW)
KIND_ORDER = {kind: n for n, kind in enumerate(ProjectKind.values)}
ZERO = timedelta(0)


# --- Who sees what -------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The reservations a user may report on: all, or their partners' and equipment's."""

    everything: bool = False
    partner_ids: frozenset[int] = frozenset()
    equipment_ids: frozenset[int] = frozenset()

    def q(self) -> Q:
        if self.everything:
            return Q()
        return Q(project__partner_id__in=sorted(self.partner_ids)) | Q(
            equipment_id__in=sorted(self.equipment_ids)
        )


def report_scope(user: Any) -> Scope:
    """Platform managers report on everything, referents on their partners, equipment
    managers on their equipment; anyone else is refused (403)."""
    if is_platform_manager(user):
        return Scope(everything=True)
    if user is None or not user.is_authenticated:
        raise DomainError("not_authenticated", _("Log in first."), status=401)
    partners = frozenset(user.referent_of.values_list("pk", flat=True))
    equipment = frozenset(user.managed_equipment.values_list("pk", flat=True))
    if not partners and not equipment:
        raise DomainError(
            "permission_denied",
            _("Usage reports are for platform managers, equipment managers and referents."),
            status=403,
        )
    return Scope(partner_ids=partners, equipment_ids=equipment)


@dataclass(frozen=True)
class Filters:
    partner: tuple[int, ...] = ()
    equipment: tuple[int, ...] = ()
    project_kind: tuple[str, ...] = ()


# --- Per reservation, in SQL ---------------------------------------------------------


@dataclass
class _EquipmentFacts:
    """Each equipment's policy overrides and site, read in one query."""

    overrides: dict[int, dict[str, Any]]
    site: dict[int, int]

    @classmethod
    def load(cls) -> _EquipmentFacts:
        overrides: dict[int, dict[str, Any]] = {}
        site: dict[int, int] = {}
        for pk, data, site_id in Equipment.objects.order_by().values_list(
            "pk", "policy_overrides", "site_id"
        ):
            overrides[pk] = data or {}
            site[pk] = site_id
        return cls(overrides=overrides, site=site)

    def per_equipment(self, setting: str, value_of: Any, output_field: Any) -> Any:
        """A CASE giving each equipment `value_of(its setting)`; only equipment that
        overrides the platform default is listed, the rest take the default."""
        default = PLATFORM_DEFAULTS[setting]
        groups: dict[Any, list[int]] = defaultdict(list)
        for pk, overrides in self.overrides.items():
            value = overrides.get(setting, default)
            if value != default:
                groups[value].append(pk)
        whens = [
            When(equipment_id__in=sorted(ids), then=Value(value_of(value), output_field))
            for value, ids in sorted(groups.items())
        ]
        if not whens:
            return Value(value_of(default), output_field)
        return Case(
            *whens, default=Value(value_of(default), output_field), output_field=output_field
        )


def _base(start: datetime, end: datetime, scope: Scope, filters: Filters) -> QuerySet[Reservation]:
    qs = (
        Reservation.objects.filter(start__lt=end, end__gt=start)
        .exclude(status=S.REJECTED)
        .filter(scope.q())
    )
    if filters.partner:
        qs = qs.filter(project__partner_id__in=filters.partner)
    if filters.equipment:
        qs = qs.filter(equipment_id__in=filters.equipment)
    if filters.project_kind:
        qs = qs.filter(project__kind__in=filters.project_kind)
    return qs.order_by()


def _annotated(
    qs: QuerySet[Reservation],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    facts: _EquipmentFacts,
) -> QuerySet[Reservation]:
    """Each reservation's effective status and its clipped durations, as SQL expressions.

    Only comparisons of instants and differences of them: they cost the database little,
    and every database computes them exactly.
    """
    window_start, window_end = instant(start), instant(end)
    clipped = Least(F("end"), window_end) - Greatest(F("start"), window_start)
    usage = Greatest(
        duration(ZERO),
        Least(Coalesce(F("usage__checked_out_at"), Least(F("end"), instant(now))), window_end)
        - Greatest(F("usage__checked_in_at"), window_start),
    )
    checked_in = Q(usage__isnull=False, status__in=(S.CONFIRMED, S.COMPLETED))
    completed_without_check_in = Q(
        equipment__requires_check_in=False, usage__isnull=True, r_status=S.COMPLETED
    )
    return qs.annotate(
        # SPEC §5: past its grace, a reservation not checked in is a no-show already.
        r_no_show_before=facts.per_equipment(
            "check_in_grace_minutes", lambda m: now - timedelta(minutes=m), DateTimeField()
        ),
        r_late_within=facts.per_equipment(
            "late_cancellation_hours", lambda h: timedelta(hours=h), DurationField()
        ),
        r_status=Case(
            When(
                status=S.CONFIRMED,
                equipment__requires_check_in=True,
                usage__isnull=True,
                start__lte=F("r_no_show_before"),
                then=Value(S.NO_SHOW),
            ),
            # As release_no_shows: check-in equipment completes only what was checked in.
            When(
                Q(equipment__requires_check_in=False) | Q(usage__isnull=False),
                status=S.CONFIRMED,
                end__lte=now,
                then=Value(S.COMPLETED),
            ),
            default=F("status"),
            output_field=CharField(),
        ),
        r_booked=Case(
            When(r_status__in=BOOKED, then=clipped),
            default=duration(ZERO),
            output_field=DurationField(),
        ),
        r_used=Case(
            When(checked_in, then=usage),
            When(completed_without_check_in, then=clipped),
            default=duration(ZERO),
            output_field=DurationField(),
        ),
        # Used or no-show: the two never meet on one reservation.
        r_billable=Case(
            When(r_status=S.NO_SHOW, then=clipped),
            When(checked_in, then=usage),
            When(completed_without_check_in, then=clipped),
            default=duration(ZERO),
            output_field=DurationField(),
        ),
        r_rate=Case(
            When(project__kind=ProjectKind.PEDAGOGICAL, then=Cents("equipment__rate_teaching")),
            When(
                project__partner__rate_category=Partner.RateCategory.INDUSTRIAL,
                then=Cents("equipment__rate_industrial"),
            ),
            default=Cents("equipment__rate_academic"),
            output_field=BigIntegerField(),
        ),
        r_notice=ExpressionWrapper(F("start") - F("status_changed_at"), DurationField()),
        r_late=Case(
            When(status=S.CANCELLED, r_notice__lt=F("r_late_within"), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
    )


# --- Grouping ------------------------------------------------------------------------

_KEYS: dict[str, Any] = {
    "partner": F("project__partner_id"),
    "project": F("project_id"),
    "project_kind": F("project__kind"),
    "equipment": F("equipment_id"),
    "category": F("equipment__category_id"),
    "site": F("equipment__site_id"),
    "user": F("booked_by_id"),
}
_PER_USER = (
    "reservations",
    "booked",
    "used",
    "billable",
    "no_shows",
    "cancellations",
    "late_cancellations",
    "displaced",
    "amount_units",
)


def _per_user_aggregates() -> dict[str, Any]:
    return {
        "reservations": Count("pk", filter=Q(r_status__in=COUNTED)),
        "booked": Sum("r_booked"),
        "used": Sum("r_used"),
        "billable": Sum("r_billable"),
        "no_shows": Count("pk", filter=Q(r_status=S.NO_SHOW)),
        "cancellations": Count("pk", filter=Q(status=S.CANCELLED)),
        "late_cancellations": Sum("r_late"),
        "displaced": Count("pk", filter=Q(status=S.DISPLACED)),
        # Microseconds × cents per hour: divided once, at the end (see euros()).
        "amount_units": Sum(
            Microseconds("r_billable") * F("r_rate"), output_field=BigIntegerField()
        ),
    }


def _grouped_sql(qs: QuerySet[Reservation], keys: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
    """Per group and booking user in SQL, then per group and in total over those rows.

    Distinct users come from the per-user rows: no COUNT(DISTINCT) over every
    reservation, which would make the database sort them all.
    """
    inner = qs.values(**keys, r_user=F("booked_by_id")).annotate(**_per_user_aggregates())
    inner_sql, params = inner.query.sql_with_params()
    dims = list(keys)
    sums = ", ".join(f"SUM({name}) AS {name}" for name in _PER_USER)
    dim_list = ", ".join(dims)
    nulls = ", ".join(f"NULL AS {d}" for d in dims)
    # Only our own identifiers are formatted in; every value stays a query parameter.
    sql = (
        f"WITH per_user AS ({inner_sql}) "  # noqa: S608
        f"SELECT 0 AS is_total, {dim_list}, {sums}, "
        f"SUM(CASE WHEN reservations > 0 THEN 1 ELSE 0 END) AS users "
        f"FROM per_user GROUP BY {dim_list} "
        f"UNION ALL "
        f"SELECT 1 AS is_total, {nulls}, {sums}, "
        f"COUNT(DISTINCT CASE WHEN reservations > 0 THEN r_user END) AS users "
        f"FROM per_user"
    )
    return sql, params


def _labels(group_by: Sequence[str], rows: list[dict[str, Any]]) -> dict[str, dict[Any, Any]]:
    """Names of the objects in the rows: one small query per object dimension."""
    labels: dict[str, dict[Any, Any]] = {}
    for name in group_by:
        ids = {row[name] for row in rows}
        if name == "partner":
            labels[name] = {
                pk: {"id": pk, "name": n}
                for pk, n in Partner.objects.filter(pk__in=ids).values_list("pk", "name")
            }
        elif name == "project":
            labels[name] = {
                pk: {"id": pk, "name": n}
                for pk, n in Project.objects.filter(pk__in=ids).values_list("pk", "name")
            }
        elif name == "equipment":
            labels[name] = {
                pk: {"id": pk, "code": code, "name": n}
                for pk, code, n in Equipment.objects.filter(pk__in=ids).values_list(
                    "pk", "code", "name"
                )
            }
        elif name == "category":
            labels[name] = {
                pk: {"id": pk, "name": n}
                for pk, n in Category.objects.filter(pk__in=ids).values_list("pk", "name")
            }
        elif name == "site":
            labels[name] = {
                pk: {"id": pk, "name": n}
                for pk, n in Site.objects.filter(pk__in=ids).values_list("pk", "name")
            }
        elif name == "user":
            labels[name] = {
                pk: {"id": pk, "name": f"{first} {last}".strip() or username}
                for pk, username, first, last in get_user_model()
                .objects.filter(pk__in=ids)
                .values_list("pk", "username", "first_name", "last_name")
            }
    return labels


def _month_text(value: Any) -> str:
    # A raw query returns the truncated month as a naive local datetime (PostgreSQL)
    # or as text "YYYY-MM-01 00:00:00" (SQLite).
    if isinstance(value, datetime | date):
        return value.strftime("%Y-%m")
    return str(value)[:7]


def _sort_key(name: str, value: Any) -> tuple[Any, ...]:
    if name == "project_kind":
        return (KIND_ORDER.get(value, 99), value)
    if name == "month":
        return (value,)
    return (str(value.get("code") or value["name"]).casefold(), value["id"])


# --- Figures -------------------------------------------------------------------------


def _figures(raw: dict[str, Any]) -> dict[str, Any]:
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


# --- Open hours ----------------------------------------------------------------------


def _next_month(moment: datetime, tz: ZoneInfo) -> datetime:
    local = moment.astimezone(tz)
    year, month = divmod(local.year * 12 + local.month, 12)
    return datetime.combine(date(year, month + 1, 1), time(0), tzinfo=tz).astimezone(rules.UTC)


def open_time(
    equipment_ids: Iterable[int],
    *,
    start: datetime,
    end: datetime,
    facts: _EquipmentFacts,
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
    rows = Closure.objects.filter(
        Q(equipment_id__in=ids)
        | Q(site_id__in=sites)
        | Q(equipment__isnull=True, site__isnull=True),
        start__lt=end,
        end__gt=start,
    ).values_list("equipment_id", "site_id", "start", "end")
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


# --- The report ----------------------------------------------------------------------


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
    facts = _EquipmentFacts.load()
    qs = _annotated(
        _base(start, end, scope, filters or Filters()), start=start, end=end, now=now, facts=facts
    )
    keys: dict[str, Any] = {}
    for n, name in enumerate(group_by):
        if name == "month":
            keys[f"d{n}"] = TruncMonth(Greatest(F("start"), instant(start)), tzinfo=tz)
        else:
            keys[f"d{n}"] = _KEYS[name]
    sql, params = _grouped_sql(qs, keys)
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
                        name: _month_text(item[f"d{n}"]) if name == "month" else item[f"d{n}"]
                        for n, name in enumerate(group_by)
                    },
                }
            )
    labels = _labels(group_by, raw_rows)
    rows: list[dict[str, Any]] = []
    booked: list[int] = []
    for raw in raw_rows:
        row = {
            name: labels[name].get(raw[name], {"id": raw[name], "name": ""})
            if name in labels
            else raw[name]
            for name in group_by
        }
        row.update(_figures(raw))
        rows.append(row)
        booked.append(as_microseconds(raw["booked"]))
    order = sorted(
        range(len(rows)),
        key=lambda i: tuple(k for name in group_by for k in _sort_key(name, rows[i][name])),
    )
    rows = [rows[i] for i in order]
    booked = [booked[i] for i in order]
    totals = _figures(totals_raw)

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


# --- One row per reservation ---------------------------------------------------------

DETAIL_COLUMNS = (
    "id",
    "start",
    "end",
    "status",
    "equipment_id",
    "equipment_code",
    "equipment",
    "site",
    "category",
    "partner_id",
    "partner",
    "project_id",
    "project",
    "project_kind",
    "booked_by",
    "title",
    "booked_hours",
    "used_hours",
    "billable_hours",
    "late_cancellation",
    "rate",
    "amount",
)


def reservation_rows_sql(
    *, start: datetime, end: datetime, scope: Scope, now: datetime, filters: Filters | None = None
) -> tuple[str, tuple[Any, ...]]:
    """The SQL of one row per reservation overlapping the window, in start order.

    Columns: id, start, end (seconds since the epoch), effective status, equipment_id,
    project_id, booked_by_id, title, booked, used and billable (microseconds), late
    cancellation (0 or 1), rate (cents per hour).
    """
    facts = _EquipmentFacts.load()
    qs = _annotated(
        _base(start, end, scope, filters or Filters()), start=start, end=end, now=now, facts=facts
    )
    return (
        qs.order_by("start", "id")
        .values_list(
            "id",
            Epoch("start"),
            Epoch("end"),
            "r_status",
            "equipment_id",
            "project_id",
            "booked_by_id",
            "title",
            Microseconds("r_booked"),
            Microseconds("r_used"),
            Microseconds("r_billable"),
            "r_late",
            "r_rate",
        )
        .query.sql_with_params()
    )


def reservation_rows(
    *,
    start: datetime,
    end: datetime,
    scope: Scope,
    now: datetime,
    filters: Filters | None = None,
    chunk_size: int = 5000,
) -> Iterator[tuple[Any, ...]]:
    """Yield the rows of `reservation_rows_sql()`, read in chunks (a server-side cursor on
    PostgreSQL): memory stays constant, whatever the number of reservations."""
    sql, params = reservation_rows_sql(start=start, end=end, scope=scope, now=now, filters=filters)
    return _stream(sql, params, chunk_size)


def _stream(sql: str, params: Sequence[Any], chunk_size: int) -> Iterator[tuple[Any, ...]]:
    # Plain tuples from the cursor: no per-value converters, integers instead of
    # timestamps. In a transaction on PostgreSQL, the server-side cursor streams rows as
    # they come (outside one it would be WITH HOLD, computed whole before the first
    # row); not on SQLite, where a transaction would take the write lock.
    postgres = connection.vendor == "postgresql"
    with transaction.atomic() if postgres else nullcontext():
        if postgres:
            tune_for_full_reads()
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while True:
                batch = cursor.fetchmany(chunk_size)
                if not batch:
                    return
                yield from batch


def tune_for_full_reads() -> None:
    """Plan the current PostgreSQL transaction's queries for reading every row.

    JIT compilation took 0.4 s on these scans and saved less; and a cursor is by default
    planned for its first rows (nested loops over indexes), three times slower than hash
    joins when every row is read (measured with bench/bench_reports.py).
    """
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")


def count_reservations(
    *, start: datetime, end: datetime, scope: Scope, filters: Filters | None = None
) -> int:
    return _base(start, end, scope, filters or Filters()).count()
