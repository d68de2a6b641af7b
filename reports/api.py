"""`GET /api/v1/reports/usage/`: usage reports in JSON, CSV or XLSX (SPEC §5, §7)."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any

from django.http import FileResponse, HttpResponseBase, StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.timezones import local_tz

from . import exports
from .params import DIMENSIONS, ReportQuery, parse_report_query
from .services import report_scope, reservation_rows, usage_report

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _bound_text(moment: datetime) -> str:
    """A window bound in a file name: its local date, with the time when not midnight."""
    local = moment.astimezone(local_tz())
    if local.time() == time(0):
        return local.date().isoformat()
    return local.strftime("%Y-%m-%dT%H%M")


def export_filename(query: ReportQuery, extension: str) -> str:
    """The file's name: what it holds, its window and grouping, and its CSV dialect.

    `usage_2026-11-01_2026-12-01_partner-month.csv` for a grouped report,
    `reservations_2026-11-01_2026-12-01.csv` for one row per reservation, with
    `_semicolon` before the extension for the French spreadsheet dialect: no two
    exports of one window share a name.
    """
    window = f"{_bound_text(query.start)}_{_bound_text(query.end)}"
    name = (
        f"reservations_{window}" if query.detail else f"usage_{window}_{'-'.join(query.group_by)}"
    )
    if extension == "csv" and query.sep == ";":
        name += "_semicolon"
    return f"{name}.{extension}"


class UsageReportView(APIView):
    """Usage per partner, project, equipment… over a window; or one row per reservation.

    Platform managers see everything, partner referents their partners' reservations,
    equipment managers their equipment's; anyone else is refused (403).
    """

    # `format` picks the export, not a DRF renderer: errors are always JSON.
    renderer_classes = [JSONRenderer]

    def perform_content_negotiation(self, request: Request, force: bool = False) -> Any:
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "start", str, required=True, description="YYYY-MM-DD (local) or datetime"
            ),
            OpenApiParameter(
                "end", str, required=True, description="exclusive: YYYY-MM-DD or datetime"
            ),
            OpenApiParameter(
                "group_by",
                str,
                description="one or two, comma-separated: " + ", ".join(DIMENSIONS),
            ),
            OpenApiParameter("partner", str, description="partner ids, comma-separated"),
            OpenApiParameter("equipment", str, description="equipment ids, comma-separated"),
            OpenApiParameter(
                "project_kind",
                str,
                description="pedagogical, research or industrial; several comma-separated",
            ),
            OpenApiParameter("format", str, enum=["json", "csv", "xlsx"]),
            OpenApiParameter("sep", str, enum=[",", ";"], description="CSV separator"),
            OpenApiParameter(
                "detail", str, enum=["reservations"], description="one row per reservation"
            ),
        ],
        responses={
            (200, "application/json"): OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="{start, end, group_by, rows, totals}; with format=csv or xlsx, a file",
            ),
            (200, "text/csv"): OpenApiTypes.BINARY,
            (200, XLSX_TYPE): OpenApiTypes.BINARY,
        },
    )
    def get(self, request: Request) -> HttpResponseBase:
        scope = report_scope(request.user)
        query = parse_report_query(request.query_params)
        now = timezone.now()
        if query.detail:
            return self._detail(query, scope, now)
        report = usage_report(
            start=query.start,
            end=query.end,
            group_by=query.group_by,
            scope=scope,
            now=now,
            filters=query.filters,
        )
        if query.format == "csv":
            response = StreamingHttpResponse(
                exports.report_csv_chunks(report, sep=query.sep), content_type=CSV_TYPE
            )
            response["Content-Disposition"] = (
                f'attachment; filename="{export_filename(query, "csv")}"'
            )
            return response
        if query.format == "xlsx":
            return FileResponse(
                exports.xlsx_tempfile([exports.report_sheet(report)]),
                as_attachment=True,
                filename=export_filename(query, "xlsx"),
                content_type=XLSX_TYPE,
            )
        return Response(report.as_dict())

    def _detail(self, query: ReportQuery, scope: Any, now: datetime) -> HttpResponseBase:
        window: dict[str, Any] = {
            "start": query.start,
            "end": query.end,
            "scope": scope,
            "now": now,
        }
        if query.format == "csv":
            response = StreamingHttpResponse(
                exports.detail_csv_chunks(**window, filters=query.filters, sep=query.sep),
                content_type=CSV_TYPE,
            )
            response["Content-Disposition"] = (
                f'attachment; filename="{export_filename(query, "csv")}"'
            )
            return response
        rows = reservation_rows(**window, filters=query.filters)
        if query.format == "xlsx":
            return FileResponse(
                exports.xlsx_tempfile([exports.detail_sheet(rows)]),
                as_attachment=True,
                filename=export_filename(query, "xlsx"),
                content_type=XLSX_TYPE,
            )
        return StreamingHttpResponse(
            exports.detail_json_chunks(rows, start=query.start, end=query.end),
            content_type="application/json",
        )
