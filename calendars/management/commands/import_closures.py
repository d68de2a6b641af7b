"""Import closures from an .ics file: `import_closures FILE [--equipment CODE | --site ID]`."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from calendars.ics_import import MAX_BYTES, IcsImportError, import_ics
from calendars.management.scope import (
    add_scope_arguments,
    displaced_words,
    resolve_scope,
    scope_label,
)
from core.errors import DomainError

HELP = gettext_lazy(
    "Import closures from an .ics file (Outlook, Google...): all or nothing, recurrences "
    "included, for an equipment, a site or every site."
)


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(HELP)  # argparse needs a real string

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help=_("The .ics file."))
        add_scope_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        equipment, site, user = resolve_scope(options)
        path = Path(options["file"])
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as error:
            raise CommandError(
                _("Cannot read %(file)s: %(error)s") % {"file": path, "error": error.strerror}
            ) from None
        try:
            outcome = import_ics(
                data=data, user=user, now=timezone.now(), equipment=equipment, site=site
            )
        except IcsImportError as error:
            lines = [f"{error.code}: {error.message}"]
            for entry in error.errors:
                where = _("event %(index)s, line %(line)s") % {
                    "index": entry.get("index") or "?",
                    "line": entry.get("line") or "?",
                }
                lines.append(
                    f"  - {where} [{entry.get('uid') or '?'}] "
                    f"{entry.get('summary') or ''}: {entry['message']}"
                )
            raise CommandError("\n".join(lines)) from None
        except DomainError as error:
            raise CommandError(f"{error.code}: {error.message}") from None
        for item in outcome.skipped:
            self.stdout.write(
                _("skipped (%(reason)s): %(summary)s, %(start)s")
                % {
                    "reason": item["reason"],
                    "summary": item["summary"],
                    "start": timezone.localtime(item["start"]).strftime("%d/%m/%Y %H:%M"),
                }
            )
        created, skipped = len(outcome.created), len(outcome.skipped)
        self.stdout.write(
            _("%(created)s, %(skipped)s, %(displaced)s.")
            % {
                "created": ngettext(
                    "%(n)d closure created for %(scope)s",
                    "%(n)d closures created for %(scope)s",
                    created,
                )
                % {"n": created, "scope": scope_label(equipment, site)},
                "skipped": ngettext("%(n)d skipped", "%(n)d skipped", skipped) % {"n": skipped},
                "displaced": displaced_words(len(outcome.displaced)),
            }
        )
