"""Email a reminder of tomorrow's reservations (run once a day)."""

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy, ngettext

from core.timezones import local_tz
from notifications.services import send_reminders

HELP = gettext_lazy("Email a reminder of tomorrow's confirmed reservations to their bookers.")


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(HELP)  # argparse needs a real string

    def handle(self, *args: Any, **options: Any) -> None:
        now = timezone.now()
        sent, items = send_reminders(now=now)
        tomorrow = now.astimezone(local_tz()).date() + timedelta(days=1)
        day = date_format(tomorrow, "SHORT_DATE_FORMAT")
        emails = ngettext("%(sent)d reminder", "%(sent)d reminders", sent) % {"sent": sent}
        self.stdout.write(
            ngettext(
                "%(emails)s for %(count)d reservation on %(day)s.",
                "%(emails)s for %(count)d reservations on %(day)s.",
                len(items),
            )
            % {"emails": emails, "count": len(items), "day": day}
        )
