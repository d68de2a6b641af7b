"""What the booking rules need to know, read in a fixed number of queries.

Used by the booking services (inside their transaction, with the equipment rows locked)
and by the alternatives (without locks): both then ask `reservations.rules`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection

from core.french_calendars import public_holidays, school_holidays
from core.roles import is_platform_manager
from equipment.models import Equipment, Qualification
from partners.models import Project, ProjectKind
from reservations import rules
from reservations.models import LIVE_STATUSES, Closure, Reservation, ReservationStatus

# Statuses whose hours count in a partner's weekly quota.
QUOTA_STATUSES = (*LIVE_STATUSES, ReservationStatus.COMPLETED, ReservationStatus.NO_SHOW)


@dataclass
class Facts:
    """What the rules need for a set of equipment over a span, fetched in a few queries."""

    busy: dict[int, list[rules.Busy]]
    closures: dict[int, list[rules.Interval]]
    qualified_until: dict[int, Any]
    quota_used: dict[int, dict[Any, float]]
    school: frozenset
    holidays: dict

    def for_request(
        self,
        *,
        item: Equipment,
        policy: Any,
        project: Project,
        kind: str,
        is_member: bool,
        start: datetime,
        end: datetime,
        now: datetime,
        tz: ZoneInfo,
    ) -> rules.BookingFacts:
        """The rules' input for booking `item` over [start, end)."""
        valid_until = self.qualified_until.get(item.pk)
        last_day = (end - timedelta(microseconds=1)).astimezone(tz).date()
        return rules.BookingFacts(
            start=start,
            end=end,
            now=now,
            tz=tz,
            policy=policy,
            kind=kind,
            equipment_active=item.status == Equipment.Status.ACTIVE,
            closures=tuple(self.closures.get(item.pk, ())),
            is_member=is_member,
            project_active=project_active(project, start, end, tz),
            qualification_required=item.requires_qualification,
            qualified=valid_until is not None and valid_until >= last_day,
            school_holidays=self.school,
            quota_used=dict(self.quota_used.get(item.pk, {})),
            busy=tuple(self.busy.get(item.pk, ())),
        )


def load_equipment(
    ids: Sequence[int], *, user: Any, project: Project, lock: bool = True
) -> list[Equipment]:
    """Read (and lock, for a booking) the equipment rows in id order, with what the rules
    need to know of the user.

    One query: each row carries the user's qualification end (`qualified_until`), whether
    the user manages it (`user_manages`) and belongs to the project (`user_is_member`).
    Raw SQL on purpose: it runs on every booking, and compiling the same annotated
    queryset each time cost more than the query itself (see bench/bench_booking.py).
    SQLite has no row locks: its IMMEDIATE transactions already serialise writers.
    """
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(ids))
    locking = lock and connection.features.has_select_for_update_of
    lock_sql = " FOR UPDATE OF e" if locking else ""
    members = Project.members.through._meta
    managers = Equipment.managers.through._meta
    sql = (
        # Only placeholders and quoted table names are interpolated.
        "SELECT e.*,"  # noqa: S608
        " (SELECT q.valid_until FROM {qualification} q"
        "  WHERE q.equipment_id = e.id AND q.user_id = %s) AS qualified_until,"
        " EXISTS(SELECT 1 FROM {managers} m"
        "  WHERE m.equipment_id = e.id AND m.user_id = %s) AS user_manages,"
        " EXISTS(SELECT 1 FROM {members} pm"
        "  WHERE pm.project_id = %s AND pm.user_id = %s) AS user_is_member"
        f" FROM {{equipment}} e WHERE e.id IN ({marks}) ORDER BY e.id{lock_sql}"
    ).format(
        qualification=quote(Qualification._meta.db_table),
        managers=quote(managers.db_table),
        members=quote(members.db_table),
        equipment=quote(Equipment._meta.db_table),
    )
    params = [user.pk, user.pk, project.pk, user.pk, *ids]
    items = list(Equipment.objects.raw(sql, params))
    for item in items:
        until = item.qualified_until  # type: ignore[attr-defined]
        if isinstance(until, str):  # SQLite gives the date as text
            item.qualified_until = date.fromisoformat(until)  # type: ignore[attr-defined]
    return items


def managed_ids(items: Sequence[Equipment], user: Any) -> set[int]:
    if is_platform_manager(user):
        return {e.pk for e in items}
    return {e.pk for e in items if getattr(e, "user_manages", False)}


def is_member(project: Project, user: Any, items: Sequence[Equipment]) -> bool:
    return project.leader_id == user.pk or bool(getattr(items[0], "user_is_member", False))


def as_utc(value: datetime | str) -> datetime:
    """A datetime read by a raw query: SQLite gives naive UTC text, PostgreSQL aware values."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=rules.UTC)


def busy_and_closures(
    ids: Sequence[int],
    site_ids: set[int],
    span_start: datetime,
    span_end: datetime,
    exclude_id: int | None,
) -> list[tuple]:
    """Live reservations and closures touching the span, in one round trip.

    Raw SQL on purpose: this runs on every booking, and the ORM would compile two
    querysets each time (see bench/bench_booking.py). Rows are
    (kind, id, equipment_id, site_id, start, end, blocked_until, priority), kind 1 for a
    reservation and 2 for a closure.
    """
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    eq_marks = ", ".join(["%s"] * len(ids))
    site_marks = ", ".join(["%s"] * len(site_ids)) or "NULL"
    status_marks = ", ".join(["%s"] * len(LIVE_STATUSES))
    sql = (
        # Only placeholders and quoted table names are interpolated.
        "SELECT 1, id, equipment_id, NULL, start, {end}, blocked_until, priority FROM {res}"  # noqa: S608
        f" WHERE equipment_id IN ({eq_marks}) AND status IN ({status_marks})"
        " AND start < %s AND blocked_until > %s AND id <> %s"
        " UNION ALL"
        " SELECT 2, id, equipment_id, site_id, start, {end}, {end}, '' FROM {clo}"
        f" WHERE (equipment_id IN ({eq_marks}) OR site_id IN ({site_marks})"
        " OR (equipment_id IS NULL AND site_id IS NULL)) AND start < %s AND {end} > %s"
    ).format(
        end=quote("end"),
        res=quote(Reservation._meta.db_table),
        clo=quote(Closure._meta.db_table),
    )
    params: list[Any] = [
        *ids,
        *[str(s) for s in LIVE_STATUSES],
        adapt(span_end),
        adapt(span_start),
        exclude_id or 0,
        *ids,
        *site_ids,
        adapt(span_end),
        adapt(span_start),
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def gather(
    *,
    equipment: Sequence[Equipment],
    project: Project,
    span_start: datetime,
    span_end: datetime,
    exclude_id: int | None,
    tz: ZoneInfo,
) -> Facts:
    """The facts for `equipment` locked by `load_equipment`: one query, two with a quota."""
    ids = [e.pk for e in equipment]
    busy: dict[int, list[rules.Busy]] = defaultdict(list)
    closures: dict[int, list[rules.Interval]] = defaultdict(list)
    site_ids = {e.site_id for e in equipment}
    for kind_, pk, eq_id, site_id, start, end, blocked, priority in busy_and_closures(
        ids, site_ids, span_start, span_end, exclude_id
    ):
        if kind_ == 1:
            busy[eq_id].append(
                rules.Busy(pk, as_utc(start), as_utc(end), as_utc(blocked), priority)
            )
            continue
        for item in equipment:
            if eq_id == item.pk or (eq_id is None and site_id in (None, item.site_id)):
                closures[item.pk].append(rules.Interval(as_utc(start), as_utc(end)))

    qualified_until = {
        e.pk: e.qualified_until  # type: ignore[attr-defined]
        for e in equipment
        if getattr(e, "qualified_until", None) is not None
    }

    quota_used: dict[int, dict[Any, float]] = defaultdict(lambda: defaultdict(float))
    kind = project.kind
    needs_quota = kind != ProjectKind.PEDAGOGICAL and any(
        e.policy.weekly_quota_hours.get(kind) is not None for e in equipment
    )
    if needs_quota:
        # Whole local weeks around the span, so that every touched week is complete.
        first = span_start.astimezone(tz).date()
        week_start = datetime.combine(
            first - timedelta(days=first.weekday()), datetime.min.time(), tzinfo=tz
        )
        last = span_end.astimezone(tz).date()
        week_end = datetime.combine(
            last + timedelta(days=7 - last.weekday()), datetime.min.time(), tzinfo=tz
        )
        used = Reservation.objects.overlapping(week_start, week_end).filter(
            equipment_id__in=ids,
            project__partner_id=project.partner_id,
            priority=kind,
            status__in=QUOTA_STATUSES,
        )
        if exclude_id:
            used = used.exclude(pk=exclude_id)
        for eq_id, start, end in used.values_list("equipment_id", "start", "end"):
            for monday, hours in rules.week_hours(start, end, tz).items():
                quota_used[eq_id][monday] += hours

    first_day = span_start.astimezone(tz).date()
    last_day = span_end.astimezone(tz).date()
    return Facts(
        busy=busy,
        closures=closures,
        qualified_until=qualified_until,
        quota_used=quota_used,
        school=school_holidays(first_day, last_day),
        holidays=public_holidays(first_day, last_day),
    )


def project_active(project: Project, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    if project.active_from and first < project.active_from:
        return False
    return not (project.active_until and last > project.active_until)
