"""Notification jobs that are not answers to a change: the daily reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

from core.timezones import day_bounds, local_tz
from reservations.models import Reservation, ReservationStatus

from .emails import build_messages, send_now


def send_reminders(*, now: datetime) -> tuple[int, list[Reservation]]:
    """Email each booker the confirmed reservations of tomorrow (the local day after `now`).

    Returns the number of emails sent and the reservations they remind of.
    """

    tomorrow = now.astimezone(local_tz()).date() + timedelta(days=1)
    start, end = day_bounds(tomorrow)
    items = list(
        Reservation.objects.filter(
            status=ReservationStatus.CONFIRMED, start__gte=start, start__lt=end
        )
        .select_related("booked_by__preference", "equipment__site", "project__partner")
        .order_by("start", "pk")
    )
    return send_now(build_messages("reminder", items, now=now)), items
