"""Reads of reservations and equipment availability, with the visibility rules of SPEC §6."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from core.roles import is_platform_manager
from core.timezones import local_tz
from equipment.models import Equipment
from equipment.policy import effective_policy
from partners.selectors import project_ids_with_full_view

from .models import LIVE_STATUSES, Reservation


def full_view_filter(user: Any) -> Q:
    """Reservations a user other than a platform manager sees in full (SPEC §6): their
    own bookings, their projects' (member, leader, partner referent), and those of the
    equipment they manage. The one rule; calendars.reader.Reader mirrors it in Python."""
    managers = Equipment.managers.through
    return (
        Q(booked_by_id=user.pk)
        | Q(project_id__in=project_ids_with_full_view(user))
        | Q(Exists(managers.objects.filter(equipment_id=OuterRef("equipment_id"), user_id=user.pk)))
    )


def reservations_visible_to(user: Any) -> QuerySet[Reservation]:
    """Reservations the user may see in full (SPEC §6); others are only busy time."""
    qs = Reservation.objects.select_related("project", "equipment")
    if is_platform_manager(user):
        return qs
    return qs.filter(full_view_filter(user))


def suggest_alternatives(
    *,
    equipment: Any,
    start: datetime,
    end: datetime,
    now: datetime,
    kind: str = "research",
    limit: int = 5,
) -> list[dict[str, Any]]:
    """Up to `limit` free slots: the same equipment at the nearest free times (same
    duration, within opening hours, a week either way), then equipment of the same
    category at the same site at the requested time."""
    from core.french_calendars import school_holidays
    from equipment.models import Equipment
    from reservations import rules
    from reservations.models import Closure

    tz = local_tz()
    policy = equipment.policy
    duration = end - start
    step = timedelta(minutes=policy.granularity_minutes)
    reach = timedelta(days=7)
    window = rules.Interval(start - reach, end + reach + timedelta(minutes=policy.buffer_minutes))
    busy = [
        rules.Interval(s, b)
        for s, b in Reservation.objects.filter(
            equipment=equipment,
            status__in=LIVE_STATUSES,
            start__lt=window.end,
            blocked_until__gt=window.start,
        ).values_list("start", "blocked_until")
    ]
    busy += [
        rules.Interval(s, e)
        for s, e in Closure.objects.filter(
            Q(equipment=equipment)
            | Q(site_id=equipment.site_id)
            | Q(equipment__isnull=True, site__isnull=True),
            start__lt=window.end,
            end__gt=window.start,
        ).values_list("start", "end")
    ]
    opening = rules.opening_intervals(policy, window.start, window.end, tz)
    earliest = now + timedelta(minutes=policy.min_notice_minutes)
    latest = rules.days_after(now, policy.horizon_days.get(kind, 0), tz)
    buffer = timedelta(minutes=policy.buffer_minutes)
    released_until = rules.days_after(now, policy.teaching_release_days, tz)
    # Teaching windows still kept for teachers refuse the other kinds: never suggest them.
    kept: list[rules.Interval] = []
    if kind != rules.PEDAGOGICAL:
        holidays = school_holidays(
            window.start.astimezone(tz).date(), window.end.astimezone(tz).date()
        )
        kept = [
            w
            for w in rules.teaching_intervals(policy, window.start, window.end, tz, holidays)
            if w.start > released_until
        ]

    def free(candidate: datetime) -> bool:
        slot = rules.Interval(candidate, candidate + duration)
        held = rules.Interval(candidate, candidate + duration + buffer)
        return (
            earliest <= candidate <= latest
            and any(o.start <= slot.start and slot.end <= o.end for o in opening)
            and not any(b.overlaps(held) for b in busy)
            and not any(w.overlaps(slot) for w in kept)
        )

    found: list[dict[str, Any]] = []
    offset = step
    while offset <= reach and len(found) < 3:
        for candidate in (start + offset, start - offset):
            if len(found) < 3 and free(candidate):
                found.append(
                    {"equipment": equipment.pk, "start": candidate, "end": candidate + duration}
                )
        offset += step
    # Other equipment of the same category at the same site, bookable at the requested
    # time: the same test as the equipment list's free filter.
    same_kind = Equipment.objects.filter(
        category_id=equipment.category_id, site_id=equipment.site_id
    ).exclude(pk=equipment.pk)
    others = equipment_free_between(same_kind, start, end).order_by("code")
    found += [
        {"equipment": pk, "start": start, "end": end}
        for pk in others.values_list("pk", flat=True)[: limit - len(found)]
    ]
    found.sort(key=lambda a: (a["equipment"] != equipment.pk, abs(a["start"] - start)))
    return found[:limit]


def equipment_free_between(qs: QuerySet[Any], start: datetime, end: datetime) -> QuerySet[Any]:
    """Equipment that could be booked over [start, end): active, open, not closed, not busy."""
    from equipment.models import Equipment
    from reservations import rules
    from reservations.models import Closure

    tz = local_tz()
    closed_sites = Closure.objects.filter(
        equipment__isnull=True, start__lt=end, end__gt=start
    ).values_list("site_id", flat=True)
    if None in set(closed_sites):
        return qs.none()
    candidates = (
        qs.filter(status=Equipment.Status.ACTIVE)
        .exclude(site_id__in=[s for s in closed_sites if s is not None])
        .exclude(closures__start__lt=end, closures__end__gt=start)
        .exclude(
            reservations__status__in=LIVE_STATUSES,
            reservations__start__lt=end,
            reservations__blocked_until__gt=start,
        )
    )
    open_ids = [
        pk
        for pk, overrides in candidates.values_list("pk", "policy_overrides")
        if any(
            o.start <= start and end <= o.end
            for o in rules.opening_intervals(effective_policy(overrides), start, end, tz)
        )
    ]
    return qs.filter(pk__in=open_ids)
