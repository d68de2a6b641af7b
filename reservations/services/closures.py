"""Closures: equipment, a site or every site unavailable over a period.

A closure created over live reservations displaces them in the same transaction.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import audit
from core.errors import words
from core.models import AuditEntry, AuditObject
from equipment.models import Equipment, Site
from reservations import rules
from reservations.exceptions import BookingError
from reservations.models import LIVE_STATUSES, Closure, Reservation

from .access import can_manage_closure
from .announce import closures_did, reservations_did
from .records import displace
from .transactions import run_in_transaction


@dataclass(frozen=True)
class ClosureSpec:
    """One closure to create: its period, reason, kind and where it came from."""

    start: datetime
    end: datetime
    reason: str
    kind: str = Closure.Kind.OTHER
    source: str = ""


def _problem(spec: ClosureSpec) -> BookingError | None:
    shape = rules.check_shape(spec.start, spec.end)
    if shape:
        return BookingError(shape.code, shape.message)
    if not spec.reason.strip():
        return BookingError("invalid", fields={"reason": [words("required")]})
    if spec.kind not in Closure.Kind.values:
        return BookingError("invalid", fields={"kind": [_("Unknown kind.")]})
    return None


def _covered_by(
    closures: Sequence[Closure], rows: Sequence[tuple[int, datetime, datetime]]
) -> dict[int, set[int]]:
    """For each closure index, the ids of the reservations it covers first (in start order).

    Closures are sorted by start with a running maximum of their ends, so that each
    reservation only looks at the closures that may overlap it.
    """
    order = sorted(range(len(closures)), key=lambda k: closures[k].start)
    starts = [closures[k].start for k in order]
    reach: list[datetime] = []
    for k in order:
        reach.append(max(reach[-1], closures[k].end) if reach else closures[k].end)
    covered: dict[int, set[int]] = defaultdict(set)
    for pk, r_start, r_end in rows:
        first = None
        position = bisect_left(starts, r_end) - 1
        while position >= 0 and reach[position] > r_start:
            k = order[position]
            if closures[k].end > r_start:
                first = k
            position -= 1
        if first is not None:
            covered[first].add(pk)
    return covered


CLOSURE_FIELDS = ("start", "end", "reason", "kind", "source")


def _closure_entry(closure: Closure, action: str, *, by: Any, at: datetime) -> AuditEntry:
    """A closure created (its fields from nothing) or deleted (from them to nothing)."""
    values = {name: getattr(closure, name) for name in CLOSURE_FIELDS}
    return audit.entry(
        object_type=AuditObject.CLOSURE,
        object_id=closure.pk,
        action=action,
        at=at,
        by=by,
        changes=audit.diff({}, values) if action == "create" else audit.diff(values, {}),
        reason=closure.reason,
        equipment_id=closure.equipment_id,
        site_id=closure.site_id,
    )


def closures_create(
    *,
    user: Any,
    specs: Sequence[ClosureSpec],
    now: datetime,
    equipment: Equipment | None = None,
    site: Site | None = None,
) -> tuple[list[Closure], list[Reservation]]:
    """Close equipment, a site or (neither given) every site over several periods at once.

    One transaction and a fixed number of queries whatever the number of closures (an
    .ics import brings thousands): the scope is locked once, the closures are inserted
    together, and the live reservations they cover are displaced. A bad period refuses
    the whole batch: the error carries `index`, its position in `specs`.
    """
    if equipment is not None and site is not None:
        raise BookingError("equipment_and_site")
    for index, spec in enumerate(specs):
        problem = _problem(spec)
        if problem is not None:
            problem.extra["index"] = index
            raise problem
    if not can_manage_closure(user, equipment=equipment, site=site):
        raise BookingError("permission_denied.close")
    if not specs:
        return [], []

    def work() -> tuple[list[Closure], list[Reservation]]:
        # Lock the closed equipment rows (in id order, as bookings do): a booking racing
        # these closures either commits first and is displaced below, or waits for the
        # lock and then sees them.
        closed = Equipment.objects.select_for_update().order_by("pk")
        covered = Reservation.objects.overlapping(
            min(spec.start for spec in specs), max(spec.end for spec in specs)
        ).filter(status__in=LIVE_STATUSES)
        if equipment is not None:
            closed = closed.filter(pk=equipment.pk)
            covered = covered.filter(equipment=equipment)
        elif site is not None:
            closed = closed.filter(site=site)
            covered = covered.filter(equipment__site=site)
        list(closed.values_list("pk", flat=True))
        creator = user if getattr(user, "pk", None) else None
        closures = Closure.objects.bulk_create(
            [
                Closure(
                    equipment=equipment,
                    site=site,
                    start=spec.start,
                    end=spec.end,
                    reason=spec.reason.strip(),
                    kind=spec.kind,
                    source=spec.source,
                    created_by=creator,
                )
                for spec in specs
            ]
        )
        audit.record([_closure_entry(c, "create", by=user, at=now) for c in closures])
        by_reason: dict[str, set[int]] = defaultdict(set)
        rows = list(covered.values_list("pk", "start", "end"))
        for index, ids in _covered_by(closures, rows).items():
            by_reason[closures[index].reason] |= ids
        groups = [
            (
                reason,
                displace(
                    ids,
                    by=user,
                    now=now,
                    reason=_("Displaced by a closure: %(reason)s") % {"reason": reason},
                ),
            )
            for reason, ids in by_reason.items()
        ]
        closures_did("created", closures, actor=user, now=now)
        for reason, group in groups:  # the people told read the closure's own reason
            reservations_did("closed", group, actor=user, now=now, reason=reason)
        return closures, [r for _reason, group in groups for r in group]

    return run_in_transaction(work)


def closure_create(
    *,
    user: Any,
    start: datetime,
    end: datetime,
    reason: str,
    now: datetime,
    equipment: Equipment | None = None,
    site: Site | None = None,
    kind: str = Closure.Kind.OTHER,
    source: str = "",
) -> tuple[Closure, list[Reservation]]:
    """Close equipment, a site or (neither given) every site; displace what it covers."""
    spec = ClosureSpec(start=start, end=end, reason=reason, kind=kind, source=source)
    problem = _problem(spec)
    if problem is not None:
        raise problem
    (closure,), displaced = closures_create(
        user=user, specs=[spec], now=now, equipment=equipment, site=site
    )
    return closure, displaced


def closure_delete(*, closure: Closure, user: Any, now: datetime | None = None) -> None:
    """Reopen: delete a closure (its audit entry keeps what it was)."""
    if not can_manage_closure(user, equipment=closure.equipment, site=closure.site):
        raise BookingError("permission_denied.reopen")
    with transaction.atomic():
        # The trail's clock; callers that predate it (admin, API) pass none.
        at = now or timezone.now()
        entry = _closure_entry(closure, "delete", by=user, at=at)
        gone = Closure(
            pk=closure.pk,
            equipment_id=closure.equipment_id,
            site_id=closure.site_id,
            start=closure.start,
            end=closure.end,
        )
        closure.delete()
        audit.record([entry])
        # What it covered opens again: the waitlist offers it (core.events).
        closures_did("deleted", [gone], actor=user, now=at)
