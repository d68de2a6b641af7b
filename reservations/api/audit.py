"""`GET /api/v1/audit/`: the audit trail (SPEC §14), each reader their part of it."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request

from core.errors import DomainError
from core.models import AuditEntry, AuditObject
from equipment.audit import (
    audit_filtered,
    audit_visible_to,
    may_read_audit_now,
    read_filters,
)


class AuditEntrySerializer(serializers.ModelSerializer):
    by = serializers.IntegerField(
        source="by_id", allow_null=True, help_text="The user who acted; null for the platform."
    )
    by_name = serializers.SerializerMethodField()
    equipment = serializers.IntegerField(source="equipment_id", allow_null=True)
    site = serializers.IntegerField(source="site_id", allow_null=True)
    changes = serializers.DictField(
        child=serializers.ListField(min_length=2, max_length=2),
        help_text=(
            "{field: [from, to]}; null where the field had or has no value. Instants are UTC "
            "ISO 8601, amounts text. Policy settings read `policy.<name>` (null: the "
            "platform default), rates `rates.<kind>`, a project's team `members` (user ids)."
        ),
    )

    class Meta:
        model = AuditEntry
        fields = [
            "id",
            "at",
            "by",
            "by_name",
            "object_type",
            "object_id",
            "action",
            "changes",
            "reason",
            "overridden",
            "equipment",
            "site",
        ]

    def get_by_name(self, entry: AuditEntry) -> str:
        if entry.by is None:
            return ""
        return entry.by.get_full_name() or entry.by.get_username()


ERROR = inline_serializer(
    "AuditError", {"code": serializers.CharField(), "detail": serializers.CharField()}
)


class AuditViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Who changed what, when, from what to what and why; newest first.

    Platform managers read every entry. Equipment managers read the entries of the
    equipment they manage (reservations, policy, rates and status, qualifications) and
    the closures that close it (of the equipment, of its site, of every site). Project
    entries are for platform managers. Everyone else: 403 `permission_denied`.
    """

    serializer_class = AuditEntrySerializer

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        if not may_read_audit_now(request.user):
            raise DomainError("permission_denied")

    def get_queryset(self) -> QuerySet[AuditEntry]:
        if getattr(self, "swagger_fake_view", False):
            return AuditEntry.objects.none()
        filters = read_filters(self.request.query_params, reader=self.request.user)
        return audit_filtered(audit_visible_to(self.request.user), filters)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "object", str, enum=AuditObject.values, description="Kind of object changed."
            ),
            OpenApiParameter("object_id", int, description="Its id (with `object`)."),
            OpenApiParameter("user", str, description="Who acted: a user id, or `me`."),
            OpenApiParameter(
                "start",
                OpenApiTypes.DATETIME,
                description="Entries at or after (ISO 8601; without offset, Paris time).",
            ),
            OpenApiParameter(
                "end", OpenApiTypes.DATETIME, description="Entries before (same format)."
            ),
        ],
        responses={
            200: AuditEntrySerializer(many=True),
            400: OpenApiResponse(
                ERROR, description="`bad_filter`, `invalid` or `ambiguous_time`, with `fields`."
            ),
            401: OpenApiResponse(ERROR, description="`not_authenticated`."),
            403: OpenApiResponse(
                ERROR, description="`permission_denied`: not a platform or equipment manager."
            ),
        },
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        return super().list(request, *args, **kwargs)
