"""Who reads which part of the audit trail (SPEC §14), and the trail's filters.

Platform managers read it all. An equipment manager reads what concerns the equipment
they manage: its reservations, its policy, rates and status, the qualifications on it,
and the closures that close it: those of the equipment itself, of its site, and those of
every site. Project entries concern no equipment, so only platform managers read them.
Everyone else is refused (403).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.errors import DomainError, words
from core.ids import is_id
from core.models import AuditEntry, AuditObject
from core.roles import is_platform_manager
from core.timezones import TimeError, parse_local

from .models import Equipment
from .selectors import manages_any


def may_read_audit(user: Any, *, manages_equipment: bool) -> bool:
    """Platform managers and equipment managers (each their own part)."""
    return is_platform_manager(user) or bool(
        manages_equipment and user is not None and user.is_authenticated
    )


def may_read_audit_now(user: Any) -> bool:
    """`may_read_audit` for this user, asking the database only when it must."""
    if is_platform_manager(user):
        return True
    return may_read_audit(user, manages_equipment=manages_any(user))


def audit_visible_to(user: Any) -> QuerySet[AuditEntry]:
    """The entries the user may read (none for who may not read the trail at all)."""
    entries = AuditEntry.objects.select_related("by")
    if is_platform_manager(user):
        return entries
    if not getattr(user, "pk", None):
        return entries.none()
    mine = Equipment.objects.filter(managers=user)
    closes_mine = Q(object_type=AuditObject.CLOSURE, equipment_id__isnull=True) & (
        Q(site_id__isnull=True) | Q(site_id__in=mine.values("site_id"))
    )
    return entries.filter(Q(equipment_id__in=mine.values("pk")) | closes_mine)


@dataclass(frozen=True)
class AuditFilters:
    """The trail's filters, already read: object type and id, author, window [start, end)."""

    object_type: str | None = None
    object_id: int | None = None
    user_id: int | None = None
    start: datetime | None = None
    end: datetime | None = None


def audit_filtered(entries: QuerySet[AuditEntry], filters: AuditFilters) -> QuerySet[AuditEntry]:
    if filters.object_type:
        entries = entries.filter(object_type=filters.object_type)
    if filters.object_id is not None:
        entries = entries.filter(object_id=filters.object_id)
    if filters.user_id is not None:
        entries = entries.filter(by_id=filters.user_id)
    if filters.start is not None:
        entries = entries.filter(at__gte=filters.start)
    if filters.end is not None:
        entries = entries.filter(at__lt=filters.end)
    return entries.order_by("-at", "-id")


def read_filters(params: Any, *, reader: Any) -> AuditFilters:
    """Read the filters of a query string: `object`, `object_id`, `user` (an id or `me`),
    `start` and `end` (ISO 8601; a time without offset is Paris time).

    A bad value raises DomainError: `bad_filter` (with `fields`) for an unknown object
    type or a non-numeric id, `invalid` or `ambiguous_time` for a time.
    """
    object_type = params.get("object") or None
    if object_type is not None and object_type not in AuditObject.values:
        unknown = _("Unknown kind.")
        raise DomainError("bad_filter", unknown, fields={"object": [unknown]})
    numbers: dict[str, int | None] = {}
    for name in ("object_id", "user"):
        text = params.get(name) or None
        if text is None:
            numbers[name] = None
        elif name == "user" and text == "me":
            numbers[name] = reader.pk
        elif is_id(text):
            numbers[name] = int(text)
        else:
            raise DomainError("bad_filter", fields={name: [words("bad_filter")]})
    instants: dict[str, datetime | None] = {}
    for name in ("start", "end"):
        text = params.get(name) or None
        try:
            instants[name] = parse_local(text) if text is not None else None
        except TimeError as error:
            detail = words("invalid") if error.unreadable else error.message
            raise DomainError(error.code, detail, fields={name: [error.message]}) from None
    return AuditFilters(
        object_type=object_type,
        object_id=numbers["object_id"],
        user_id=numbers["user"],
        start=instants["start"],
        end=instants["end"],
    )
