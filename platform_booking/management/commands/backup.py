"""`manage.py backup FILE`: the whole database in one file (see platform_booking.backup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from platform_booking.backup import BackupError, backup_write

HELP = gettext_lazy(
    "Write the whole database (every table, users and passwords included) to one file, "
    "gzip-compressed if its name ends in .gz. Restore it with the restore command."
)


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(HELP)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help=str(gettext_lazy("The backup file to write.")))
        parser.add_argument(
            "--database", default="default", help=str(gettext_lazy("Database alias."))
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = backup_write(options["file"], using=options["database"])
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            _("Backed up %(rows)d rows of %(tables)d tables to %(path)s.")
            % {"rows": summary.rows, "tables": summary.tables, "path": summary.path}
        )
