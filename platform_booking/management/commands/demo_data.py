"""Fill the database with the campus demo data (idempotent: safe to run again)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from platform_booking.demo import DEFAULT_PASSWORD, DEMO_LOGINS, load_demo_data

HELP = _(
    "Load realistic demo data (campus partners, three sites, about 25 equipment, "
    "projects, users and three months of reservations). Running it again creates "
    "nothing new."
)
PASSWORD_HELP = _("Password given to the demo users that are created (default: %(default)s).")


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # argparse needs real strings: translate the lazy help in the active language.
        self.help = str(HELP)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help=str(PASSWORD_HELP),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = options["password"]
        counts = load_demo_data(now=timezone.now(), password=password)
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(f"Demo data loaded: {summary}."))
        self.stdout.write(f"Log in as {', '.join(DEMO_LOGINS)} with the password {password!r}.")
