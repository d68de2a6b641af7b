"""Reads of the inventory."""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from core.roles import is_platform_manager

from .models import Equipment, EquipmentDocument, Qualification, TrainingRequest

# Letters that decomposition leaves whole but people type as two.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d"})
# What the catalogue's search reads: the equipment's words, its category's and its site's.
SEARCHED = ("code", "name", "description", "room", "category__name", "site__name", "site__city")


def search_key(text: str) -> str:
    """Fold text for searching: no accents, no case ("RHÉOMÈTRE" → "rheometre")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_LIGATURES))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _matching(qs: QuerySet[Equipment], words: list[str]) -> list[int]:
    """The ids of the equipment whose searched words hold every one of `words`.

    Matched in Python with one folding for both databases: SQLite's LIKE and PostgreSQL's
    ILIKE do not ignore accents, and PostgreSQL's unaccent() does not exist on SQLite. One
    query of a few text columns: the inventory is hundreds of rows, not millions.
    """
    found = []
    for pk, *texts in qs.values_list("pk", *SEARCHED).order_by():
        folded = search_key("\n".join(t or "" for t in texts))
        if all(word in folded for word in words):
            found.append(pk)
    return found


def equipment_list(
    *,
    site: int | None = None,
    category: int | None = None,
    q: str = "",
    usable_by: Any = None,
    on: date | None = None,
) -> QuerySet[Equipment]:
    """Return the inventory, filtered, with what listing it needs fetched up front.

    `q`: every word must appear in the code, name, description, room, category, site or
    city, accents and case ignored ("rheometre" finds "Rhéomètre"). `usable_by` (with the
    day `on`): only equipment that user is qualified for on that day, i.e. that needs no
    qualification or on which they hold one valid that day.
    """
    chosen = Equipment.objects.all()
    if site:
        chosen = chosen.filter(site_id=site)
    if category:
        chosen = chosen.filter(category_id=category)
    words = search_key(q).split()
    if words:
        chosen = chosen.filter(pk__in=_matching(chosen, words))
    qs = chosen.select_related("site", "category", "owner_partner").prefetch_related("managers")
    if usable_by is not None:
        if on is None:
            raise TypeError("equipment_list(usable_by=...) needs the day `on`")
        valid = Qualification.objects.filter(
            equipment=OuterRef("pk"), user=usable_by, valid_until__gte=on
        )
        qs = qs.filter(Q(requires_qualification=False) | Exists(valid))
    return qs


def manages_any(user: Any) -> bool:
    """Whether the user manages at least one equipment (one query; none for an anonymous
    visitor). The one answer to "is an equipment manager" for the manager pages, the
    audit trail and the account page; platform managers are asked about first by callers
    that let them in anyway (core.roles.is_platform_manager needs no query)."""
    return bool(
        getattr(user, "is_authenticated", False)
        and user.pk
        and Equipment.objects.filter(managers=user).exists()
    )


def is_equipment_manager(user: Any, equipment: Equipment) -> bool:
    """Whether the user is one of the equipment's own managers (a read for permissions)."""
    return bool(user.is_authenticated and equipment.managers.filter(pk=user.pk).exists())


def qualifications_visible_to(user: Any) -> QuerySet[Qualification]:
    """Platform managers see all; equipment managers theirs; everyone their own."""
    qs = Qualification.objects.select_related("user", "equipment")
    if is_platform_manager(user):
        return qs
    return qs.filter(Q(user=user) | Q(equipment__managers=user)).distinct()


def with_documents(equipment: QuerySet[Equipment]) -> QuerySet[Equipment]:
    """The equipment with their documents fetched in one more query, whatever their number
    (the API's `documents`, the equipment page)."""
    return equipment.prefetch_related(
        Prefetch("documents", queryset=EquipmentDocument.objects.order_by("title", "pk"))
    )


def document_of(*, equipment_id: int, document_id: int) -> EquipmentDocument | None:
    """One document of one equipment (None if there is no such pair)."""
    return (
        EquipmentDocument.objects.select_related("equipment")
        .filter(pk=document_id, equipment_id=equipment_id)
        .first()
    )


def training_requests_visible_to(user: Any) -> QuerySet[TrainingRequest]:
    """Platform managers see every training request; others their own and those on the
    equipment they manage (SPEC §6)."""
    qs = TrainingRequest.objects.select_related("user", "equipment", "decided_by")
    if is_platform_manager(user):
        return qs
    if not getattr(user, "pk", None):
        return qs.none()
    managed = Equipment.objects.filter(managers=user).values("pk")
    return qs.filter(Q(user=user) | Q(equipment__in=managed))


def training_requests_to_decide(user: Any) -> QuerySet[TrainingRequest]:
    """The pending requests on the equipment the user manages (all for platform managers):
    the managers' queue, oldest first."""
    qs = TrainingRequest.objects.select_related("user", "equipment").filter(
        status=TrainingRequest.Status.PENDING
    )
    if not is_platform_manager(user):
        if not getattr(user, "pk", None):
            return qs.none()
        qs = qs.filter(equipment__in=Equipment.objects.filter(managers=user).values("pk"))
    return qs.order_by("created_at", "pk")


def training_state(user: Any, equipment: Equipment, *, on: date) -> dict[str, Any]:
    """What the equipment page says of the user's training on it: their qualification (if
    any), their pending request, and their latest decided one."""
    qualification = Qualification.objects.filter(user=user, equipment=equipment).first()
    requests = list(TrainingRequest.objects.filter(user=user, equipment=equipment)[:5])
    pending = next((r for r in requests if r.status == TrainingRequest.Status.PENDING), None)
    qualified = qualification is not None and qualification.valid_until >= on
    return {
        "qualification": qualification,
        "qualified": qualified,
        # Who holds a qualification beyond today need not ask (see training_request_create).
        "may_request": pending is None
        and not (qualification is not None and qualification.valid_until > on),
        "pending": pending,
        "latest": next((r for r in requests if r.status != TrainingRequest.Status.PENDING), None),
    }
