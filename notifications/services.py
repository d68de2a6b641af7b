"""Notification jobs that are not answers to a change: the daily reminders."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from django.db import transaction

from core.timezones import day_bounds, local_tz
from reservations.models import Reservation, ReservationStatus

from .delivery import deliver
from .models import Kind, Notification, Status, new_notification

CHUNK = 500  # ids handed to the delivery at once (it works through them 20 at a time)


def send_reminders(*, now: datetime, day: date | None = None) -> tuple[int, list[Reservation]]:
    """Remind each booker of their confirmed reservations of `day` (by default tomorrow, the
    local day after `now`) that have not started by `now`, once per booker and day however
    often it runs.

    The worker's daily job gives the day after its slot, so that a run the queue delayed
    past midnight still reminds of the day it was meant for.

    Returns the number of emails sent and the reservations they remind of.
    """
    if day is None:
        day = now.astimezone(local_tz()).date() + timedelta(days=1)
    start, end = day_bounds(day)
    items = list(
        Reservation.objects.filter(
            status=ReservationStatus.CONFIRMED, start__gte=max(start, now), start__lt=end
        ).order_by("start", "pk")
    )
    by_booker: dict[int, list[int]] = defaultdict(list)
    for reservation in items:
        by_booker[reservation.booked_by_id].append(reservation.pk)
    rows = []
    for user_id, ids in by_booker.items():
        row = new_notification(Kind.REMINDER, user_id, ids, event_at=now, reason="")
        row.key = f"reminder:{user_id}:{day.isoformat()}"
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
    while todo:  # delivered here, every one of them: the job runs in the worker already
        chunk, todo = todo[:CHUNK], todo[CHUNK:]
        sent += deliver(ids=chunk).sent
    return sent, items
