"""`POST /api/v1/closures/import/`: closures from an uploaded .ics file (SPEC §4, §7)."""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from equipment.models import Equipment, Site
from reservations.api.booking import ClosureSerializer, busy_view
from reservations.exceptions import BookingError

from .ics_import import MAX_BYTES, IcsImportError, ImportOutcome, import_ics


class ClosureImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="An .ics file (iCalendar), at most 2 MB.")
    equipment = serializers.PrimaryKeyRelatedField(
        queryset=Equipment.objects.all(),
        required=False,
        allow_null=True,
        help_text="Close this equipment (leave both equipment and site empty: every site).",
    )
    site = serializers.PrimaryKeyRelatedField(
        queryset=Site.objects.all(), required=False, allow_null=True, help_text="Close this site."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("equipment") is not None and attrs.get("site") is not None:
            raise serializers.ValidationError(
                {"site": [_("Close either an equipment or a site, not both.")]}
            )
        return attrs


# Schema-only shapes, made with inline_serializer: fields named `source` and `errors` would
# shadow attributes in a Serializer class statement.
_SKIPPED = type(
    inline_serializer(
        "ClosureImportSkipped",
        {
            "uid": serializers.CharField(),
            "summary": serializers.CharField(),
            "start": serializers.DateTimeField(),
            "end": serializers.DateTimeField(),
            "source": serializers.CharField(),
            "reason": serializers.ChoiceField(
                choices=["already_imported", "cancelled", "empty_period", "outside_window"]
            ),
        },
    )
)
_ENTRY_ERROR = type(
    inline_serializer(
        "ClosureImportEntryError",
        {
            "uid": serializers.CharField(),
            "summary": serializers.CharField(),
            "index": serializers.IntegerField(
                allow_null=True, help_text="The n-th VEVENT, from 1."
            ),
            "line": serializers.IntegerField(
                allow_null=True, help_text="Line of its BEGIN:VEVENT."
            ),
            "message": serializers.CharField(),
        },
    )
)

IMPORT_RESULT = inline_serializer(
    "ClosureImportResult",
    {
        "created": ClosureSerializer(many=True),
        "skipped": _SKIPPED(many=True),
        "errors": _ENTRY_ERROR(many=True),
        "displaced": serializers.ListField(child=serializers.DictField()),
    },
)
# Every 400 of the import: a refused file lists its bad entries in `errors` (and empty
# `created` and `skipped`), a bad form (no file, unknown equipment) names `fields` instead.
IMPORT_REFUSED = inline_serializer(
    "ClosureImportRefused",
    {
        "code": serializers.CharField(
            help_text=gettext_lazy(
                "Machine code: invalid_ics, file_too_large, too_many_occurrences, invalid..."
            )
        ),
        "detail": serializers.CharField(),
        "fields": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()), required=False
        ),
        "errors": _ENTRY_ERROR(many=True, required=False),
        "created": serializers.ListField(child=serializers.DictField(), required=False),
        "skipped": serializers.ListField(child=serializers.DictField(), required=False),
    },
)


def outcome_payload(outcome: ImportOutcome) -> dict[str, Any]:
    return {
        "created": ClosureSerializer(outcome.created, many=True).data,
        "skipped": [
            {
                **item,
                "start": timezone.localtime(item["start"]),
                "end": timezone.localtime(item["end"]),
            }
            for item in outcome.skipped
        ],
        "errors": [],
        "displaced": [busy_view(r) for r in outcome.displaced],
    }


class ClosureImportView(APIView):
    """Import closures from an .ics file: managers only, all or nothing."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        operation_id="closures_import",
        tags=["closures"],
        request={"multipart/form-data": ClosureImportInput},
        responses={
            201: OpenApiResponse(IMPORT_RESULT, description="Closures created."),
            200: OpenApiResponse(
                IMPORT_RESULT, description="Nothing new: every event was skipped."
            ),
            400: OpenApiResponse(
                IMPORT_REFUSED,
                description="A bad file or entry: nothing was written.",
                examples=[
                    OpenApiExample(
                        "Bad entry",
                        value={
                            "code": "invalid_ics",
                            "detail": "Events that cannot be read: 1. Nothing was imported.",
                            "errors": [
                                {
                                    "uid": "abc@example.org",
                                    "summary": "Maintenance",
                                    "index": 2,
                                    "line": 11,
                                    "message": "The event has no start (DTSTART).",
                                }
                            ],
                            "created": [],
                            "skipped": [],
                        },
                    )
                ],
            ),
        },
        description=(
            "Multipart `file` (.ics, at most 2 MB and 5,000 occurrences), optional "
            "`equipment` or `site` (both empty: every site). Recurrences are expanded in "
            "Europe/Paris; importing the same file again skips what it already created."
        ),
    )
    def post(self, request: Request) -> Response:
        data = ClosureImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            outcome = import_ics(
                # One byte more than allowed is enough to refuse a larger file.
                data=values["file"].read(MAX_BYTES + 1),
                user=request.user,
                now=timezone.now(),
                equipment=values.get("equipment"),
                site=values.get("site"),
            )
        except BookingError as error:
            if error.status != 400:
                raise
            raise IcsImportError(error.key, message=str(error.message)) from None
        return Response(
            outcome_payload(outcome),
            status=status.HTTP_201_CREATED if outcome.created else status.HTTP_200_OK,
        )
