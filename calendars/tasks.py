"""Repair of the django-scheduler mirror, run by the worker on a schedule.

The worker syncs the mirror after each commit (`calendars.sync.sync_mirror`); a sync that
failed there, or could not be enqueued, is only logged. This job syncs again what changed
since its previous run (with a margin), and drops the events of closures that are gone,
so the calendars catch up by themselves.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django_tasks import task
from schedule.models import EventRelation

from reservations.models import Closure, Reservation

from .sync import CLOSURE, SyncCounts, rebuild_all, sync_closures, sync_reservations

MARGIN = timedelta(minutes=10)  # changes committed while the previous run was reading
BATCH = 2000


def repair_mirror(*, since: datetime | None) -> SyncCounts:
    """Sync the reservations and closures changed since `since` (all of them when None)."""
    if since is None:
        return rebuild_all()
    since -= MARGIN
    counts = SyncCounts()
    changed = list(
        Reservation.objects.filter(Q(updated_at__gte=since) | Q(status_changed_at__gte=since))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for first in range(0, len(changed), BATCH):
        counts += sync_reservations(changed[first : first + BATCH])
    closures = set(Closure.objects.filter(created_at__gte=since).values_list("pk", flat=True))
    linked = EventRelation.objects.filter(
        content_type=ContentType.objects.get_for_model(Closure), distinction=CLOSURE
    ).values_list("object_id", flat=True)
    existing = set(Closure.objects.values_list("pk", flat=True))
    closures |= set(linked) - existing  # deleted closures whose events stayed
    counts += sync_closures(closures)
    return counts


@task()
def repair_calendars(since: str | None = None) -> dict[str, int]:
    """Repair the calendars from `since` (an ISO datetime; None rebuilds them all)."""
    return asdict(repair_mirror(since=datetime.fromisoformat(since) if since else None))
