"""Who sees a plan (SPEC §6, §11): platform managers, and the teachers of every project
it names. To anyone else a plan does not exist (404)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from core.roles import is_platform_manager
from partners.models import Project, ProjectKind

from .models import Plan


def plans_visible_to(user: Any) -> QuerySet[Plan]:
    if is_platform_manager(user):
        return Plan.objects.all()
    if not getattr(user, "is_authenticated", False):
        return Plan.objects.none()
    foreign = Project.objects.exclude(Q(leader=user) | Q(members=user)).values("pk")
    with_foreign = Plan.objects.filter(requests__project__in=foreign).values("pk")
    return Plan.objects.exclude(pk__in=with_foreign).filter(
        pk__in=Plan.objects.filter(
            Q(created_by=user)
            | Q(requests__project__leader=user)
            | Q(requests__project__members=user)
        ).values("pk")
    )


def may_use_planner(user: Any) -> bool:
    """Platform managers, and teachers: leaders or members of a pedagogical project."""
    if is_platform_manager(user):
        return True
    if not getattr(user, "is_authenticated", False):
        return False
    return (
        Project.objects.filter(kind=ProjectKind.PEDAGOGICAL)
        .filter(Q(leader=user) | Q(members=user))
        .exists()
    )
