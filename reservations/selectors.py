"""Reads of reservations and equipment availability, with the visibility rules of SPEC §6."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from core.roles import is_platform_manager
from core.sql import ids_in
from core.timezones import local_tz
from equipment.models import Equipment
from equipment.policy import effective_policy, overrides_key
from partners.models import Partner, Project
from partners.selectors import project_ids_with_full_view

from . import rules
from .facts import as_utc
from .models import (
    LIVE_STATUSES,
    Closure,
    Reservation,
    ReservationQuerySet,
    ReservationStatus,
    overlapping_sql,
)


def full_view_filter(user: Any) -> Q:
    """Reservations a user other than a platform manager sees in full (SPEC §6): their
    own bookings, their projects' (member, leader, partner referent), and those of the
    equipment they manage. The one rule; calendars.reader.Reader mirrors it in Python."""
    managers = Equipment.managers.through
    return (
        Q(booked_by_id=user.pk)
        | Q(project_id__in=project_ids_with_full_view(user))
        | Q(Exists(managers.objects.filter(equipment_id=OuterRef("equipment_id"), user_id=user.pk)))
    )


def full_view_sql(user: Any, alias: str) -> tuple[str, list[Any]]:
    """`full_view_filter` as an SQL condition on the reservation table aliased `alias`,
    with its parameters: the same rule for the API's raw list (reservations.api.reads),
    kept in step by tests/api/test_reservation_list_sql.py."""
    quote = connection.ops.quote_name
    project = Project._meta
    members = Project.members.through._meta.db_table
    referents = Partner.referents.through._meta.db_table
    managers = Equipment.managers.through._meta.db_table
    project_table, members, referents, managers = (
        quote(name) for name in (project.db_table, members, referents, managers)
    )
    # Only quoted table names and the alias are interpolated.
    sql = (
        f"({alias}.booked_by_id = %s OR {alias}.project_id IN ("  # noqa: S608
        f"SELECT p.id FROM {project_table} p WHERE p.leader_id = %s"
        f" UNION SELECT m.project_id FROM {members} m WHERE m.user_id = %s"
        f" UNION SELECT q.id FROM {project_table} q"
        f" JOIN {referents} f ON f.partner_id = q.partner_id WHERE f.user_id = %s)"
        f" OR EXISTS (SELECT 1 FROM {managers} g"
        f" WHERE g.equipment_id = {alias}.equipment_id AND g.user_id = %s))"
    )
    return sql, [user.pk] * 5


def reservations_visible_to(user: Any) -> ReservationQuerySet:
    """Reservations the user may see in full (SPEC §6); others are only busy time."""
    qs = Reservation.objects.select_related("project", "equipment")
    if is_platform_manager(user):
        return qs
    return qs.filter(full_view_filter(user))


def equipment_free_between(qs: QuerySet[Any], start: datetime, end: datetime) -> QuerySet[Any]:
    """Equipment that could be booked over [start, end): active, open, not closed, not busy.

    Callers record the no-shows first (services.noshows.record_no_shows), as every read
    does. Each "not" is one EXISTS subquery: a multi-valued `.exclude(a, b)` would exclude
    equipment with one row matching `a` and another matching `b`.
    """
    tz = local_tz()
    closures = Closure.objects.during(start, end)
    if closures.filter(equipment__isnull=True, site__isnull=True).exists():
        return qs.none()  # the whole campus is closed
    busy = Reservation.objects.overlapping(start, end, buffers=True).filter(
        equipment_id=OuterRef("pk"), status__in=LIVE_STATUSES
    )
    candidates = (
        qs.filter(status=Equipment.Status.ACTIVE)
        .exclude(
            Exists(closures.filter(Q(equipment_id=OuterRef("pk")) | Q(site_id=OuterRef("site_id"))))
        )
        .exclude(Exists(busy))
    )
    open_ids = [
        pk
        for pk, overrides in candidates.values_list("pk", "policy_overrides")
        if any(
            o.start <= start and end <= o.end
            for o in rules.opening_intervals(effective_policy(overrides), start, end, tz)
        )
    ]
    return qs.filter(pk__in=open_ids)


def managed_equipment_ids(user: Any, equipment_ids: Sequence[int]) -> set[int]:
    """Which of these equipment the user manages (all of them for a platform manager)."""
    if is_platform_manager(user):
        return set(equipment_ids)
    return set(user.managed_equipment.filter(pk__in=equipment_ids).values_list("pk", flat=True))


def managed_equipment(user: Any) -> QuerySet[Equipment]:
    """The equipment the user manages (every one for a platform manager)."""
    if is_platform_manager(user):
        return Equipment.objects.all()
    return Equipment.objects.filter(managers=user)


def pending_requests_for(user: Any) -> QuerySet[Reservation]:
    """Pending requests on the equipment the user manages: the approvals queue."""
    return Reservation.objects.filter(
        status=ReservationStatus.PENDING, equipment__in=managed_equipment(user).values("pk")
    ).select_related("equipment__site", "project__partner", "booked_by")


def closures_concerning(user: Any) -> QuerySet[Closure]:
    """Closures that concern the equipment the user manages (all for platform managers)."""
    qs = Closure.objects.select_related("equipment", "site", "created_by")
    if is_platform_manager(user):
        return qs
    managed = managed_equipment(user)
    return qs.touching(equipment_ids=managed.values("pk"), site_ids=managed.values("site_id"))


# The kinds of the rows of `busy_rows`, reservations before closures.
BUSY_RESERVATION, BUSY_CLOSURE = 1, 2


# A statement sent with a read in the same round trip, rows (start, policy_overrides),
# and what to do with them before the read is used: True when it must be read again (the
# no-show probe, which found one to record first: services.noshows.overdue_probe_sql).
Probe = tuple[str, list[Any], Callable[[list[tuple[Any, Any]]], bool]]


def busy_rows(
    ids: Sequence[int],
    site_ids: Collection[int],
    start: datetime,
    end: datetime,
    *,
    probe: Probe | None = None,
) -> list[tuple[Any, ...]]:
    """The live reservations of the equipment `ids` whose held time (buffer included)
    overlaps [start, end), then the closures of these equipment, of the sites `site_ids`
    and campus-wide ones overlapping it, in one round trip.

    Rows are (kind, equipment_id, site_id, start, end, blocked_until, priority), kind
    BUSY_RESERVATION or BUSY_CLOSURE (whose blocked_until is its end and priority empty);
    reservations first, by start and id, then closures by start and id; instants aware,
    in UTC. The same rows as `Reservation.objects.overlapping(start, end, buffers=True)`
    of these equipment and live statuses, and `Closure.objects.touching(...).during(...)`
    (tests/reservations/test_availability_sql.py compares them on both engines).

    Raw SQL on purpose: an availability request would otherwise compile two querysets,
    which cost Django more than the database takes to answer both. On PostgreSQL the
    reservations are found by the range overlap that the GiST index
    `reservation_held_span` answers (see ReservationQuerySet.overlapping); elsewhere,
    and for an empty window, by comparisons. A `probe` goes first in the same statement.
    """
    if not ids:
        return []
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    r_equipment, eq_params = ids_in("r.equipment_id", ids)
    c_equipment, _ = ids_in("c.equipment_id", ids)
    c_site, site_params = ids_in("c.site_id", site_ids)
    status_marks = ", ".join(["%s"] * len(LIVE_STATUSES))
    held, held_params = overlapping_sql("r", start, end, buffers=True)
    sql = (
        # Only placeholders and quoted table and column names are interpolated.
        "SELECT {busy} AS kind, r.equipment_id, NULL AS site_id, r.start, r.{end},"  # noqa: S608
        " r.blocked_until, r.priority, r.id, NULL FROM {res} r"
        f" WHERE {held} AND {r_equipment} AND r.status IN ({status_marks})"
        " UNION ALL"
        " SELECT {closed}, c.equipment_id, c.site_id, c.start, c.{end}, c.{end}, '', c.id, NULL"
        " FROM {clo} c"
        f" WHERE ({c_equipment} OR {c_site}"
        " OR (c.equipment_id IS NULL AND c.site_id IS NULL))"
        " AND c.start < %s AND c.{end} > %s"
        " ORDER BY 1, 4, 8"
    ).format(
        busy=BUSY_RESERVATION,
        closed=BUSY_CLOSURE,
        end=quote("end"),
        res=quote(Reservation._meta.db_table),
        clo=quote(Closure._meta.db_table),
    )
    params: list[Any] = [
        *held_params,
        *eq_params,
        *[str(s) for s in LIVE_STATUSES],
        *eq_params,
        *site_params,
        adapt(end),
        adapt(start),
    ]
    rows = None
    if probe is not None:
        probe_sql, probe_params, must_reread = probe
        both = (
            # The probe's rows first (kind 0), its types leading the union's (PostgreSQL
            # reads two untyped NULLs as text).
            "SELECT 0, NULL, CAST(NULL AS BIGINT), p.start, NULL, NULL, NULL, NULL,"  # noqa: S608
            f" p.policy_overrides FROM ({probe_sql}) p UNION ALL {sql}"
        )
        with connection.cursor() as cursor:
            cursor.execute(both, [*probe_params, *params])
            found = cursor.fetchall()
        if not must_reread([(row[3], row[8]) for row in found if row[0] == 0]):
            rows = [row for row in found if row[0] != 0]
    if rows is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
    if connection.vendor == "postgresql":
        return [row[:7] for row in rows]
    # SQLite gives the instants as text or naive datetimes, in UTC: given the time zone
    # object of PostgreSQL's (availability_times compares them with one).
    return [
        (kind, eq_id, site_id, _utc(a), _utc(b), _utc(c), priority)
        for kind, eq_id, site_id, a, b, c, priority, *_ in rows
    ]


def _utc(value: datetime | str) -> datetime:
    return as_utc(value).astimezone(UTC)


# What an availability reads of each equipment.
AVAILABILITY_FIELDS = ("id", "site", "requires_check_in", "policy_overrides")


class AvailabilityFacts:
    """What `availability_times` and the no-show probe read of an equipment (its
    AVAILABILITY_FIELDS), without a model instance: building 20 `Equipment` from their
    rows cost twice their query."""

    __slots__ = ("_policy", "pk", "policy_overrides", "requires_check_in", "site_id")

    def __init__(
        self, pk: int, site_id: int, requires_check_in: bool, policy_overrides: Any
    ) -> None:
        self.pk, self.site_id = pk, site_id
        self.requires_check_in, self.policy_overrides = requires_check_in, policy_overrides
        self._policy: Any = None

    @property
    def policy(self) -> Any:
        """The effective policy (as `Equipment.policy`)."""
        if self._policy is None:
            self._policy = effective_policy(self.policy_overrides)
        return self._policy


def availability_facts(ids: Sequence[int]) -> list[AvailabilityFacts]:
    """The AVAILABILITY_FIELDS of the equipment of these ids that exist, in no particular
    order, values as a queryset gives them (Django's converters applied).

    Raw SQL on purpose: the `pk__in` queryset compiled and built whole instances for an
    availability request, at twice the cost of the query; tests/reservations/
    test_availability_sql.py compares the facts with the queryset's instances.
    """
    if not ids:
        return []
    # In the model's order.
    fields = [f for f in Equipment._meta.concrete_fields if f.name in AVAILABILITY_FIELDS]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(field.column)) for field in fields)
    marks = ", ".join(["%s"] * len(ids))
    sql = (
        # Only quoted table and column names and placeholders are interpolated.
        f"SELECT {columns} FROM {quote(Equipment._meta.db_table)}"  # noqa: S608
        f" WHERE {quote(str(Equipment._meta.pk.column))} IN ({marks})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(ids))
        rows = cursor.fetchall()
    converters = []
    for index, field in enumerate(fields):
        expression = field.get_col(Equipment._meta.db_table)
        found = [
            *connection.ops.get_db_converters(expression),
            *expression.get_db_converters(connection),
        ]
        if found:
            converters.append((index, expression, found))
    order = [field.attname for field in fields]
    at = [order.index(name) for name in ("id", "site_id", "requires_check_in", "policy_overrides")]
    items = []
    for row in rows:
        values = list(row)
        for index, expression, found in converters:
            for convert in found:
                values[index] = convert(values[index], expression, connection)
        items.append(AvailabilityFacts(*(values[i] for i in at)))
    return items


def availability(equipment: Equipment, start: datetime, end: datetime) -> dict[str, Any]:
    """Busy and free intervals of one equipment over [start, end) (see availabilities)."""
    return availabilities([equipment], start, end)[equipment.pk]


def availabilities(
    equipment: Sequence[Equipment] | Sequence[AvailabilityFacts],
    start: datetime,
    end: datetime,
    *,
    stamp: Callable[[datetime], Any] | None = None,
    probe: Probe | None = None,
) -> dict[int, dict[str, Any]]:
    """Busy intervals (reservations, their buffers, closures) and free intervals within
    opening hours of each equipment over [start, end), by equipment id: two queries
    whatever the number of equipment (see availability_times).

    Instants are given by `stamp`, by default in `tz` by `astimezone`:
    `timezone.localtime` would look up the active time zone for each of them (a
    thread-local read). No request activates another zone than TIME_ZONE.
    The API writes its JSON from `availability_times` directly
    (reservations.api.availability); tests compare both.
    """
    if stamp is None:
        stamp = partial(datetime.astimezone, tz=local_tz())
    window_start, window_end = stamp(start), stamp(end)
    found: dict[int, dict[str, Any]] = {}
    for pk, (busy, free) in availability_times(equipment, start, end, probe=probe).items():
        found[pk] = {
            "equipment": pk,
            "start": window_start,
            "end": window_end,
            "busy": [
                {"start": stamp(a), "end": stamp(b), "kind": kind}
                if priority is None
                else {"start": stamp(a), "end": stamp(b), "kind": kind, "priority": priority}
                for a, b, kind, priority in busy
            ],
            "free": [{"start": stamp(a), "end": stamp(b)} for a, b in free],
        }
    return found


# A busy interval: (start, end, kind, priority), the priority None but for a reservation.
Busy = tuple[datetime, datetime, str, str | None]


def availability_times(
    equipment: Sequence[Equipment] | Sequence[AvailabilityFacts],
    start: datetime,
    end: datetime,
    *,
    probe: Probe | None = None,
) -> dict[int, tuple[list[Busy], list[rules.Pair]]]:
    """The busy intervals (by start; a reservation's buffer right after it, closures
    after reservations of the same start) and the free intervals (within opening hours,
    by start) of each equipment over [start, end), by equipment id, in the order given:
    two queries whatever the number of equipment. Instants are aware, in UTC.

    Every instant is brought to one time zone object (UTC) before they are compared:
    comparing datetimes of two different time zones costs thirty times more than of one,
    and the free time of 20 equipment's week compares a few thousand.
    The opening hours are computed once per distinct policy: equipment mostly share
    theirs, and merging a policy deep-copies the platform defaults.
    A `probe` (the no-show probe of equipment requiring check-in) is sent with the
    busy intervals' query (see busy_rows).
    """
    tz = local_tz()
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    ids = [e.pk for e in equipment]
    busy: dict[int, list[Busy]] = {pk: [] for pk in ids}
    blocked: dict[int, list[rules.Pair]] = {pk: [] for pk in ids}
    by_site: dict[int, list[int]] = defaultdict(list)
    for item in equipment:
        by_site[item.site_id].append(item.pk)
    for kind, eq_id, site_id, r_start, r_end, r_blocked, priority in busy_rows(
        ids, set(by_site), start, end, probe=probe
    ):
        if kind == BUSY_RESERVATION:
            into = busy[eq_id]
            into.append((r_start, r_end, "reservation", priority))
            if r_blocked > r_end:
                into.append((r_end, r_blocked, "buffer", None))
            blocked[eq_id].append((r_start, r_blocked))
            continue
        # A closure: of its equipment, of its site's, or (neither) of every one.
        if eq_id is not None:
            closed = [eq_id]
        elif site_id is not None:
            closed = by_site.get(site_id, [])
        else:
            closed = ids
        shown = (r_start, r_end, "closure", None)
        for pk in closed:
            busy[pk].append(shown)
            blocked[pk].append((r_start, r_end))
    found: dict[int, tuple[list[Busy], list[rules.Pair]]] = {}
    opening_of: dict[str, list[rules.Pair]] = {}
    for item in equipment:
        key = overrides_key(item.policy_overrides)
        if key not in opening_of:
            opening_of[key] = [
                (max(o.start.astimezone(UTC), start), min(o.end.astimezone(UTC), end))
                for o in rules.opening_intervals(item.policy, start, end, tz)
                if o.start < o.end and o.start < end and start < o.end
            ]
        free = rules.subtract_pairs(opening_of[key], blocked[item.pk])
        # Stable: of one start, the order of the rows (reservation, its buffer, closures).
        busy[item.pk].sort(key=itemgetter(0))
        found[item.pk] = (busy[item.pk], [(a, b) for a, b in free if a < b])
    return found
