"""Reads of the inventory."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from core.roles import is_platform_manager

from .models import Equipment, Qualification


def equipment_list(
    *, site: int | None = None, category: int | None = None, q: str = ""
) -> QuerySet[Equipment]:
    """Return the inventory, filtered, with what listing it needs fetched up front."""
    qs = Equipment.objects.select_related("site", "category", "owner_partner").prefetch_related(
        "managers"
    )
    if site:
        qs = qs.filter(site_id=site)
    if category:
        qs = qs.filter(category_id=category)
    for word in q.split():
        qs = qs.filter(
            Q(code__icontains=word)
            | Q(name__icontains=word)
            | Q(description__icontains=word)
            | Q(room__icontains=word)
            | Q(category__name__icontains=word)
            | Q(site__name__icontains=word)
            | Q(site__city__icontains=word)
        )
    return qs


def is_equipment_manager(user: Any, equipment: Equipment) -> bool:
    """Whether the user is one of the equipment's own managers (a read for permissions)."""
    return bool(user.is_authenticated and equipment.managers.filter(pk=user.pk).exists())


def qualifications_visible_to(user: Any) -> QuerySet[Qualification]:
    """Platform managers see all; equipment managers theirs; everyone their own."""
    qs = Qualification.objects.select_related("user", "equipment")
    if is_platform_manager(user):
        return qs
    return qs.filter(Q(user=user) | Q(equipment__managers=user)).distinct()
