"""Inventory endpoints: sites, categories, equipment, qualifications."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import mixins, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from core.api.viewsets import ReferenceViewSet
from core.roles import require
from equipment.models import Category, Equipment, Qualification, Site
from equipment.permissions import (
    may_change_managers,
    may_create_category,
    may_create_equipment,
    may_create_site,
    may_edit_category,
    may_edit_equipment,
    may_edit_site,
)
from equipment.selectors import equipment_list, qualifications_visible_to

from .serializers import (
    CategorySerializer,
    EquipmentSerializer,
    QualificationSerializer,
    SiteSerializer,
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
        return equipment_list()

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
