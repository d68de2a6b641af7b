"""Export a usage report (or one row per reservation) to a file, with a progress bar."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from core.errors import DomainError
from reports import exports
from reports.params import ReportQuery, parse_report_query
from reports.services import Scope, count_reservations, reservation_rows, usage_report

HELP = gettext_lazy(
    "Export the usage report of a window [start, end) to a file: JSON, CSV or XLSX, "
    "grouped by one or two dimensions, or one row per reservation with --detail."
)


class Command(BaseCommand):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.help = str(HELP)  # argparse needs a real string

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--start", required=True, help=_("YYYY-MM-DD (local) or datetime"))
        parser.add_argument(
            "--end", required=True, help=_("YYYY-MM-DD (local, exclusive) or datetime")
        )
        parser.add_argument(
            "--group-by", default="", help=_("one or two dimensions, e.g. partner,month")
        )
        parser.add_argument("--format", default="csv", choices=["json", "csv", "xlsx"])
        parser.add_argument("--sep", default=",", choices=[",", ";"], help=_("CSV separator"))
        parser.add_argument("--detail", action="store_true", help=_("one row per reservation"))
        parser.add_argument("--partner", default="", help=_("partner ids, comma-separated"))
        parser.add_argument("--equipment", default="", help=_("equipment ids, comma-separated"))
        parser.add_argument("--project-kind", default="", help=_("pedagogical, research…"))
        parser.add_argument("--output", "-o", required=True, help=_("file to write"))
        parser.add_argument("--no-progress", action="store_true", help=_("no progress bar"))

    def handle(self, *args: Any, **options: Any) -> None:
        query = _parse(options)
        output = Path(options["output"])
        if not output.parent.is_dir():
            raise CommandError(_("No such folder: %(path)s") % {"path": output.parent})
        # The command runs with the platform's full view, like the platform managers.
        scope = Scope(everything=True)
        now = timezone.now()
        show = not options["no_progress"] and sys.stderr.isatty()
        from tqdm import tqdm

        if query.detail:
            total = count_reservations(
                start=query.start, end=query.end, scope=scope, filters=query.filters
            )
        else:
            total = None
        bar = tqdm(
            total=total,
            unit=_("rows"),
            unit_scale=True,
            disable=not show,
            file=sys.stderr,
            desc=output.name,
        )
        written = 0

        def progress(count: int) -> None:
            nonlocal written
            written += count
            bar.update(count)

        try:
            if query.detail:
                _write_detail(query, output, scope=scope, now=now, on_rows=progress)
                # Counted by the database: the stream's line count is only for the bar.
                written = total or 0
            else:
                progress(_write_report(query, output, scope=scope, now=now))
        finally:
            bar.close()
        self.stdout.write(
            ngettext(
                "%(rows)d row written to %(path)s.", "%(rows)d rows written to %(path)s.", written
            )
            % {"rows": written, "path": output}
        )


def _parse(options: dict[str, Any]) -> ReportQuery:
    try:
        return parse_report_query(
            {
                "start": options["start"],
                "end": options["end"],
                "group_by": options["group_by"],
                "format": options["format"],
                "sep": options["sep"],
                "detail": "reservations" if options["detail"] else "",
                "partner": options["partner"],
                "equipment": options["equipment"],
                "project_kind": options["project_kind"],
            }
        )
    except DomainError as error:
        problems = "; ".join(
            f"{name}: {' '.join(messages)}"
            for name, messages in error.extra.get("fields", {}).items()
        )
        raise CommandError(f"{error.message} {problems}".strip()) from None


def _write_detail(
    query: ReportQuery,
    output: Path,
    *,
    scope: Scope,
    now: datetime,
    on_rows: Callable[[int], None],
) -> None:
    window: dict[str, Any] = {"start": query.start, "end": query.end, "scope": scope, "now": now}
    if query.format == "xlsx":
        rows = reservation_rows(**window, filters=query.filters)
        exports.write_xlsx(str(output), [exports.detail_sheet(rows)], on_rows=on_rows)
        return
    chunks = (
        exports.detail_csv_chunks(**window, filters=query.filters, sep=query.sep, on_rows=on_rows)
        if query.format == "csv"
        else exports.detail_json_chunks(
            reservation_rows(**window, filters=query.filters),
            start=query.start,
            end=query.end,
            on_rows=on_rows,
        )
    )
    with output.open("wb") as handle:
        for chunk in chunks:
            handle.write(chunk)


def _write_report(query: ReportQuery, output: Path, *, scope: Scope, now: datetime) -> int:
    """Write the grouped report; return its number of rows."""
    report = usage_report(
        start=query.start,
        end=query.end,
        group_by=query.group_by,
        scope=scope,
        now=now,
        filters=query.filters,
    )
    if query.format == "xlsx":
        exports.write_xlsx(str(output), [exports.report_sheet(report)])
    else:
        with output.open("wb") as handle:
            if query.format == "csv":
                for chunk in exports.report_csv_chunks(report, sep=query.sep):
                    handle.write(chunk)
            else:
                handle.write(exports.report_json_bytes(report))
    return len(report.rows)
