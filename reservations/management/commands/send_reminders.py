"""Email a reminder of tomorrow's reservations (run once a day)."""

from datetime import datetime, time, timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reservations.models import Reservation, ReservationStatus
from reservations.notifications import build_messages, send_now

HELP = gettext_lazy("Email a reminder of tomorrow's confirmed reservations to their bookers.")


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(HELP)  # argparse needs a real string

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
        self.stdout.write(
            _("%(sent)d reminder(s) for %(count)d reservation(s) on %(day)s.")
            % {"sent": sent, "count": len(items), "day": tomorrow.strftime("%d/%m/%Y")}
        )
