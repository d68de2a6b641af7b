"""No-shows and completion (SPEC §5): recorded once, before anything reads the bookings.

On equipment that requires check-in, a confirmed reservation not checked in within the
grace after its start is a no-show, and the rest of its slot is free again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet

from core.models import AuditEntry
from equipment.models import Equipment
from equipment.policy import effective_policy, overrides_key
from reservations.facts import as_utc
from reservations.models import Reservation, ReservationStatus, UsageRecord

from .announce import reservations_did
from .records import audit_entry
from .transactions import run_in_transaction


def _mark(item: Reservation, status: str, now: datetime, audits: list[AuditEntry]) -> None:
    item.status = status
    item.revision += 1
    item.status_changed_at = now
    item.updated_at = now
    audits.append(audit_entry(item, by=None, action=status, at=now, from_status="confirmed"))


def _overdue(now: datetime, equipment_ids: Sequence[int] | None) -> QuerySet[Reservation]:
    """Confirmed reservations of check-in equipment, started and never checked in."""
    qs = Reservation.objects.filter(
        status=ReservationStatus.CONFIRMED, start__lt=now, equipment__requires_check_in=True
    ).exclude(Exists(UsageRecord.objects.filter(reservation=OuterRef("pk"))))
    if equipment_ids is not None:
        qs = qs.filter(equipment_id__in=equipment_ids)
    return qs


def record_no_shows_locked(
    *, now: datetime, equipment_ids: Sequence[int] | None = None, probe: bool = True
) -> list[Reservation]:
    """Inside a transaction: turn reservations past their check-in grace into no-shows.

    First the light probe (`_any_overdue`, unless the caller just ran it): a booking
    then pays one cheap query when nothing is overdue, and locks and reads the candidates
    with their equipment only when something may be.
    """
    if equipment_ids is not None and not equipment_ids:
        return []
    if probe and not _any_overdue(now, equipment_ids):
        return []
    candidates = _overdue(now, equipment_ids).select_for_update().select_related("equipment")
    changed: list[Reservation] = []
    audits: list[AuditEntry] = []
    for item in candidates:
        grace = timedelta(minutes=item.equipment.policy.check_in_grace_minutes)
        if item.start + grace <= now:
            _mark(item, ReservationStatus.NO_SHOW, now, audits)
            changed.append(item)
    Reservation.objects.bulk_update(
        changed, ["status", "revision", "status_changed_at", "updated_at"], batch_size=500
    )
    AuditEntry.objects.bulk_create(audits, batch_size=500)
    reservations_did("no_show", changed, now=now)
    return changed


def record_no_shows_of(equipment: Iterable[Equipment], *, now: datetime) -> None:
    """`record_no_shows` before a read of these equipment's bookings (SPEC §5: past its
    check-in grace a booking is a no-show and no longer busy); nothing to do, and no query,
    when none of them requires a check-in."""
    checked = [e.pk for e in equipment if e.requires_check_in]
    if checked:
        record_no_shows(now=now, equipment_ids=checked)


def record_no_shows(
    *, now: datetime, equipment_ids: Sequence[int] | None = None
) -> list[Reservation]:
    """Record the no-shows that SPEC §5 says already are, before a read answers.

    The one place every read of bookings goes through: the API's lists, details and
    availability, the free-equipment filter, the alternatives, the pages and check-in
    call it; the booking services call `record_no_shows_locked` inside their
    transaction. So the API never waits for the `release_no_shows` command. It costs one
    light query when nothing is overdue (see `_any_overdue`), and opens a write
    transaction only when something is.
    """
    if equipment_ids is not None and not equipment_ids:
        return []
    if not _any_overdue(now, equipment_ids):
        return []
    return run_in_transaction(
        lambda: record_no_shows_locked(now=now, equipment_ids=equipment_ids, probe=False)
    )


# More started reservations than this not checked in: leave it to the locked pass.
_PROBE_ROWS = 100


def _any_overdue(now: datetime, equipment_ids: Sequence[int] | None) -> bool:
    """Whether a reservation may be past its grace: one query of a few rows, two columns.

    When nothing is overdue, the candidates (started, not checked in) are those still
    within their grace: a few. They are read latest first, with a limit, so that
    PostgreSQL walks the index `reservation_confirmed_start` back from now and probes each
    row's check-in by its unique index, instead of hashing every check-in ever recorded
    (its choice without the limit, which grew with the history). The grace is each
    equipment's policy, computed once per distinct set of overrides rather than per row.

    Raw SQL on purpose, the same statement as `_overdue()`'s ordered and limited: it runs
    before every read of bookings, and compiling the queryset each time cost Django more
    than the database took to answer it.
    """
    sql, params = overdue_probe_sql(now, equipment_ids)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return overdue_in(rows, now)


def overdue_probe_sql(now: datetime, equipment_ids: Sequence[int] | None) -> tuple[str, list[Any]]:
    """The statement of `_any_overdue` and its parameters: rows (start, policy_overrides),
    for `overdue_in` to judge; a read may send it with its own (reservations.api.reads)."""
    quote = connection.ops.quote_name
    params: list[Any] = [
        ReservationStatus.CONFIRMED,
        connection.ops.adapt_datetimefield_value(now),
    ]
    among = ""
    if equipment_ids is not None:
        among = f" AND r.equipment_id IN ({', '.join(['%s'] * len(equipment_ids))})"
        params.extend(equipment_ids)
    params.append(_PROBE_ROWS)
    sql = (
        # Only placeholders and quoted table names are interpolated.
        "SELECT r.start, e.policy_overrides FROM {reservation} r"  # noqa: S608
        " JOIN {equipment} e ON e.id = r.equipment_id"
        " WHERE r.status = %s AND r.start < %s AND e.requires_check_in"
        " AND NOT EXISTS (SELECT 1 FROM {usage} u WHERE u.reservation_id = r.id)"
        f"{among} ORDER BY r.start DESC LIMIT %s"
    ).format(
        reservation=quote(Reservation._meta.db_table),
        equipment=quote(Equipment._meta.db_table),
        usage=quote(UsageRecord._meta.db_table),
    )
    return sql, params


def overdue_in(rows: Sequence[tuple[Any, Any]], now: datetime) -> bool:
    """Whether the rows of `overdue_probe_sql` show a reservation that may be past its
    grace (a full probe: the locked pass decides, row by row)."""
    if len(rows) == _PROBE_ROWS:
        return True  # the locked pass decides, row by row
    graces: dict[Any, timedelta] = {}
    for start, overrides in rows:
        # The overrides as the database gives them (JSON text, or already decoded): the
        # same text, the same grace.
        key = overrides if isinstance(overrides, str) else overrides_key(overrides)
        if key not in graces:
            decoded = json.loads(overrides) if isinstance(overrides, str) else overrides
            minutes = effective_policy(decoded).check_in_grace_minutes
            graces[key] = timedelta(minutes=minutes)
        if as_utc(start) + graces[key] <= now:
            return True
    return False


def release_no_shows(*, now: datetime) -> dict[str, int]:
    """Mark unchecked reservations past their grace as no-shows, and ended ones completed.

    On equipment that requires check-in, a confirmed reservation without check-in after
    its grace becomes `no_show` (its slot is free again). A confirmed reservation that has
    ended becomes `completed` (on check-in equipment, only when it was checked in).
    """

    def work() -> dict[str, int]:
        no_shows = record_no_shows_locked(now=now)
        ended = (
            Reservation.objects.select_for_update()
            .filter(status=ReservationStatus.CONFIRMED, end__lte=now)
            .exclude(
                Q(equipment__requires_check_in=True)
                & ~Exists(UsageRecord.objects.filter(reservation=OuterRef("pk")))
            )
        )
        changed: list[Reservation] = []
        audits: list[AuditEntry] = []
        for item in ended:
            _mark(item, ReservationStatus.COMPLETED, now, audits)
            changed.append(item)
        Reservation.objects.bulk_update(
            changed, ["status", "revision", "status_changed_at", "updated_at"], batch_size=500
        )
        AuditEntry.objects.bulk_create(audits, batch_size=500)
        reservations_did("completed", changed, now=now)
        return {"no_show": len(no_shows), "completed": len(changed)}

    return run_in_transaction(work)
