"""Fill the database with the campus demo data (idempotent: safe to run again)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from platform_booking.demo import DEFAULT_PASSWORD, DEMO_LOGINS, load_demo_data

HELP = gettext_lazy(
    "Load realistic demo data (campus partners, three sites, about 25 equipment, "
    "projects, users and three months of reservations). Running it again creates "
    "nothing new."
)
PASSWORD_HELP = gettext_lazy(
    "Password given to the demo users that are created (default: %(default)s)."
)
# What each demo login shows of the platform (SPEC §1 and §6), printed next to it.
ROLES = {
    "admin": gettext_lazy("platform manager, superuser"),
    "manager": gettext_lazy("platform manager"),
    "gestionnaire": gettext_lazy("equipment manager (We Lab Orléans, Chartres-Dreux)"),
    "enseignant": gettext_lazy("teacher, pedagogical projects"),
    "chercheur": gettext_lazy("researcher, research projects"),
    "industriel": gettext_lazy("industrial user (Servier), confidential projects"),
    "referent": gettext_lazy("partner referent (Université d'Orléans)"),
}


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
        # A few lines only: `make run` ends with them, just before the server starts.
        summary = ", ".join(f"{count} {name}" for name, count in counts.items())
        self.stdout.write(self.style.SUCCESS(_("Demo data loaded: %s.") % summary))
        self.stdout.write(
            _("Demo logins, all with the password %(password)r:") % {"password": password}
        )
        width = max(len(login) for login in DEMO_LOGINS)
        for login in DEMO_LOGINS:
            role = ROLES.get(login)
            self.stdout.write(f"  {login:<{width}}  {role}" if role else f"  {login}")
