"""Mirror reservations and closures into each equipment's django-scheduler calendar (SPEC §4).

The reservation and closure tables stay the truth: a sync reads them and makes the
calendars match, so it is idempotent and may be run again at any time (`sync_calendars`
rebuilds everything). Each mirrored object has one `schedule.Event` per calendar it shows
in, linked back by an `EventRelation` (distinction `reservation` or `closure`, object id
of the row): a reservation shows in its equipment's calendar while pending, confirmed or
completed; a closure shows in the calendar of every equipment it closes.

Events are plain, non-recurring events stored in Europe/Paris (django-scheduler computes
recurrences in the query's time zone, and we never give it a rule). Their titles say only
when and of which priority the equipment is busy, as anyone logged in may know (SPEC §6);
the details stay behind the reservation's own visibility rules.

A batch costs a fixed number of queries whatever its size (bulk inserts, updates and
deletes). `sync_after_commit` gathers the ids of one transaction and, after the commit,
has the worker sync them once (`sync_mirror`): a failed sync is logged and
swallowed, never turning a committed booking into an error (the calendars are a view; the
worker's repair job and `sync_calendars` repair them).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task
from schedule.models import Event, EventRelation

from core.tasks import enqueue_hint
from core.timezones import local_tz
from equipment.models import Equipment
from partners.models import ProjectKind
from reservations.models import Closure, Reservation, ReservationStatus

log = logging.getLogger(__name__)

RESERVATION = "reservation"
CLOSURE = "closure"
SHOWN_STATUSES = (
    ReservationStatus.PENDING,
    ReservationStatus.CONFIRMED,
    ReservationStatus.COMPLETED,
)
COLOURS = {
    "pedagogical": "#2e7d32",
    "research": "#1565c0",
    "industrial": "#6a1b9a",
    CLOSURE: "#616161",
}
BATCH = 2000  # ids per batch in a full rebuild: bounded memory and query parameters


@dataclass
class SyncCounts:
    created: int = 0
    updated: int = 0
    deleted: int = 0

    def __iadd__(self, other: SyncCounts) -> SyncCounts:
        self.created += other.created
        self.updated += other.updated
        self.deleted += other.deleted
        return self


@dataclass(frozen=True)
class _Wanted:
    start: datetime
    end: datetime
    title: str
    description: str
    colour: str


def _reservation_title(status: str, priority: str) -> str:
    """Busy time and its priority: what anyone logged in may know of a reservation."""
    kind = ProjectKind(priority).label if priority in ProjectKind.values else priority
    if status == ReservationStatus.PENDING:
        return _("Requested – %(kind)s") % {"kind": kind}
    return _("Reserved – %(kind)s") % {"kind": kind}


def _apply(
    distinction: str,
    model: type[Any],
    ids: set[int],
    wanted: dict[tuple[int, int], _Wanted],
) -> SyncCounts:
    """Make the events of `ids` (one per (object id, calendar id) key) match `wanted`."""
    counts = SyncCounts()
    if not ids:
        return counts
    content_type = ContentType.objects.get_for_model(model)
    existing = EventRelation.objects.filter(
        content_type=content_type, distinction=distinction, object_id__in=ids
    ).select_related("event")
    by_key: dict[tuple[int, int], Event] = {}
    doomed: list[int] = []
    for relation in existing:
        key = (relation.object_id, relation.event.calendar_id)
        if key in wanted and key not in by_key:
            by_key[key] = relation.event
        else:
            doomed.append(relation.event_id)

    tz = local_tz()
    now = timezone.now()
    changed: list[Event] = []
    for key, event in by_key.items():
        want = wanted[key]
        current = (event.start, event.end, event.title, event.description, event.color_event)
        if current != (want.start, want.end, want.title, want.description, want.colour):
            event.start = want.start.astimezone(tz)
            event.end = want.end.astimezone(tz)
            event.title = want.title
            event.description = want.description
            event.color_event = want.colour
            event.updated_on = now
            changed.append(event)
    if changed:
        Event.objects.bulk_update(
            changed, ["start", "end", "title", "description", "color_event", "updated_on"]
        )
    counts.updated = len(changed)

    missing = [key for key in wanted if key not in by_key]
    if missing:
        events = Event.objects.bulk_create(
            [
                Event(
                    calendar_id=calendar_id,
                    start=wanted[(object_id, calendar_id)].start.astimezone(tz),
                    end=wanted[(object_id, calendar_id)].end.astimezone(tz),
                    title=wanted[(object_id, calendar_id)].title,
                    description=wanted[(object_id, calendar_id)].description,
                    color_event=wanted[(object_id, calendar_id)].colour,
                )
                for object_id, calendar_id in missing
            ]
        )
        EventRelation.objects.bulk_create(
            [
                EventRelation(
                    event=event,
                    content_type=content_type,
                    object_id=object_id,
                    distinction=distinction,
                )
                for (object_id, _calendar), event in zip(missing, events, strict=True)
            ]
        )
    counts.created = len(missing)

    if doomed:
        # Deleting the events deletes their relations (and any stored occurrence).
        Event.objects.filter(pk__in=doomed).delete()
    counts.deleted = len(doomed)
    return counts


def sync_reservations(ids: Iterable[int]) -> SyncCounts:
    """Make the calendars show these reservations as they are now (or not, once gone)."""
    ids = set(ids)
    if not ids:
        return SyncCounts()
    wanted: dict[tuple[int, int], _Wanted] = {}
    rows = Reservation.objects.filter(
        pk__in=ids, status__in=SHOWN_STATUSES, equipment__calendar__isnull=False
    ).values_list("pk", "equipment__calendar_id", "start", "end", "status", "priority")
    with translation.override(settings.LANGUAGE_CODE):
        for pk, calendar_id, start, end, status, priority in rows:
            wanted[(pk, calendar_id)] = _Wanted(
                start=start,
                end=end,
                title=_reservation_title(status, priority),
                description=f"{RESERVATION}:{pk} {status}",
                colour=COLOURS.get(priority, ""),
            )
    with transaction.atomic():
        return _apply(RESERVATION, Reservation, ids, wanted)


def sync_closures(ids: Iterable[int]) -> SyncCounts:
    """Make the calendars of the equipment each closure covers show it (or not, once gone)."""
    ids = set(ids)
    if not ids:
        return SyncCounts()
    rows = list(
        Closure.objects.filter(pk__in=ids).values_list(
            "pk", "equipment_id", "site_id", "start", "end", "reason", "kind"
        )
    )
    equipment_ids = {row[1] for row in rows if row[1] is not None}
    site_ids = {row[2] for row in rows if row[2] is not None}
    everywhere = any(row[1] is None and row[2] is None for row in rows)
    calendars_of: dict[int, int] = {}
    calendars_by_site: dict[int, list[int]] = defaultdict(list)
    if rows:
        scope = Q(pk__in=equipment_ids) | Q(site_id__in=site_ids)
        equipment = Equipment.objects.filter(calendar__isnull=False)
        if not everywhere:
            equipment = equipment.filter(scope)
        for pk, site_id, calendar_id in equipment.values_list("pk", "site_id", "calendar_id"):
            calendars_of[pk] = calendar_id
            calendars_by_site[site_id].append(calendar_id)
    wanted: dict[tuple[int, int], _Wanted] = {}
    for pk, equipment_id, site_id, start, end, reason, kind in rows:
        if equipment_id is not None:
            targets = [calendars_of[equipment_id]] if equipment_id in calendars_of else []
        elif site_id is not None:
            targets = calendars_by_site.get(site_id, [])
        else:
            targets = list(calendars_of.values())
        for calendar_id in targets:
            wanted[(pk, calendar_id)] = _Wanted(
                start=start,
                end=end,
                title=reason,
                description=f"{CLOSURE}:{pk} {kind}",
                colour=COLOURS[CLOSURE],
            )
    with transaction.atomic():
        return _apply(CLOSURE, Closure, ids, wanted)


# --- after commit ------------------------------------------------------------------------

_pending = threading.local()


def _pending_sets() -> tuple[set[int], set[int]]:
    if not hasattr(_pending, "reservations"):
        _pending.reservations = set()
        _pending.closures = set()
    return _pending.reservations, _pending.closures


def sync_after_commit(
    *, reservation_ids: Iterable[int] = (), closure_ids: Iterable[int] = ()
) -> None:
    """Have the worker sync these reservations and closures once the transaction commits.

    The ids of one transaction are gathered and handed over together by the first callback
    to run, so a transaction that creates 500 closures costs one batch, not 500. Ids
    left over by a rolled-back transaction are synced with the next commit: harmless, a
    sync only reads the truth. The request that booked pays one enqueue, not the sync's
    reads and writes (the mirror is read by no page: it may follow a moment later).
    """
    reservations, closures = _pending_sets()
    reservations.update(reservation_ids)
    closures.update(closure_ids)
    transaction.on_commit(_flush)


def _flush() -> None:
    reservations, closures = _pending_sets()
    if not reservations and not closures:
        return
    todo_reservations, todo_closures = sorted(reservations), sorted(closures)
    reservations.clear()
    closures.clear()
    try:
        enqueue_hint(sync_mirror, reservation_ids=todo_reservations, closure_ids=todo_closures)
    except Exception as error:
        # The booking is committed; the worker's repair job syncs what changed since its
        # last run, these rows included.
        log.warning(
            "could not enqueue the calendar sync of reservations %s and closures %s "
            "(%s: %s); the repair job will sync them",
            todo_reservations[:20],
            todo_closures[:20],
            type(error).__name__,
            error,
        )


@task()
def sync_mirror(reservation_ids: list[int], closure_ids: list[int]) -> None:
    """In the worker: sync these reservations and closures; a failure is logged, not raised."""
    try:
        sync_reservations(reservation_ids)
        sync_closures(closure_ids)
    except Exception:
        # The booking is committed; a calendar view must not turn it into an error.
        log.exception(
            "calendar sync failed for reservations %s and closures %s; run sync_calendars",
            sorted(reservation_ids)[:20],
            sorted(closure_ids)[:20],
        )


def rebuild_all() -> SyncCounts:
    """Sync every reservation and closure, and drop the events of rows that are gone."""
    counts = SyncCounts()
    shown = Reservation.objects.filter(status__in=SHOWN_STATUSES).values_list("pk", flat=True)
    for ids, sync in (
        (_linked(Reservation, RESERVATION) | set(shown), sync_reservations),
        (
            _linked(Closure, CLOSURE) | set(Closure.objects.values_list("pk", flat=True)),
            sync_closures,
        ),
    ):
        ordered = sorted(ids)
        for first in range(0, len(ordered), BATCH):
            counts += sync(ordered[first : first + BATCH])
    return counts


def _linked(model: type[Any], distinction: str) -> set[int]:
    content_type = ContentType.objects.get_for_model(model)
    return set(
        EventRelation.objects.filter(
            content_type=content_type, distinction=distinction
        ).values_list("object_id", flat=True)
    )
