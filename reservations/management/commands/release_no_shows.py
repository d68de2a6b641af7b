"""Mark no-shows after the check-in grace and complete ended reservations."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from reservations.services import release_no_shows

HELP = gettext_lazy("Mark no-shows after the check-in grace and complete ended reservations.")


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(HELP)  # argparse needs a real string

    def handle(self, *args: Any, **options: Any) -> None:
        counts = release_no_shows(now=timezone.now())
        no_show, completed = counts["no_show"], counts["completed"]
        self.stdout.write(
            # Translators: two counts, each with its own plural ("3 absences, 1 terminée.").
            _("%(no_show)s, %(completed)s.")
            % {
                "no_show": ngettext("%(n)d no-show", "%(n)d no-shows", no_show) % {"n": no_show},
                "completed": ngettext("%(n)d completed", "%(n)d completed", completed)
                % {"n": completed},
            }
        )
