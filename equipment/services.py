"""Writes to the inventory. Every entry point (API, admin, commands) calls these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from schedule.models import Calendar

from core.events import equipment_sited

from .models import Category, Equipment, Qualification, Site
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
    managers: Iterable[Any] = (),
    rates: dict[str, Any] | None = None,
    policy: dict[str, Any] | None = None,
    **fields: Any,
) -> Equipment:
    """Create an equipment with its calendar; `policy` holds only the overridden settings."""
    unknown = set(fields) - set(EQUIPMENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown equipment fields: {sorted(unknown)}")
    equipment = Equipment(**fields)
    if rates:
        _apply_rates(equipment, rates)
    if policy:
        _apply_policy(equipment, policy)
    equipment.full_clean()
    equipment.save()
    equipment.managers.set(managers)
    ensure_calendar(equipment)
    equipment_sited.send(sender=Equipment, equipment=equipment, site_ids=[equipment.site_id])
    return equipment


@transaction.atomic
def equipment_update(
    *,
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
    previous_site = equipment.site_id
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


@transaction.atomic
def site_create(*, name: str, city: str, address: str = "") -> Site:
    site = Site(name=name, city=city, address=address)
    site.full_clean()
    site.save()
    return site


@transaction.atomic
def category_create(*, name: str, description: str = "") -> Category:
    category = Category(name=name, description=description)
    category.full_clean()
    category.save()
    return category


@transaction.atomic
def qualification_grant(
    *, user: Any, equipment: Equipment, valid_until: date, granted_by: Any = None
) -> Qualification:
    """Qualify a user on an equipment until a date (renewing an existing qualification)."""
    qualification, _created = Qualification.objects.update_or_create(
        user=user,
        equipment=equipment,
        defaults={"valid_until": valid_until, "granted_by": granted_by},
    )
    return qualification
