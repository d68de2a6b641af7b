"""Inventory endpoints: sites, categories, equipment, qualifications, training requests."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from core.api.parsers import MultiPartParser
from core.api.schema import ErrorSerializer
from core.api.viewsets import ReferenceViewSet
from core.errors import DomainError
from core.ids import is_id
from core.roles import require
from equipment.documents import CONTENT_TYPES
from equipment.models import (
    Category,
    Equipment,
    EquipmentDocument,
    Qualification,
    Site,
    TrainingRequest,
)
from equipment.permissions import (
    may_change_managers,
    may_create_category,
    may_create_equipment,
    may_create_site,
    may_edit_category,
    may_edit_equipment,
    may_edit_site,
    may_manage_documents,
    may_read_documents,
)
from equipment.selectors import (
    document_of,
    equipment_list,
    qualifications_visible_to,
    training_requests_visible_to,
    with_documents,
)
from equipment.services import (
    document_add,
    document_delete,
    training_request_accept,
    training_request_cancel,
    training_request_create,
    training_request_decline,
)
from equipment.web.documents import document_response

from .serializers import (
    CategorySerializer,
    DocumentUploadSerializer,
    EquipmentDocumentSerializer,
    EquipmentSerializer,
    QualificationSerializer,
    SiteSerializer,
    TrainingAcceptInput,
    TrainingDeclineInput,
    TrainingRequestCreateInput,
    TrainingRequestSerializer,
)


class ActorWrites(GenericAPIView):
    """Hand the requesting user to the serializer's `save`: the service decides."""

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.save(actor=self.request.user)

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.save(actor=self.request.user)


# The services decide who writes. The views below ask the same permission functions
# first where the API always refused before reading the body or the id: whoever may not
# write there at all gets 403, not a 400 on their input or a 404 on an unknown id.


class SiteViewSet(ActorWrites, ReferenceViewSet):
    queryset = Site.objects.all()
    serializer_class = SiteSerializer
    permission_classes = [IsAuthenticated]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require(may_create_site(request.user))
        return super().create(request, *args, **kwargs)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require(may_edit_site(request.user))
        return super().update(request, *args, **kwargs)


class CategoryViewSet(ActorWrites, ReferenceViewSet):
    queryset = Category.objects.all()
    serializer_class = CategorySerializer
    permission_classes = [IsAuthenticated]

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require(may_create_category(request.user))
        return super().create(request, *args, **kwargs)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        require(may_edit_category(request.user))
        return super().update(request, *args, **kwargs)


class EquipmentFilter(django_filters.FilterSet):
    site = django_filters.NumberFilter(field_name="site_id")
    category = django_filters.NumberFilter(field_name="category_id")
    status = django_filters.ChoiceFilter(choices=Equipment.Status.choices)
    q = django_filters.CharFilter(method="search", label="Search code, name, description")

    class Meta:
        model = Equipment
        fields = ["site", "category", "status", "q"]

    def search(self, queryset: QuerySet[Equipment], name: str, value: str) -> QuerySet[Equipment]:
        return queryset & equipment_list(q=value)


class EquipmentViewSet(
    ActorWrites,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The inventory: everyone logged in reads; platform managers create; managers edit."""

    serializer_class = EquipmentSerializer
    filterset_class = EquipmentFilter
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self) -> QuerySet[Equipment]:
        return with_documents(equipment_list())

    def create(self, request: Request, *args, **kwargs) -> Response:
        require(may_create_equipment(request.user))
        return super().create(request, *args, **kwargs)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        equipment = self.get_object()
        require(may_edit_equipment(request.user, equipment))
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": [_("Expected a JSON object.")]})
        if "managers" in request.data:
            require(may_change_managers(request.user, equipment))
        return super().partial_update(request, *args, **kwargs)


class QualificationViewSet(
    ActorWrites,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Who is trained on what. Granted by platform managers and equipment managers."""

    serializer_class = QualificationSerializer
    filterset_fields = ["user", "equipment"]

    def get_queryset(self) -> QuerySet[Qualification]:
        if getattr(self, "swagger_fake_view", False):
            return Qualification.objects.none()
        return qualifications_visible_to(self.request.user)


# --- documents (SPEC §13) ------------------------------------------------------------------


class FileOrJsonNegotiation(BaseContentNegotiation):
    """A download answers the file, and its refusals in JSON, whatever `Accept` asks: no
    406 for a client that asks for `application/pdf`."""

    def select_parser(self, request: Request, parsers: Any) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: Any, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


_TOO_LARGE = OpenApiResponse(
    description="`file_too_large`: the file is larger than EQUIPMENT_DOCUMENT_MAX_BYTES; "
    "`request_too_large`: the whole body is larger than MAX_UPLOAD_BODY_BYTES."
)


def _equipment_or_404(pk: int) -> Equipment:
    equipment = Equipment.objects.filter(pk=pk).first()
    if equipment is None:
        raise DomainError("not_found")
    return equipment


def _document_or_404(pk: int, document_id: int) -> EquipmentDocument:
    document = document_of(equipment_id=pk, document_id=document_id)
    if document is None:
        raise DomainError("not_found")
    return document


class EquipmentDocumentsView(APIView):
    """`POST /api/v1/equipment/<id>/documents/`: attach a document (its managers)."""

    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="equipment_documents_create",
        summary="Attach a document to an equipment",
        description="Multipart `file`, `title`, `kind`, by the equipment's managers. PDF and "
        "office formats (doc, docx, xls, xlsx, ppt, pptx, odt, ods, odp), checked by their "
        "extension and content: otherwise 400 `unsupported_file_type`.",
        request={"multipart/form-data": DocumentUploadSerializer},
        responses={201: EquipmentDocumentSerializer, 413: _TOO_LARGE},
    )
    def post(self, request: Request, pk: int) -> Response:
        equipment = _equipment_or_404(pk)
        # Refused before the body is read: who may not attach gets 403, not a 400.
        require(may_manage_documents(request.user, equipment))
        upload = DocumentUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        document = document_add(
            actor=request.user, equipment=equipment, now=timezone.now(), **upload.validated_data
        )
        output = EquipmentDocumentSerializer(document, context={"request": request})
        return Response(output.data, status=201)


class EquipmentDocumentView(APIView):
    """`DELETE /api/v1/equipment/<id>/documents/<document_id>/`: remove one (its managers)."""

    @extend_schema(
        operation_id="equipment_documents_destroy",
        summary="Remove a document of an equipment",
        request=None,
        responses={204: None},
    )
    def delete(self, request: Request, pk: int, document_id: int) -> Response:
        document = _document_or_404(pk, document_id)
        require(may_manage_documents(request.user, document.equipment))
        document_delete(actor=request.user, document=document)
        return Response(status=204)


class EquipmentDocumentDownloadView(APIView):
    """`GET /api/v1/equipment/<id>/documents/<document_id>/download/`: the file, for anyone
    logged in; streamed, as an attachment (equipment.web.documents.document_response)."""

    content_negotiation_class = FileOrJsonNegotiation

    @extend_schema(
        operation_id="equipment_documents_download",
        summary="Download a document of an equipment",
        request=None,
        responses={(200, content_type): OpenApiTypes.BINARY for content_type in CONTENT_TYPES},
    )
    def get(self, request: Request, pk: int, document_id: int) -> HttpResponseBase:
        document = _document_or_404(pk, document_id)
        if not may_read_documents(request.user):
            raise DomainError("not_found")
        return document_response(document)


class TrainingRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Training requests (SPEC §13): a user's own, and those on the equipment they manage
    (every one for platform managers); anyone else's answer 404."""

    serializer_class = TrainingRequestSerializer
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self) -> QuerySet[TrainingRequest]:
        if getattr(self, "swagger_fake_view", False):
            return TrainingRequest.objects.none()
        qs = training_requests_visible_to(self.request.user)
        if self.action != "list":
            return qs
        params = self.request.query_params
        wanted = params.get("status")
        if wanted:
            if wanted not in TrainingRequest.Status.values:
                unknown = _("Unknown status.")
                raise DomainError("invalid", unknown, fields={"status": [unknown]})
            qs = qs.filter(status=wanted)
        equipment = params.get("equipment")
        if equipment:
            if not is_id(equipment):
                raise DomainError("bad_filter", fields={"equipment": [_("Expected an id.")]})
            qs = qs.filter(equipment_id=int(equipment))
        return qs.order_by("-created_at", "-id")

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "status", str, enum=TrainingRequest.Status.values, description="Only these."
            ),
            OpenApiParameter("equipment", int, description="Only those on this equipment."),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=TrainingRequestCreateInput,
        responses={
            201: TrainingRequestSerializer,
            404: OpenApiResponse(
                ErrorSerializer, description=gettext_lazy("Unknown equipment (`not_found`).")
            ),
        },
        description=(
            "Ask to be trained on an equipment. Refused with 400 and the code "
            "`qualification_not_required`, `already_qualified` or `training_request_pending` "
            "(one pending request per user and equipment)."
        ),
    )
    def create(self, request: Request) -> Response:
        data = TrainingRequestCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        # Every equipment is visible to everyone logged in (SPEC §6): only an unknown id is not.
        equipment = Equipment.objects.filter(pk=values["equipment"]).first()
        if equipment is None:
            raise DomainError("not_found.equipment", params={"ids": values["equipment"]})
        created = training_request_create(
            user=request.user, equipment=equipment, message=values["message"], now=timezone.now()
        )
        created = training_requests_visible_to(request.user).get(pk=created.pk)
        return Response(TrainingRequestSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=TrainingAcceptInput,
        responses=TrainingRequestSerializer,
        description=(
            "Accept (the equipment's managers): the requester is qualified until `valid_until`. "
            "Only pending requests (`training_request_decided`)."
        ),
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        training_request = self.get_object()
        data = TrainingAcceptInput(data=request.data)
        data.is_valid(raise_exception=True)
        done = training_request_accept(
            actor=request.user,
            training_request=training_request,
            valid_until=data.validated_data["valid_until"],
            now=timezone.now(),
        )
        return self._answer(done)

    @extend_schema(
        request=TrainingDeclineInput,
        responses=TrainingRequestSerializer,
        description="Decline (the equipment's managers) with a `reason` told to the requester.",
    )
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        training_request = self.get_object()
        data = TrainingDeclineInput(data=request.data)
        data.is_valid(raise_exception=True)
        done = training_request_decline(
            actor=request.user,
            training_request=training_request,
            reason=data.validated_data["reason"],
            now=timezone.now(),
        )
        return self._answer(done)

    @extend_schema(
        request=None,
        responses=TrainingRequestSerializer,
        description="Withdraw one's own pending request (the requester only).",
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        training_request = self.get_object()
        done = training_request_cancel(
            actor=request.user, training_request=training_request, now=timezone.now()
        )
        return self._answer(done)

    def _answer(self, done: TrainingRequest) -> Response:
        done = training_requests_visible_to(self.request.user).get(pk=done.pk)
        return Response(TrainingRequestSerializer(done).data)
