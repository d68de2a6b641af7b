"""Rows every change writes: audit entries, lean inserts, status transitions, displacement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

from django.db import connection, models

from core import audit
from core.models import AuditEntry, AuditObject
from reservations.models import LIVE_STATUSES, Reservation, ReservationStatus

M = TypeVar("M", bound=models.Model)


def audit_entry(
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
    more: Mapping[str, Sequence[Any]] | None = None,
) -> AuditEntry:
    """The trail's entry for a change of a reservation, not yet saved.

    `changes` holds the status when it changed, and the times when they moved; a new
    reservation (`create`) has its status and times from nothing. `more` adds other
    `{field: [from, to]}` (the check-in and check-out times).
    """
    changes: dict[str, Sequence[Any]] = dict(more or {})
    created = action == "create"
    if created or from_status != reservation.status:
        changes["status"] = [from_status or None, reservation.status]
    if created or (from_start is not None and from_start != reservation.start):
        changes["start"] = [from_start, reservation.start]
    if created or (from_end is not None and from_end != reservation.end):
        changes["end"] = [from_end, reservation.end]
    return audit.entry(
        object_type=AuditObject.RESERVATION,
        object_id=reservation.pk,
        action=action,
        at=at,
        by=by,
        changes=changes,
        reason=reason,
        overridden=overridden,
        equipment_id=reservation.equipment_id,
    )


def insert_rows(objects: list[M]) -> list[M]:
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


def transition(
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
            audit_entry(item, by=by, action=action, at=now, from_status=previous, reason=reason)
        )
    Reservation.objects.bulk_update(
        items, ["status", "revision", "status_changed_at", "updated_at"]
    )
    audit.record(audits)


def displace(ids: set[int], *, by: Any, now: datetime, reason: str) -> list[Reservation]:
    """Turn live reservations into `displaced`, with their audit entries."""
    if not ids:
        return []
    victims = list(
        Reservation.objects.select_for_update()
        .filter(pk__in=ids, status__in=LIVE_STATUSES)
        .order_by("pk")
    )
    transition(
        victims, ReservationStatus.DISPLACED, by=by, action="displace", now=now, reason=reason
    )
    return victims
