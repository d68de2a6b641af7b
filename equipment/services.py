"""Writes to the inventory. Every entry point (API, admin, commands) calls these.

Each write takes the `actor` and refuses (403, see equipment.permissions) what that
actor may not do; the platform's own jobs pass core.roles.SYSTEM.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePath
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify
from django.utils.translation import gettext as _
from schedule.models import Calendar

from core import audit
from core.errors import DomainError
from core.events import equipment_sited, training_requests_changed
from core.models import AuditObject
from core.roles import require

from .documents import check_document_file, extension_of, private_storage
from .models import Category, Equipment, EquipmentDocument, Qualification, Site, TrainingRequest
from .permissions import (
    may_cancel_training_request,
    may_change_managers,
    may_create_category,
    may_create_equipment,
    may_create_site,
    may_decide_training_request,
    may_edit_category,
    may_edit_equipment,
    may_edit_site,
    may_grant_qualification,
    may_manage_documents,
)
from .policy import PolicyError, merge_overrides

User = get_user_model()

EQUIPMENT_FIELDS = (
    "code",
    "name",
    "category",
    "site",
    "room",
    "description",
    "status",
    "owner_partner",
    "requires_qualification",
    "requires_check_in",
)
RATE_KINDS = ("teaching", "academic", "industrial")
SITE_FIELDS = ("name", "city", "address")
CATEGORY_FIELDS = ("name", "description")


# Rates are stored with 9 digits (7 before the decimal point): a sane cap below that.
MAX_RATE = Decimal("1000000")


def _apply_rates(equipment: Equipment, rates: Any) -> None:
    if not isinstance(rates, dict):
        raise ValidationError(
            {"rates": [_("Expected an object {teaching, academic, industrial}.")]}
        )
    errors = {}
    for kind, value in rates.items():
        if kind not in RATE_KINDS:
            errors[f"rates.{kind}"] = [_("Unknown rate category.")]
            continue
        try:
            amount = Decimal(str(value))
        except (InvalidOperation, ValueError):
            amount = Decimal("NaN")
        if (
            isinstance(value, bool)
            or value is None
            or not amount.is_finite()
            or not 0 <= amount < MAX_RATE
        ):
            errors[f"rates.{kind}"] = [
                _("Must be a number of euros per hour, from 0 to %(max)s.") % {"max": MAX_RATE}
            ]
            continue
        setattr(equipment, f"rate_{kind}", amount.quantize(Decimal("0.01")))
    if errors:
        raise ValidationError(errors)


def _apply_policy(equipment: Equipment, policy: Any) -> None:
    try:
        equipment.policy_overrides = merge_overrides(equipment.policy_overrides, policy)
    except PolicyError as exc:
        raise ValidationError(
            {f"policy.{key}" if key != "policy" else key: msgs for key, msgs in exc.errors.items()}
        ) from None


# What the audit trail follows of an equipment: its booking rules and prices (SPEC §14).
AUDITED_FIELDS = ("status", "requires_qualification", "requires_check_in")


def _audited(equipment: Equipment) -> dict[str, Any]:
    """The audited settings as `{name: value}`: `policy.<key>` holds the override (None for
    the platform default), `rates.<kind>` the hourly rate."""
    values: dict[str, Any] = {"site": equipment.site_id}
    values.update({name: getattr(equipment, name) for name in AUDITED_FIELDS})
    values.update({f"policy.{k}": v for k, v in (equipment.policy_overrides or {}).items()})
    values.update({f"rates.{k}": getattr(equipment, f"rate_{k}") for k in RATE_KINDS})
    return values


def _audit_equipment(
    equipment: Equipment, action: str, before: dict[str, Any], *, actor: Any
) -> None:
    audit.record_change(
        object_type=AuditObject.EQUIPMENT,
        object_id=equipment.pk,
        action=action,
        changes=audit.diff(before, _audited(equipment)),
        by=actor,
        equipment_id=equipment.pk,
        site_id=equipment.site_id,
    )


def ensure_calendar(equipment: Equipment) -> None:
    """Give the equipment its own django-scheduler calendar (slug derived from the code)."""
    if equipment.calendar_id:
        return
    calendar = Calendar.objects.create(
        name=f"{equipment.code} – {equipment.name}"[:200],
        slug=f"{slugify(equipment.code)[:180]}-{equipment.pk}",
    )
    equipment.calendar = calendar
    Equipment.objects.filter(pk=equipment.pk).update(calendar=calendar)


@transaction.atomic
def equipment_create(
    *,
    actor: Any,
    managers: Iterable[Any] = (),
    rates: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
    **fields: Any,
) -> Equipment:
    """Create an equipment with its calendar; `policy` holds only the overridden settings."""
    unknown = set(fields) - set(EQUIPMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown equipment fields: {sorted(unknown)}")
    require(may_create_equipment(actor))
    equipment = Equipment(**fields)
    if rates:
        _apply_rates(equipment, rates)
    if policy:
        _apply_policy(equipment, policy)
    equipment.full_clean()
    equipment.save()
    equipment.managers.set(managers)
    ensure_calendar(equipment)
    _audit_equipment(equipment, "create", {}, actor=actor)
    equipment_sited.send(sender=Equipment, equipment=equipment, site_ids=[equipment.site_id])
    return equipment


@transaction.atomic
def equipment_update(
    *,
    actor: Any,
    equipment: Equipment,
    managers: Iterable[Any] | None = None,
    rates: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
    policy_overrides: dict[str, Any] | None = None,
    **fields: Any,
) -> Equipment:
    """Change an equipment; `rates` and `policy` are partial updates merged into the current.

    `policy_overrides` instead replaces the whole set of overrides (the admin edits it so).
    """
    unknown = set(fields) - set(EQUIPMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown equipment fields: {sorted(unknown)}")
    equipment = Equipment.objects.select_for_update().get(pk=equipment.pk)
    require(may_edit_equipment(actor, equipment))
    if managers is not None:
        require(may_change_managers(actor, equipment))
    previous_site = equipment.site_id
    before = _audited(equipment)
    for name, value in fields.items():
        setattr(equipment, name, value)
    if rates is not None:
        _apply_rates(equipment, rates)
    if policy_overrides is not None:
        equipment.policy_overrides = {}
        _apply_policy(equipment, policy_overrides)
    if policy is not None:
        _apply_policy(equipment, policy)
    equipment.full_clean()
    equipment.save()
    if managers is not None:
        equipment.managers.set(managers)
    ensure_calendar(equipment)
    _audit_equipment(equipment, "update", before, actor=actor)
    if equipment.site_id != previous_site:
        equipment_sited.send(
            sender=Equipment, equipment=equipment, site_ids=[previous_site, equipment.site_id]
        )
    if equipment.calendar is not None:
        label = f"{equipment.code} – {equipment.name}"[:200]
        if equipment.calendar.name != label:
            equipment.calendar.name = label
            equipment.calendar.save(update_fields=["name"])
    return equipment


def _update(instance: Site | Category, allowed: tuple[str, ...], fields: dict[str, Any]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise TypeError(f"unknown {type(instance).__name__.lower()} fields: {sorted(unknown)}")
    for name, value in fields.items():
        setattr(instance, name, value)
    instance.full_clean()
    instance.save()


@transaction.atomic
def site_create(*, actor: Any, name: str, city: str, address: str = "") -> Site:
    """Create a site (platform managers)."""
    require(may_create_site(actor))
    site = Site(name=name, city=city, address=address)
    site.full_clean()
    site.save()
    return site


@transaction.atomic
def site_update(*, actor: Any, site: Site, **fields: Any) -> Site:
    """Change a site's name, city or address (platform managers)."""
    require(may_edit_site(actor))
    _update(site, SITE_FIELDS, fields)
    return site


@transaction.atomic
def category_create(*, actor: Any, name: str, description: str = "") -> Category:
    """Create a category (platform managers)."""
    require(may_create_category(actor))
    category = Category(name=name, description=description)
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def category_update(*, actor: Any, category: Category, **fields: Any) -> Category:
    """Change a category's name or description (platform managers)."""
    require(may_edit_category(actor))
    _update(category, CATEGORY_FIELDS, fields)
    return category


def _audit_qualification(
    qualification: Qualification, action: str, changes: dict[str, Any], *, actor: Any
) -> None:
    audit.record_change(
        object_type=AuditObject.QUALIFICATION,
        object_id=qualification.pk,
        action=action,
        changes=changes,
        by=actor,
        equipment_id=qualification.equipment_id,
    )


@transaction.atomic
def qualification_grant(
    *, actor: Any, user: Any, equipment: Equipment, valid_until: date, granted_by: Any = None
) -> Qualification:
    """Qualify a user on an equipment until a date (renewing an existing qualification).

    `granted_by` defaults to the actor, unless the actor is the platform itself (SYSTEM,
    whose pk is None): then it stays as given. The trail records a grant, or a renewal
    when the date changes.
    """
    require(may_grant_qualification(actor, equipment))
    if granted_by is None and actor.pk is not None:
        granted_by = actor
    existing = (
        Qualification.objects.select_for_update()
        .filter(user=user, equipment=equipment)
        .order_by("pk")
        .first()
    )
    previous = existing.valid_until if existing is not None else None
    created = existing is None
    if existing is None:
        qualification = Qualification.objects.create(
            user=user, equipment=equipment, valid_until=valid_until, granted_by=granted_by
        )
    else:
        qualification = existing
        qualification.valid_until, qualification.granted_by = valid_until, granted_by
        qualification.save(update_fields=["valid_until", "granted_by"])
    if created:
        changes = {"user": [None, user.pk], "valid_until": [None, valid_until]}
        _audit_qualification(qualification, "grant", changes, actor=actor)
    elif previous != qualification.valid_until:
        changes = {"valid_until": [previous, qualification.valid_until]}
        _audit_qualification(qualification, "renew", changes, actor=actor)
    return qualification


@transaction.atomic
def qualification_revoke(*, actor: Any, qualification: Qualification) -> None:
    """Withdraw a qualification (by those who may grant it); the trail keeps who had it."""
    require(may_grant_qualification(actor, qualification.equipment))
    # What it is now, not what the caller read earlier (it may have been renewed since).
    qualification = Qualification.objects.select_for_update().get(pk=qualification.pk)
    changes = {
        "user": [qualification.user_id, None],
        "valid_until": [qualification.valid_until, None],
    }
    _audit_qualification(qualification, "revoke", changes, actor=actor)
    qualification.delete()


# --- documents (SPEC §13) ----------------------------------------------------------------


def _clean_filename(name: str) -> str:
    """The name given at upload, as shown and offered again at download: its last part
    only, without control characters, at most 255 characters with its extension kept."""
    name = PurePath((name or "").replace("\\", "/")).name
    name = "".join(c for c in name if c.isprintable()).strip() or "document"
    if len(name) > 255:
        extension = extension_of(name)[:20]
        name = name[: 255 - len(extension)] + extension
    return name


def _audit_document(document: EquipmentDocument, action: str, *, actor: Any) -> None:
    described = f"{document.title} ({document.original_filename})"
    before, after = (None, described) if action == "document_add" else (described, None)
    audit.record_change(
        object_type=AuditObject.EQUIPMENT,
        object_id=document.equipment_id,
        action=action,
        changes={"document": [before, after]},
        by=actor,
        equipment_id=document.equipment_id,
        site_id=document.equipment.site_id,
    )


@transaction.atomic
def document_add(
    *,
    actor: Any,
    equipment: Equipment,
    file: File,
    title: str,
    kind: str,
    now: datetime,
) -> EquipmentDocument:
    """Attach a document to an equipment (its managers): a PDF or an office file, checked by
    its extension and its content (equipment.documents), within
    settings.EQUIPMENT_DOCUMENT_MAX_BYTES.

    Refuses `permission_denied` (403), `file_too_large` (413), `unsupported_file_type`
    (400), and a ValidationError for the title or kind. The file is streamed to the private
    storage, never read whole into memory.
    """
    require(may_manage_documents(actor, equipment))
    filename = _clean_filename(file.name or "")
    content_type = check_document_file(file, filename)
    document = EquipmentDocument(
        equipment=equipment,
        title=(title or "").strip(),
        kind=kind,
        original_filename=filename,
        content_type=content_type,
        size=file.size,
        uploaded_by=audit.actor_of(actor),
        uploaded_at=now,
    )
    document.full_clean(exclude=["file"])
    document.file.save(filename, file, save=False)
    try:
        document.save()
        _audit_document(document, "document_add", actor=actor)
    except BaseException:
        # Nothing refers to the file: do not leave it behind.
        private_storage.delete(str(document.file.name))
        raise
    return document


@transaction.atomic
def document_delete(*, actor: Any, document: EquipmentDocument) -> None:
    """Remove a document (its equipment's managers); its file goes once the removal commits,
    so a rolled-back removal still has its file."""
    current = (
        EquipmentDocument.objects.select_for_update()
        .select_related("equipment")
        .filter(pk=document.pk)
        .first()
    )
    if current is None:
        raise DomainError("not_found")
    require(may_manage_documents(actor, current.equipment))
    name = str(current.file.name)
    _audit_document(current, "document_delete", actor=actor)
    current.delete()
    transaction.on_commit(lambda: private_storage.delete(name))


# --- training requests (SPEC §13) ---------------------------------------------------------


def _audit_training(
    request: TrainingRequest,
    action: str,
    changes: dict[str, Any],
    *,
    actor: Any,
    now: datetime,
    reason: str = "",
) -> None:
    audit.record(
        [
            audit.entry(
                object_type=AuditObject.TRAINING_REQUEST,
                object_id=request.pk,
                action=action,
                at=now,
                by=actor,
                changes=changes,
                reason=reason,
                equipment_id=request.equipment_id,
            )
        ]
    )


# The longest message or reason kept (the columns are text; this keeps them readable).
TRAINING_TEXT_MAX = 2000


def _check_length(name: str, text: str) -> None:
    if len(text) > TRAINING_TEXT_MAX:
        detail = _("At most %(n)d characters.") % {"n": TRAINING_TEXT_MAX}
        raise DomainError("invalid", detail, fields={name: [detail]})


def _announce(action: str, request: TrainingRequest, *, actor: Any, now: datetime) -> None:
    training_requests_changed.send(
        sender=TrainingRequest, action=action, requests=[request], actor=actor, now=now
    )


@transaction.atomic
def training_request_create(
    *, user: Any, equipment: Equipment, message: str = "", now: datetime
) -> TrainingRequest:
    """Ask to be trained on an equipment that requires a qualification.

    Refused (400) when the equipment requires none (`qualification_not_required`), when
    the user holds a qualification valid beyond today (`already_qualified`; one ending
    today may be renewed), and when a request of theirs already waits
    (`training_request_pending`, which a unique constraint also guarantees).
    """
    if not equipment.requires_qualification:
        raise DomainError("qualification_not_required")
    today = timezone.localdate(now)
    held = Qualification.objects.filter(
        user=user, equipment=equipment, valid_until__gt=today
    ).first()
    if held is not None:
        day = date_format(held.valid_until, "DATE_FORMAT")  # in the reader's language
        raise DomainError("already_qualified", params={"day": day})
    pending = TrainingRequest.objects.filter(
        user=user, equipment=equipment, status=TrainingRequest.Status.PENDING
    )
    if pending.exists():
        raise DomainError("training_request_pending")
    message = (message or "").strip()
    _check_length("message", message)
    request = TrainingRequest(user=user, equipment=equipment, message=message, created_at=now)
    try:
        # A request made at the same time by another tab passed the check above: the
        # constraint refuses the second, explained with the same code.
        with transaction.atomic():
            request.save()
    except IntegrityError:
        raise DomainError("training_request_pending") from None
    _audit_training(
        request,
        "request",
        {"status": [None, request.status], "user": [None, user.pk]},
        actor=user,
        now=now,
    )
    _announce("created", request, actor=user, now=now)
    return request


def _locked_pending(request: TrainingRequest) -> TrainingRequest:
    """The request as it is now, locked; refused unless it still waits."""
    current = (
        TrainingRequest.objects.select_for_update()
        .select_related("user", "equipment")
        .get(pk=request.pk)
    )
    if current.status != TrainingRequest.Status.PENDING:
        raise DomainError("training_request_decided")
    return current


@transaction.atomic
def training_request_accept(
    *, actor: Any, training_request: TrainingRequest, valid_until: date, now: datetime
) -> TrainingRequest:
    """Accept a pending request: the requester is qualified until `valid_until` (through
    `qualification_grant`, which audits the grant or renewal)."""
    if not may_decide_training_request(actor, training_request):
        raise DomainError("permission_denied.decide")
    request = _locked_pending(training_request)
    if valid_until < timezone.localdate(now):
        raise DomainError(
            "invalid.valid_until", fields={"valid_until": [str(_("The date is in the past."))]}
        )
    qualification_grant(
        actor=actor, user=request.user, equipment=request.equipment, valid_until=valid_until
    )
    request.status = TrainingRequest.Status.ACCEPTED
    request.valid_until = valid_until
    request.decided_by = audit.actor_of(actor)
    request.decided_at = now
    request.save(update_fields=["status", "valid_until", "decided_by", "decided_at"])
    changes = {"status": ["pending", request.status], "valid_until": [None, valid_until]}
    _audit_training(request, "accept", changes, actor=actor, now=now)
    _announce("accepted", request, actor=actor, now=now)
    return request


@transaction.atomic
def training_request_decline(
    *, actor: Any, training_request: TrainingRequest, reason: str, now: datetime
) -> TrainingRequest:
    """Decline a pending request; the requester is told the reason, which is required."""
    if not may_decide_training_request(actor, training_request):
        raise DomainError("permission_denied.decide")
    request = _locked_pending(training_request)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(
            "required.training_reason", fields={"reason": [str(_("This field is required."))]}
        )
    _check_length("reason", reason)
    request.status = TrainingRequest.Status.DECLINED
    request.reason = reason
    request.decided_by = audit.actor_of(actor)
    request.decided_at = now
    request.save(update_fields=["status", "reason", "decided_by", "decided_at"])
    changes = {"status": ["pending", request.status]}
    _audit_training(request, "decline", changes, actor=actor, now=now, reason=reason)
    _announce("declined", request, actor=actor, now=now)
    return request


@transaction.atomic
def training_request_cancel(
    *, actor: Any, training_request: TrainingRequest, now: datetime
) -> TrainingRequest:
    """Withdraw one's own pending request."""
    if not may_cancel_training_request(actor, training_request):
        raise DomainError("permission_denied.cancel_training")
    request = _locked_pending(training_request)
    request.status = TrainingRequest.Status.CANCELLED
    request.decided_at = now
    request.save(update_fields=["status", "decided_at"])
    _audit_training(
        request, "cancel", {"status": ["pending", request.status]}, actor=actor, now=now
    )
    _announce("cancelled", request, actor=actor, now=now)
    return request
