"""French public holidays as closures: `manage.py import_holidays 2026 2027 [--site ID]`."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from calendars.holidays import (
    import_public_holidays,
    school_holiday_periods,
    school_holidays_known_until,
)
from calendars.management.scope import (
    add_scope_arguments,
    displaced_words,
    resolve_scope,
    scope_label,
)
from core.errors import DomainError
from core.french_calendars import ZONE

HELP = gettext_lazy(
    "Close an equipment, a site or every site on the French public holidays of the given "
    "years (whole local days; again creates nothing). --school-holidays also lists the "
    "zone B school holidays known for those years."
)


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(HELP)  # argparse needs a real string

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("years", nargs="+", type=int, metavar="YEAR")
        add_scope_arguments(parser)
        parser.add_argument(
            "--school-holidays",
            action="store_true",
            help=_("List the zone B school holidays known for these years (no closure)."),
        )

    def handle(self, *args: Any, **options: Any) -> None:
        equipment, site, user = resolve_scope(options)
        years = options["years"]
        try:
            # Checked before writing anything: an unknown year refuses the whole command.
            periods = school_holiday_periods(years) if options["school_holidays"] else []
            outcome = import_public_holidays(
                years=years, user=user, now=timezone.now(), equipment=equipment, site=site
            )
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        created, skipped = len(outcome.created), len(outcome.skipped)
        self.stdout.write(
            _("%(created)s, %(skipped)s, %(displaced)s.")
            % {
                "created": ngettext(
                    "%(n)d public holiday closure created for %(scope)s",
                    "%(n)d public holiday closures created for %(scope)s",
                    created,
                )
                % {"n": created, "scope": scope_label(equipment, site)},
                "skipped": ngettext("%(n)d already there", "%(n)d already there", skipped)
                % {"n": skipped},
                "displaced": displaced_words(len(outcome.displaced)),
            }
        )
        if not options["school_holidays"]:
            return
        self.stdout.write(_("Zone %(zone)s school holidays:") % {"zone": ZONE})
        for period in periods:
            self.stdout.write(f"  {period.first:%d/%m/%Y} – {period.last:%d/%m/%Y}  {period.name}")
        known_until = school_holidays_known_until(years)
        if known_until is not None:
            self.stdout.write(
                _("School holidays are known only until %(day)s.")
                % {"day": known_until.strftime("%d/%m/%Y")}
            )
