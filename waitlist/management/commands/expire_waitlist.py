"""Expire the waiting entries whose start is within their equipment's minimum notice."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext_lazy, ngettext

from waitlist.services import waitlist_expire

HELP = gettext_lazy(
    "Expire the waitlist entries whose start is within their equipment's minimum notice."
)


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(HELP)  # argparse needs a real string

    def handle(self, *args: Any, **options: Any) -> None:
        count = waitlist_expire(now=timezone.now())
        self.stdout.write(
            ngettext("%(n)d waiting request expired.", "%(n)d waiting requests expired.", count)
            % {"n": count}
        )
