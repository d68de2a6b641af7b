"""Notification jobs that are not answers to a change: the daily reminders."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.db import transaction

from core.timezones import day_bounds, local_tz
from reservations.models import Reservation, ReservationStatus

from .delivery import deliver
from .models import Kind, Notification, Status, new_notification


def send_reminders(*, now: datetime) -> tuple[int, list[Reservation]]:
    """Remind each booker of their confirmed reservations of tomorrow (the local day after
    `now`), once per booker and day however often it runs.

    Returns the number of emails sent and the reservations they remind of.
    """
    tomorrow = now.astimezone(local_tz()).date() + timedelta(days=1)
    start, end = day_bounds(tomorrow)
    items = list(
        Reservation.objects.filter(
            status=ReservationStatus.CONFIRMED, start__gte=start, start__lt=end
        ).order_by("start", "pk")
    )
    by_booker: dict[int, list[int]] = defaultdict(list)
    for reservation in items:
        by_booker[reservation.booked_by_id].append(reservation.pk)
    rows = []
    for user_id, ids in by_booker.items():
        row = new_notification(Kind.REMINDER, user_id, ids, event_at=now, reason="")
        row.key = f"reminder:{user_id}:{tomorrow.isoformat()}"
        rows.append(row)
    keys = [row.key for row in rows]
    with transaction.atomic():
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
    todo = list(
        Notification.objects.filter(key__in=keys, status=Status.PENDING).values_list(
            "pk", flat=True
        )
    )
    sent = 0
    while todo:  # delivered here: the job runs in the worker already
        batch, todo = todo[:50], todo[50:]
        sent += deliver(ids=batch).sent
    return sent, items
