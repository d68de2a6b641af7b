"""Rebuild every equipment's django-scheduler calendar from the reservations and closures."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from calendars.sync import rebuild_all
from equipment.models import Equipment
from equipment.services import ensure_calendar

HELP = gettext_lazy(
    "Make every equipment's calendar show its reservations and closures again "
    "(the reservation table is the truth; safe to run at any time)."
)


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(HELP)  # argparse needs a real string

    def handle(self, *args: Any, **options: Any) -> None:
        missing = list(Equipment.objects.filter(calendar__isnull=True))
        for equipment in missing:
            # equipment_create gives each equipment its calendar; older rows may lack one.
            ensure_calendar(equipment)
        counts = rebuild_all()
        added = len(missing)
        self.stdout.write(
            _(
                "%(calendars)s; events: %(created)d created, %(updated)d updated, "
                "%(deleted)d deleted."
            )
            % {
                "calendars": ngettext("%(n)d calendar added", "%(n)d calendars added", added)
                % {"n": added},
                "created": counts.created,
                "updated": counts.updated,
                "deleted": counts.deleted,
            }
        )
