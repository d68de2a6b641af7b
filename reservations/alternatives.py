"""Slots to offer instead of a refused one: each is checked by the booking rules themselves.

A candidate is a booking the same user could make for the same project: the same
equipment at other times (the nearest earlier and later ones that day, the same time on
the nearest other days, then the rest of the week; never two overlapping slots), or
another equipment of the same category at the same site at the requested time. Each goes through
`rules.check_booking` with the facts a booking would gather (opening hours, closures,
notice, horizon, membership, qualification, teaching windows, quota, busy time), so an
alternative is never refused once chosen, and never displaces anyone.

Callers record the no-shows first (reservations.services.noshows.record_no_shows), as
every read does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from core.timezones import TimeError, local_tz, make_aware
from equipment.models import Equipment
from partners.models import Project

from . import rules
from .facts import gather, is_member, load_equipment
from .selectors import managed_equipment_ids

REACH = timedelta(days=7)  # how far from the requested time the same equipment is tried
SAME_EQUIPMENT = 3  # at most this many slots on the same equipment, the rest elsewhere


def suggest_alternatives(
    *,
    equipment: Equipment,
    start: datetime,
    end: datetime,
    now: datetime,
    user: Any,
    project: Project,
    kind: str | None = None,
    override_by: Any = None,
    exclude_id: int | None = None,
    limit: int = 5,
) -> list[dict[str, Any]]:
    """Up to `limit` bookable slots `{equipment, start, end}`, nearest first, the same
    equipment before the others. `exclude_id` is the reservation being moved.

    `override_by` is the manager who overrides the rules (SPEC §3): they are lifted only on
    the equipment that manager manages, as a booking would lift them.
    """
    (found,) = _suggest(
        equipment=equipment,
        slots=[(start, end)],
        now=now,
        user=user,
        project=project,
        kind=kind,
        override_by=override_by,
        exclude_id=exclude_id,
        limit=limit,
    )
    return found


def suggest_alternatives_many(
    reservations: Sequence[Any], *, now: datetime, limit: int = 5
) -> dict[int, list[dict[str, Any]]]:
    """The alternatives of each of these (displaced) reservations for its own booker, by id.

    Reservations of one equipment, booker, project and priority share one gathering of the
    facts, so a closure displacing a whole term of bookings costs the queries of one.
    """
    groups: dict[tuple[int, int, int, str], list[Any]] = defaultdict(list)
    for reservation in reservations:
        key = (
            reservation.equipment_id,
            reservation.booked_by_id,
            reservation.project_id,
            reservation.priority,
        )
        groups[key].append(reservation)
    result: dict[int, list[dict[str, Any]]] = {}
    for items in groups.values():
        first = items[0]
        found = _suggest(
            equipment=first.equipment,
            slots=[(r.start, r.end) for r in items],
            now=now,
            user=first.booked_by,
            project=first.project,
            kind=first.priority,
            limit=limit,
        )
        result.update({r.pk: options for r, options in zip(items, found, strict=True)})
    return result


def _suggest(
    *,
    equipment: Equipment,
    slots: list[tuple[datetime, datetime]],
    now: datetime,
    user: Any,
    project: Project,
    kind: str | None = None,
    override_by: Any = None,
    exclude_id: int | None = None,
    limit: int = 5,
) -> list[list[dict[str, Any]]]:
    """The alternatives of each slot, with the facts gathered once for all of them."""
    tz = local_tz()
    kind = kind or project.kind
    others = list(
        Equipment.objects.filter(category_id=equipment.category_id, site_id=equipment.site_id)
        .exclude(pk=equipment.pk)
        .order_by("code")
        .values_list("pk", flat=True)
    )
    items = load_equipment([equipment.pk, *others], user=user, project=project, lock=False)
    by_id = {item.pk: item for item in items}
    buffer = max(item.policy.buffer_minutes for item in items)
    facts = gather(
        equipment=items,
        project=project,
        span_start=min(start for start, _end in slots) - REACH,
        span_end=max(end for _start, end in slots) + REACH + timedelta(minutes=buffer),
        exclude_id=exclude_id,
        tz=tz,
    )
    member = is_member(project, user, items)
    overridable = managed_equipment_ids(override_by, list(by_id)) if override_by else set()
    results = []
    for start, end in slots:
        duration = end - start

        def bookable(item: Equipment, candidate: datetime, duration: timedelta = duration) -> bool:
            verdict = rules.check_booking(
                facts.for_request(
                    item=item,
                    policy=item.policy,
                    project=project,
                    kind=kind,
                    is_member=member,
                    start=candidate,
                    end=candidate + duration,
                    now=now,
                    tz=tz,
                )
            )
            remaining, _lifted = rules.apply_override(verdict.violations, item.pk in overridable)
            return not remaining and not verdict.displace

        found = _same_equipment_slots(by_id[equipment.pk], start, duration, tz, bookable)
        for pk in others:
            if len(found) >= limit:
                break
            if bookable(by_id[pk], start):
                found.append({"equipment": pk, "start": start, "end": end})
        results.append(_nearest(found, equipment.pk, start)[:limit])
    return results


def _nearest(found: list[dict[str, Any]], here: int, start: datetime) -> list[dict[str, Any]]:
    """The same equipment first, then the nearest to the requested start."""
    return sorted(found, key=lambda a: (a["equipment"] != here, abs(a["start"] - start)))


def _same_equipment_slots(
    here: Equipment,
    start: datetime,
    duration: timedelta,
    tz: Any,
    bookable: Callable[[Equipment, datetime], bool],
) -> list[dict[str, Any]]:
    """Up to SAME_EQUIPMENT bookable slots on the requested equipment: one later that day,
    one earlier that day and one on another day first, then the nearest others."""
    found: list[dict[str, Any]] = []

    def offer(candidate: datetime) -> bool:
        slot = (candidate, candidate + duration)
        # Really different choices: never two offered slots that overlap.
        if any(slot[0] < a["end"] and a["start"] < slot[1] for a in found):
            return False
        if not bookable(here, candidate):
            return False
        found.append({"equipment": here.pk, "start": slot[0], "end": slot[1]})
        return True

    later, earlier, other_days, rest = _same_equipment_times(here, start, tz)
    for group in (later, earlier, other_days):
        next((c for c in group if offer(c)), None)
    for candidate in (*later, *earlier, *other_days, *rest):
        if len(found) >= SAME_EQUIPMENT:
            break
        offer(candidate)
    return found[:SAME_EQUIPMENT]


def _same_equipment_times(
    item: Equipment, start: datetime, tz: Any
) -> tuple[list[datetime], list[datetime], list[datetime], list[datetime]]:
    """Starts to try on the requested equipment, nearest first, by kind: later the same
    day, earlier the same day (on the equipment's time grid), the requested time of day on
    the nearest other days (a week either way), and every other start of that week."""
    step = timedelta(minutes=item.policy.granularity_minutes)
    day = start.astimezone(tz).date()
    later: list[datetime] = []
    earlier: list[datetime] = []
    offset = step
    while offset <= timedelta(days=1):
        if (start + offset).astimezone(tz).date() == day:
            later.append(start + offset)
        if (start - offset).astimezone(tz).date() == day:
            earlier.append(start - offset)
        offset += step
    wall = start.astimezone(tz).replace(tzinfo=None)
    other_days: list[datetime] = []
    for days in range(1, REACH.days + 1):
        for sign in (1, -1):
            try:
                other_days.append(make_aware(wall + timedelta(days=sign * days), tz))
            except TimeError:  # that wall time does not exist or is ambiguous that day
                continue
    rest: list[datetime] = []
    offset = timedelta(days=1)
    while offset <= REACH:
        rest += [start + offset, start - offset]
        offset += step
    return later, earlier, other_days, rest
