"""The one write path for reservations: create, move, cancel, approve, reject.

Every entry point (API, pages, admin, commands) calls these with `now` passed in. Rules
are applied by `reservations.rules` on facts gathered here in a fixed number of queries;
the database's no-overlap guarantee (exclusion constraint or trigger) backs them, and its
violation is answered as a plain `conflict`.
"""

from __future__ import annotations

import logging
import time as time_module
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from django.db import (
    DatabaseError,
    IntegrityError,
    OperationalError,
    connection,
    models,
    transaction,
)
from django.db.models import Q
from django.utils.translation import gettext as _

from core.french_calendars import public_holidays, school_holidays, school_years_covered
from core.roles import is_platform_manager
from core.timezones import local_tz
from equipment.models import Equipment, Qualification
from equipment.selectors import can_manage_equipment
from partners.models import Project, ProjectKind
from reservations import rules
from reservations.constraints import CONSTRAINT_NAME
from reservations.exceptions import BookingError
from reservations.models import (
    LIVE_STATUSES,
    AuditEntry,
    Closure,
    Reservation,
    ReservationStatus,
    Series,
    Session,
)
from reservations.recurrence import RecurrenceError, expand

from .announce import reservations_did

log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M", bound=models.Model)
# Statuses whose hours count in a partner's weekly quota.
QUOTA_STATUSES = (*LIVE_STATUSES, ReservationStatus.COMPLETED, ReservationStatus.NO_SHOW)


@dataclass
class BookingOutcome:
    reservations: list[Reservation]
    displaced: list[Reservation]
    skipped: list[dict[str, Any]] = field(default_factory=list)
    series: Series | None = None
    session: Session | None = None


def _is_overlap_violation(error: IntegrityError) -> bool:
    cause = error.__cause__
    diag = getattr(cause, "diag", None)
    if diag is not None and getattr(diag, "constraint_name", None) == CONSTRAINT_NAME:
        return True
    return CONSTRAINT_NAME in str(error)


def _is_retryable(error: DatabaseError) -> bool:
    # PostgreSQL: deadlock_detected (40P01) and serialization_failure (40001).
    code = getattr(error.__cause__, "sqlstate", None) or getattr(error.__cause__, "pgcode", None)
    return code in {"40P01", "40001"} or "database is locked" in str(error)


def run_in_transaction(work: Callable[[], T], *, attempts: int = 5) -> T:
    """Run `work` atomically, retrying deadlocks and serialisation failures."""
    for attempt in range(1, attempts + 1):
        try:
            with transaction.atomic():
                return work()
        except IntegrityError:
            raise
        except OperationalError as error:
            if attempt == attempts or not _is_retryable(error):
                raise
            log.info("retrying a booking transaction after %s", error)
            time_module.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


def _audit(
    reservation: Reservation,
    *,
    by: Any,
    action: str,
    at: datetime,
    from_status: str = "",
    from_start: datetime | None = None,
    from_end: datetime | None = None,
    reason: str = "",
    overridden: Sequence[str] = (),
) -> AuditEntry:
    return AuditEntry(
        reservation=reservation,
        at=at,
        by=by if by is not None and getattr(by, "pk", None) else None,
        action=action,
        from_status=from_status,
        to_status=reservation.status,
        from_start=from_start,
        from_end=from_end,
        to_start=reservation.start,
        to_end=reservation.end,
        reason=reason,
        overridden=list(overridden),
    )


def managed_equipment_ids(user: Any, equipment_ids: Sequence[int]) -> set[int]:
    if is_platform_manager(user):
        return set(equipment_ids)
    return set(user.managed_equipment.filter(pk__in=equipment_ids).values_list("pk", flat=True))


@dataclass
class _Facts:
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
            project_active=_project_active(project, start, end, tz),
            qualification_required=item.requires_qualification,
            qualified=valid_until is not None and valid_until >= last_day,
            school_holidays=self.school,
            quota_used=dict(self.quota_used.get(item.pk, {})),
            busy=tuple(self.busy.get(item.pk, ())),
        )


def _lock_equipment(ids: Sequence[int], *, user: Any, project: Project) -> list[Equipment]:
    """Lock the equipment rows in id order, with what the rules need to know of the user.

    One query: each row carries the user's qualification end (`qualified_until`), whether
    the user manages it (`user_manages`) and belongs to the project (`user_is_member`).
    Raw SQL on purpose: it runs on every booking, and compiling the same annotated
    queryset each time cost more than the query itself (see bench/bench_booking.py).
    SQLite has no row locks: its IMMEDIATE transactions already serialise writers.
    """
    quote = connection.ops.quote_name
    marks = ", ".join(["%s"] * len(ids))
    lock = " FOR UPDATE OF e" if connection.features.has_select_for_update_of else ""
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
        f" FROM {{equipment}} e WHERE e.id IN ({marks}) ORDER BY e.id{lock}"
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


def _release_no_shows(items: Sequence[Equipment], now: datetime) -> None:
    """A reservation past its check-in grace is a no-show (SPEC §5), command run or not:
    record it before the rules read the busy time, so that its slot is free again."""
    ids = [e.pk for e in items if e.requires_check_in]
    if ids:
        from .usage import release_overdue_no_shows_locked

        release_overdue_no_shows_locked(now=now, equipment_ids=ids)


def _managed(items: Sequence[Equipment], user: Any) -> set[int]:
    if is_platform_manager(user):
        return {e.pk for e in items}
    return {e.pk for e in items if getattr(e, "user_manages", False)}


def _is_member(project: Project, user: Any, items: Sequence[Equipment]) -> bool:
    return project.leader_id == user.pk or bool(getattr(items[0], "user_is_member", False))


def _utc(value: datetime | str) -> datetime:
    """A datetime read by a raw query: SQLite gives naive UTC text, PostgreSQL aware values."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=rules.UTC)


def _busy_and_closures(
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


def _gather(
    *,
    equipment: Sequence[Equipment],
    project: Project,
    span_start: datetime,
    span_end: datetime,
    exclude_id: int | None,
    tz: ZoneInfo,
) -> _Facts:
    """The facts for `equipment` locked by `_lock_equipment`: one query, two with a quota."""
    ids = [e.pk for e in equipment]
    busy: dict[int, list[rules.Busy]] = defaultdict(list)
    closures: dict[int, list[rules.Interval]] = defaultdict(list)
    site_ids = {e.site_id for e in equipment}
    for kind_, pk, eq_id, site_id, start, end, blocked, priority in _busy_and_closures(
        ids, site_ids, span_start, span_end, exclude_id
    ):
        if kind_ == 1:
            busy[eq_id].append(rules.Busy(pk, _utc(start), _utc(end), _utc(blocked), priority))
            continue
        for item in equipment:
            if eq_id == item.pk or (eq_id is None and site_id in (None, item.site_id)):
                closures[item.pk].append(rules.Interval(_utc(start), _utc(end)))

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
        used = Reservation.objects.filter(
            equipment_id__in=ids,
            project__partner_id=project.partner_id,
            priority=kind,
            status__in=QUOTA_STATUSES,
            start__lt=week_end,
            end__gt=week_start,
        )
        if exclude_id:
            used = used.exclude(pk=exclude_id)
        for eq_id, start, end in used.values_list("equipment_id", "start", "end"):
            for monday, hours in rules.week_hours(start, end, tz).items():
                quota_used[eq_id][monday] += hours

    first_day = span_start.astimezone(tz).date()
    last_day = span_end.astimezone(tz).date()
    return _Facts(
        busy=busy,
        closures=closures,
        qualified_until=qualified_until,
        quota_used=quota_used,
        school=school_holidays(first_day, last_day),
        holidays=public_holidays(first_day, last_day),
    )


def _project_active(project: Project, start: datetime, end: datetime, tz: ZoneInfo) -> bool:
    first = start.astimezone(tz).date()
    last = (end - timedelta(microseconds=1)).astimezone(tz).date()
    if project.active_from and first < project.active_from:
        return False
    return not (project.active_until and last > project.active_until)


def _occurrence_payload(equipment_id: int | None, start: datetime, end: datetime, code: str):
    item: dict[str, Any] = {"start": start, "end": end, "code": code}
    if equipment_id is not None:
        item["equipment"] = equipment_id
    return item


def reservation_create(
    *,
    user: Any,
    project: Project,
    equipment: Sequence[Equipment],
    start: datetime,
    end: datetime,
    title: str,
    now: datetime,
    expected_participants: int = 1,
    rrule: str | None = None,
    skip_school_holidays: bool = False,
    skip_conflicts: bool = False,
    override: bool = False,
) -> BookingOutcome:
    """Book one equipment, a session of several, or a recurring series, all rules applied."""
    equipment = list(equipment)
    if not equipment:
        raise BookingError("invalid", _("Choose at least one equipment."))
    if len({e.pk for e in equipment}) != len(equipment):
        raise BookingError("invalid", _("The same equipment is listed twice."))
    shape = rules.check_shape(start, end)
    if shape:
        raise BookingError(shape.code, shape.message)
    # UTC from here on: adding a buffer to a local time would use the wall clock.
    start, end = start.astimezone(rules.UTC), end.astimezone(rules.UTC)
    if not title.strip():
        raise BookingError(
            "invalid",
            _("Give the reservation a title."),
            fields={"title": [_("This field is required.")]},
        )
    if expected_participants < 1:
        raise BookingError("invalid", _("At least one participant is expected."))
    tz = local_tz()
    if rrule:
        try:
            occurrences = expand(rrule, start, end, tz)
        except RecurrenceError as error:
            raise BookingError(
                "invalid", str(error), fields={"recurrence.rrule": [str(error)]}
            ) from None
    else:
        occurrences = [(start, end)]
    if rrule and skip_school_holidays:
        unknown = sorted(
            {
                s.astimezone(tz).year
                for s, _e in occurrences
                if not school_years_covered(s.astimezone(tz).year)
            }
        )
        if unknown:
            raise BookingError(
                "school_holidays_unknown",
                _(
                    "The zone B school holidays of %(years)s are not known yet: the series "
                    "cannot skip them. Book it without skipping school holidays, or up to "
                    "the last known year."
                )
                % {"years": ", ".join(str(y) for y in unknown)},
                fields={"recurrence.skip_school_holidays": [_("Unknown school holidays.")]},
            )
    ids = [e.pk for e in equipment]

    def work() -> BookingOutcome:
        locked = _lock_equipment(ids, user=user, project=project)
        by_id = {e.pk: e for e in locked}
        items = [by_id[pk] for pk in ids]
        _release_no_shows(items, now)
        managed = _managed(items, user)
        if override and len(managed) != len(ids):
            raise BookingError(
                "permission_denied",
                _("Only the equipment's managers may override a rule."),
                status=403,
            )
        policies = {e.pk: e.policy for e in items}
        max_buffer = max(p.buffer_minutes for p in policies.values())
        span_start = min(s for s, _e in occurrences)
        span_end = max(e for _s, e in occurrences) + timedelta(minutes=max_buffer)
        facts = _gather(
            equipment=items,
            project=project,
            span_start=span_start,
            span_end=span_end,
            exclude_id=None,
            tz=tz,
        )
        member = _is_member(project, user, items)
        kind = project.kind
        accepted: list[tuple[datetime, datetime]] = []
        skipped: list[dict[str, Any]] = []
        failures: list[dict[str, Any]] = []
        failure_violations: list[rules.Violation] = []
        displace: set[int] = set()
        overridden_codes: set[str] = set()
        conflicts: list[rules.Busy] = []
        series_mode = bool(rrule)
        for occ_start, occ_end in occurrences:
            local_day = occ_start.astimezone(tz).date()
            if series_mode and local_day in facts.holidays:
                skipped.append(_occurrence_payload(None, occ_start, occ_end, "closed"))
                continue
            if series_mode and skip_school_holidays and local_day in facts.school:
                skipped.append(_occurrence_payload(None, occ_start, occ_end, "school_holiday"))
                continue
            occurrence_failures: list[tuple[int, rules.Violation]] = []
            occurrence_displace: set[int] = set()
            occurrence_overridden: set[str] = set()
            for item in items:
                verdict = rules.check_booking(
                    facts.for_request(
                        item=item,
                        policy=policies[item.pk],
                        project=project,
                        kind=kind,
                        is_member=member,
                        start=occ_start,
                        end=occ_end,
                        now=now,
                        tz=tz,
                    )
                )
                violations, overridden = rules.apply_override(verdict.violations, override)
                occurrence_overridden |= set(overridden)
                if violations:
                    occurrence_failures.append((item.pk, violations[0]))
                    if violations[0].code == "conflict":
                        conflicts.extend(verdict.conflicts)
                occurrence_displace |= set(verdict.displace)
            if not occurrence_failures:
                accepted.append((occ_start, occ_end))
                displace |= occurrence_displace
                overridden_codes |= occurrence_overridden
                # Later occurrences see this one: as busy time and in the quota.
                for item in items:
                    blocked = occ_end + timedelta(minutes=policies[item.pk].buffer_minutes)
                    facts.busy[item.pk].append(rules.Busy(0, occ_start, occ_end, blocked, kind))
                    for monday, hours in rules.week_hours(occ_start, occ_end, tz).items():
                        facts.quota_used[item.pk][monday] += hours
                continue
            first_code = occurrence_failures[0][1].code
            if series_mode and first_code == "closed":
                skipped.append(_occurrence_payload(None, occ_start, occ_end, "closed"))
            elif skip_conflicts and (series_mode or len(items) > 1):
                skipped.append(_occurrence_payload(None, occ_start, occ_end, first_code))
            else:
                for eq_id, violation in occurrence_failures:
                    failures.append(
                        _occurrence_payload(
                            eq_id if len(items) > 1 else None, occ_start, occ_end, violation.code
                        )
                    )
                    failure_violations.append(violation)
        if failures:
            raise _refusal(
                failures,
                failure_violations,
                conflicts,
                series_mode or len(items) > 1,
                items,
                start,
                end,
                now,
                kind,
            )
        if not accepted:
            raise BookingError(
                "invalid",
                _("No occurrence of the series can be booked."),
                occurrences=skipped,
            )
        return _write(
            user=user,
            project=project,
            items=items,
            accepted=accepted,
            skipped=skipped,
            displace=displace,
            overridden=sorted(overridden_codes),
            managed=managed,
            policies=policies,
            title=title,
            expected_participants=expected_participants,
            rrule=rrule if series_mode else None,
            skip_school_holidays=skip_school_holidays,
            now=now,
        )

    try:
        return run_in_transaction(work)
    except IntegrityError as error:
        if not _is_overlap_violation(error):
            raise
        # Another booking won the race between our checks and our insert.
        raise conflict_error(equipment[0], start, end, now, kind=project.kind) from None


def _refusal(
    failures: list[dict[str, Any]],
    violations: list[rules.Violation],
    conflicts: list[rules.Busy],
    grouped: bool,
    items: list[Equipment],
    start: datetime,
    end: datetime,
    now: datetime,
    kind: str,
) -> BookingError:
    codes = [v.code for v in violations]
    if not grouped:
        if codes[0] == "conflict":
            return conflict_error(items[0], start, end, now, conflicts=conflicts, kind=kind)
        return BookingError(violations[0].code, violations[0].message)
    if all(c == "conflict" for c in codes):
        from reservations.selectors import suggest_alternatives

        # Alternatives for the first conflicting occurrence (and its equipment in a session).
        first = failures[0]
        by_id = {e.pk: e for e in items}
        return BookingError(
            "conflict",
            _("Some occurrences conflict with other reservations: nothing was booked."),
            occurrences=failures,
            conflicts=[{"start": b.start, "end": b.end} for b in conflicts if b.id],
            alternatives=suggest_alternatives(
                equipment=by_id.get(first.get("equipment", items[0].pk), items[0]),
                start=first["start"],
                end=first["end"],
                now=now,
                kind=kind,
            ),
        )
    code = next(c for c in codes if c != "conflict")
    return BookingError(
        code,
        _("Some occurrences break the booking rules: nothing was booked."),
        occurrences=failures,
    )


def conflict_error(
    equipment: Equipment,
    start: datetime,
    end: datetime,
    now: datetime,
    *,
    conflicts: Sequence[rules.Busy] = (),
    kind: str = "research",
) -> BookingError:
    from reservations.selectors import suggest_alternatives

    if not conflicts:
        rows = Reservation.objects.filter(
            equipment=equipment, status__in=LIVE_STATUSES, start__lt=end, blocked_until__gt=start
        ).values_list("pk", "start", "end", "blocked_until", "priority")
        conflicts = [rules.Busy(*row) for row in rows]
    return BookingError(
        "conflict",
        _("The equipment is already booked at this time."),
        conflicts=[{"start": b.start, "end": b.end} for b in conflicts if b.id],
        alternatives=suggest_alternatives(
            equipment=equipment, start=start, end=end, now=now, kind=kind
        ),
    )


def _write(
    *,
    user: Any,
    project: Project,
    items: list[Equipment],
    accepted: list[tuple[datetime, datetime]],
    skipped: list[dict[str, Any]],
    displace: set[int],
    overridden: list[str],
    managed: set[int],
    policies: dict,
    title: str,
    expected_participants: int,
    rrule: str | None,
    skip_school_holidays: bool,
    now: datetime,
) -> BookingOutcome:
    displaced = _displace(displace, by=user, now=now, reason=_("Displaced by a teaching booking."))
    series = (
        Series.objects.create(
            rrule=rrule, skip_school_holidays=skip_school_holidays, created_by=user
        )
        if rrule
        else None
    )
    session = Session.objects.create(created_by=user) if len(items) > 1 else None
    new: list[Reservation] = []
    for occ_start, occ_end in accepted:
        for item in items:
            needs_approval = project.kind in policies[item.pk].approval_required_for
            status = (
                ReservationStatus.PENDING
                if needs_approval and item.pk not in managed
                else ReservationStatus.CONFIRMED
            )
            new.append(
                Reservation(
                    equipment=item,
                    project=project,
                    booked_by=user,
                    start=occ_start,
                    end=occ_end,
                    blocked_until=occ_end + timedelta(minutes=policies[item.pk].buffer_minutes),
                    title=title.strip(),
                    expected_participants=expected_participants,
                    status=status,
                    priority=project.kind,
                    series=series,
                    session=session,
                    revision=0,
                    status_changed_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )
    created = _insert(new)
    _insert([_audit(r, by=user, action="create", at=now, overridden=overridden) for r in created])
    reservations_did("created", created, actor=user, now=now)
    reservations_did("displaced", displaced, actor=user, now=now)
    return BookingOutcome(created, displaced, skipped, series, session)


def _insert(objects: list[M]) -> list[M]:
    """Insert new rows in one statement and give them their ids: `bulk_create`, lean.

    The same as `bulk_create` for our plain models (no signals, no batching: a series is
    at most 200 rows) at a fraction of its cost, which matters on the booking path (see
    bench/bench_booking.py). Values go through each field's own `get_db_prep_save`.
    """
    if not objects:
        return objects
    meta = objects[0]._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    quote = connection.ops.quote_name
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = "INSERT INTO {} ({}) VALUES {} RETURNING {}".format(  # noqa: S608 (quoted names)
        quote(meta.db_table),
        ", ".join(quote(str(f.column)) for f in fields),
        ", ".join([row] * len(objects)),
        quote(str(meta.pk.column)),
    )
    params = [
        f.get_db_prep_save(getattr(obj, f.attname), connection) for obj in objects for f in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [pk for (pk,) in cursor.fetchall()]
    for obj, pk in zip(objects, ids, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects


def _transition(
    items: list[Reservation], status: str, *, by: Any, action: str, now: datetime, reason: str = ""
) -> None:
    """Move reservations to a new status: revision bumped, one audit entry each."""
    audits = []
    for item in items:
        previous = item.status
        item.status = status
        item.revision += 1
        item.status_changed_at = now
        item.updated_at = now
        audits.append(
            _audit(item, by=by, action=action, at=now, from_status=previous, reason=reason)
        )
    Reservation.objects.bulk_update(
        items, ["status", "revision", "status_changed_at", "updated_at"]
    )
    AuditEntry.objects.bulk_create(audits)


def _displace(ids: set[int], *, by: Any, now: datetime, reason: str) -> list[Reservation]:
    """Turn live reservations into `displaced`, with their audit entries."""
    if not ids:
        return []
    victims = list(
        Reservation.objects.select_for_update()
        .filter(pk__in=ids, status__in=LIVE_STATUSES)
        .order_by("pk")
    )
    _transition(
        victims, ReservationStatus.DISPLACED, by=by, action="displace", now=now, reason=reason
    )
    return victims


def can_act_on(user: Any, reservation: Reservation) -> bool:
    """The booker, the project's leader and members, its partner's referents, managers."""
    from partners.selectors import project_ids_with_full_view

    if is_platform_manager(user) or reservation.booked_by_id == user.pk:
        return True
    if can_manage_equipment(user, reservation.equipment):
        return True
    return project_ids_with_full_view(user).filter(pk=reservation.project_id).exists()


def reservation_update(
    *,
    reservation: Reservation,
    user: Any,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    title: str | None = None,
    expected_participants: int | None = None,
    override: bool = False,
) -> Reservation:
    """Move or resize a live reservation (every rule again) or change its title."""
    if not can_act_on(user, reservation):
        raise BookingError(
            "permission_denied", _("You may not change this reservation."), status=403
        )
    if reservation.status not in LIVE_STATUSES:
        raise BookingError("invalid", _("Only pending or confirmed reservations can be changed."))
    new_start = start or reservation.start
    new_end = end or reservation.end
    shape = rules.check_shape(new_start, new_end)
    if shape:
        raise BookingError(shape.code, shape.message)
    new_start, new_end = new_start.astimezone(rules.UTC), new_end.astimezone(rules.UTC)
    if title is not None and not title.strip():
        raise BookingError("invalid", _("Give the reservation a title."))
    tz = local_tz()
    managed = managed_equipment_ids(user, [reservation.equipment_id])
    if override and not managed:
        raise BookingError(
            "permission_denied", _("Only the equipment's managers may override a rule."), status=403
        )
    moved = (new_start, new_end) != (reservation.start, reservation.end)

    def work() -> Reservation:
        (equipment,) = _lock_equipment(
            [reservation.equipment_id], user=reservation.booked_by, project=reservation.project
        )
        _release_no_shows([equipment], now)
        current = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if current.status not in LIVE_STATUSES:
            raise BookingError(
                "invalid", _("Only pending or confirmed reservations can be changed.")
            )
        overridden: list[str] = []
        if moved:
            policy = equipment.policy
            project = current.project
            facts = _gather(
                equipment=[equipment],
                project=project,
                span_start=new_start,
                span_end=new_end + timedelta(minutes=policy.buffer_minutes),
                exclude_id=current.pk,
                tz=tz,
            )
            verdict = rules.check_booking(
                facts.for_request(
                    item=equipment,
                    policy=policy,
                    project=project,
                    kind=current.priority,
                    is_member=_is_member(project, current.booked_by, [equipment]),
                    start=new_start,
                    end=new_end,
                    now=now,
                    tz=tz,
                )
            )
            violations, overridden = rules.apply_override(verdict.violations, override)
            if violations:
                code = violations[0].code
                if code == "conflict":
                    raise conflict_error(
                        equipment,
                        new_start,
                        new_end,
                        now,
                        conflicts=verdict.conflicts,
                        kind=current.priority,
                    )
                raise BookingError(code, violations[0].message)
            displaced = _displace(
                set(verdict.displace),
                by=user,
                now=now,
                reason=_("Displaced by a teaching booking."),
            )
            reservations_did("displaced", displaced, actor=user, now=now)
        previous = (current.status, current.start, current.end)
        current.start, current.end = new_start, new_end
        current.blocked_until = new_end + timedelta(minutes=equipment.policy.buffer_minutes)
        if title is not None:
            current.title = title.strip()
        if expected_participants is not None:
            current.expected_participants = expected_participants
        current.revision += 1
        current.updated_at = now
        current.save()
        reservations_did("moved" if moved else "updated", [current], actor=user, now=now)
        if moved:
            _audit(
                current,
                by=user,
                action="move",
                at=now,
                from_status=previous[0],
                from_start=previous[1],
                from_end=previous[2],
                overridden=overridden,
            ).save()
        return current

    try:
        return run_in_transaction(work)
    except IntegrityError as error:
        if not _is_overlap_violation(error):
            raise
        raise conflict_error(
            reservation.equipment, new_start, new_end, now, kind=reservation.priority
        ) from None


def can_be_cancelled(reservation: Reservation, now: datetime) -> bool:
    """A pending request may be withdrawn; a confirmed reservation until it starts.

    Once started it is used, completed or a no-show, and billed (SPEC §5): check out to
    free the rest of its slot.
    """
    return reservation.status == ReservationStatus.PENDING or (
        reservation.status == ReservationStatus.CONFIRMED and reservation.start > now
    )


def reservation_cancel(
    *, reservation: Reservation, user: Any, now: datetime, scope: str = "this", reason: str = ""
) -> list[Reservation]:
    """Cancel one occurrence, the following ones of its series, or the whole series."""
    if scope not in ("this", "following", "series"):
        raise BookingError("invalid", _("scope must be this, following or series."))
    if not can_act_on(user, reservation):
        raise BookingError(
            "permission_denied", _("You may not cancel this reservation."), status=403
        )
    if scope != "this" and reservation.series_id is None:
        scope = "this"
    if scope == "this" and reservation.status not in LIVE_STATUSES:
        raise BookingError("invalid", _("Only pending or confirmed reservations can be cancelled."))
    if scope == "this" and not can_be_cancelled(reservation, now):
        raise BookingError(
            "invalid",
            _("This reservation has started: check out to free the rest of its slot."),
        )

    def work() -> list[Reservation]:
        # can_be_cancelled, as a query.
        targets = Reservation.objects.select_for_update().filter(
            Q(status=ReservationStatus.PENDING)
            | Q(status=ReservationStatus.CONFIRMED, start__gt=now)
        )
        if scope == "this":
            targets = targets.filter(pk=reservation.pk)
        elif scope == "following":
            targets = targets.filter(series=reservation.series, start__gte=reservation.start)
        else:
            targets = targets.filter(series=reservation.series)
        items = list(targets.order_by("pk"))
        _transition(
            items, ReservationStatus.CANCELLED, by=user, action="cancel", now=now, reason=reason
        )
        reservations_did("cancelled", items, actor=user, now=now)
        return items

    return run_in_transaction(work)


def _decide(
    *, reservation: Reservation, user: Any, now: datetime, reason: str, approve: bool
) -> Reservation:
    if not managed_equipment_ids(user, [reservation.equipment_id]):
        raise BookingError(
            "permission_denied", _("Only the equipment's managers decide on requests."), status=403
        )
    if not approve and not reason:
        raise BookingError(
            "required",
            _("Give the requester a reason for the rejection."),
            fields={"reason": [_("This field is required.")]},
        )

    def work() -> Reservation:
        current = Reservation.objects.select_for_update().get(pk=reservation.pk)
        if current.status != ReservationStatus.PENDING:
            raise BookingError(
                "invalid", _("Only pending reservations can be approved or rejected.")
            )
        current.status = ReservationStatus.CONFIRMED if approve else ReservationStatus.REJECTED
        current.revision += 1
        current.status_changed_at = now
        current.updated_at = now
        current.save()
        _audit(
            current,
            by=user,
            action="approve" if approve else "reject",
            at=now,
            from_status=ReservationStatus.PENDING,
            reason=reason,
        ).save()
        reservations_did("approved" if approve else "rejected", [current], actor=user, now=now)
        return current

    return run_in_transaction(work)


def reservation_approve(
    *, reservation: Reservation, user: Any, now: datetime, reason: str = ""
) -> Reservation:
    return _decide(reservation=reservation, user=user, now=now, reason=reason, approve=True)


def reservation_reject(
    *, reservation: Reservation, user: Any, now: datetime, reason: str = ""
) -> Reservation:
    """Refuse a pending request; the requester is told why (a reason is required)."""
    return _decide(
        reservation=reservation, user=user, now=now, reason=reason.strip(), approve=False
    )
