"""Reads of the waitlist: what a user may see (SPEC §6), positions, promotion order."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models import Case, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When

from core.roles import is_platform_manager
from partners.models import ProjectKind
from reservations.selectors import full_view_filter

from .models import EntryStatus, WaitlistEntry

# pedagogical > research > industrial: a smaller rank is tried first.
KIND_RANK = Case(
    When(priority=ProjectKind.PEDAGOGICAL, then=Value(0)),
    When(priority=ProjectKind.RESEARCH, then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
# The promotion order (SPEC §10): kind, then the displaced owners, then the oldest.
PROMOTION_ORDER = ("kind_rank", "-displaced", "created_at", "id")


def entries_visible_to(user: Any) -> QuerySet[WaitlistEntry]:
    """The entries a user sees in full: as reservations (reservations.selectors)."""
    qs = WaitlistEntry.objects.all()
    if is_platform_manager(user):
        return qs
    # Same field names as a reservation's: the one rule serves both.
    return qs.filter(full_view_filter(user))


class _Count(Subquery):
    """The number of rows of a subquery, as one scalar column."""

    template = "(SELECT COUNT(*) FROM (%(subquery)s) _waitlist_ahead)"
    output_field = IntegerField()


def with_position(qs: QuerySet[WaitlistEntry]) -> QuerySet[WaitlistEntry]:
    """Annotate `position`: for a waiting entry, its rank (from 1) among the waiting entries
    of its equipment that overlap it, in promotion order; None for the others.

    One correlated subquery in the same SELECT: a page of entries costs one query.
    """
    outer_rank = OuterRef("kind_rank")
    ahead = (
        WaitlistEntry.objects.filter(
            status=EntryStatus.WAITING,
            equipment_id=OuterRef("equipment_id"),
            start__lt=OuterRef("end"),
            end__gt=OuterRef("start"),
        )
        .annotate(kind_rank=KIND_RANK)
        .filter(
            Q(kind_rank__lt=outer_rank)
            | Q(kind_rank=outer_rank, displaced__gt=OuterRef("displaced"))
            | Q(
                kind_rank=outer_rank,
                displaced=OuterRef("displaced"),
                created_at__lt=OuterRef("created_at"),
            )
            | Q(
                kind_rank=outer_rank,
                displaced=OuterRef("displaced"),
                created_at=OuterRef("created_at"),
                id__lte=OuterRef("id"),
            )
        )
        .values("id")
    )
    return qs.annotate(kind_rank=KIND_RANK).annotate(
        position=Case(
            When(status=EntryStatus.WAITING, then=_Count(ahead)),
            default=None,
            output_field=IntegerField(),
        )
    )


def waiting(where: Q) -> QuerySet[WaitlistEntry]:
    """The waiting entries matching `where`, in promotion order."""
    return (
        WaitlistEntry.objects.filter(where, status=EntryStatus.WAITING)
        .annotate(kind_rank=KIND_RANK)
        .order_by(*PROMOTION_ORDER)
    )


def waiting_count(user_id: int) -> int:
    return WaitlistEntry.objects.filter(booked_by_id=user_id, status=EntryStatus.WAITING).count()


def queued_for_displaced(reservation_ids: Iterable[int]) -> set[int]:
    """Of these reservations, those whose owner was queued for their slot when displaced
    (the displacement email says so)."""
    ids = list(reservation_ids)
    if not ids:
        return set()
    return set(
        WaitlistEntry.objects.filter(displaced_reservation_id__in=ids)
        .exclude(displaced_reservation_id=None)
        .values_list("displaced_reservation_id", flat=True)
    )
