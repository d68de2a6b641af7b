"""Email a reminder of tomorrow's reservations (run once a day)."""

from datetime import datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from reservations.models import Reservation, ReservationStatus
from reservations.notifications import build_messages, send_now


class Command(BaseCommand):
    help = "Email a reminder of tomorrow's confirmed reservations to their bookers."

    def handle(self, *args: Any, **options: Any) -> None:
        tz = timezone.get_current_timezone()
        tomorrow = timezone.localdate() + timedelta(days=1)
        start = datetime.combine(tomorrow, time(0), tzinfo=tz)
        end = datetime.combine(tomorrow + timedelta(days=1), time(0), tzinfo=tz)
        items = list(
            Reservation.objects.filter(
                status=ReservationStatus.CONFIRMED, start__gte=start, start__lt=end
            ).select_related("booked_by", "equipment")
        )
        sent = send_now(build_messages("reminder", items))
        self.stdout.write(f"{sent} reminder(s) for {len(items)} reservation(s) on {tomorrow}.")
