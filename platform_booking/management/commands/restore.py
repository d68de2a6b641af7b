"""`manage.py restore FILE [--force]`: the database as a backup left it.

See platform_booking.backup.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from platform_booking.backup import BackupError, backup_restore

HELP = gettext_lazy(
    "Restore a file written by the backup command, all or nothing. The database may have no "
    "tables yet (it is migrated first) or be freshly migrated; one holding data is refused "
    "unless --force, which replaces all of it. Stop the app servers first."
)


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(HELP)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help=str(gettext_lazy("The backup file to read.")))
        parser.add_argument(
            "--force",
            action="store_true",
            help=str(gettext_lazy("Replace the data already in the database.")),
        )
        parser.add_argument(
            "--database", default="default", help=str(gettext_lazy("Database alias."))
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            summary = backup_restore(
                options["file"], force=options["force"], using=options["database"]
            )
        except (BackupError, OSError) as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            _("Restored %(rows)d rows of %(tables)d tables from %(path)s.")
            % {"rows": summary.rows, "tables": summary.tables, "path": summary.path}
        )
