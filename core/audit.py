"""Write the audit trail: build entries, compare before and after, insert them at once.

The services call these inside their transaction, so a change and its entry commit or
roll back together. A service that changes many rows (a closure displacing twenty
bookings, a series of thirteen) builds every entry first and inserts them in one
statement (`record`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from .models import AuditEntry


def as_json(value: Any) -> Any:
    """A value as the trail stores it: instants in UTC ISO 8601, dates ISO, amounts as text."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [as_json(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Mapping):
        return {str(k): as_json(v) for k, v in value.items()}
    pk = getattr(value, "pk", None)
    if pk is not None and hasattr(value, "_meta"):
        return pk
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, list[Any]]:
    """`{field: [from, to]}` for each field whose value differs (a missing one is None)."""
    changes = {}
    for key in sorted({*before, *after}):
        old, new = as_json(before.get(key)), as_json(after.get(key))
        if old != new:
            changes[key] = [old, new]
    return changes


def actor_of(by: Any) -> Any:
    """The user to store as `by`: None for the platform itself or an anonymous user."""
    return by if by is not None and getattr(by, "pk", None) is not None else None


def entry(
    *,
    object_type: str,
    object_id: int,
    action: str,
    at: datetime,
    by: Any,
    changes: Mapping[str, Sequence[Any]] | None = None,
    reason: str = "",
    overridden: Iterable[str] = (),
    equipment_id: int | None = None,
    site_id: int | None = None,
) -> AuditEntry:
    """One entry, not yet saved (give it to `record` with the others of the same call)."""
    return AuditEntry(
        at=at,
        by=actor_of(by),
        object_type=object_type,
        object_id=object_id,
        action=action,
        changes={k: [as_json(v[0]), as_json(v[1])] for k, v in (changes or {}).items()},
        reason=reason or "",
        overridden=list(overridden),
        equipment_id=equipment_id,
        site_id=site_id,
    )


def record(entries: Sequence[AuditEntry]) -> None:
    """Insert the entries of one service call together (one statement for a few hundred)."""
    if entries:
        AuditEntry.objects.bulk_create(entries)


def record_change(
    *,
    object_type: str,
    object_id: int,
    action: str,
    changes: Mapping[str, Sequence[Any]],
    by: Any,
    at: datetime | None = None,
    equipment_id: int | None = None,
    site_id: int | None = None,
) -> None:
    """Record one change of one object now, when something changed (`changes` from `diff`,
    or written by hand); nothing when `changes` is empty."""
    if changes:
        record(
            [
                entry(
                    object_type=object_type,
                    object_id=object_id,
                    action=action,
                    at=at or timezone.now(),
                    by=by,
                    changes=changes,
                    equipment_id=equipment_id,
                    site_id=site_id,
                )
            ]
        )
