"""Inventory endpoints: sites, categories, equipment, qualifications."""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from core.api.viewsets import ReferenceViewSet
from core.roles import is_platform_manager
from equipment.models import Category, Equipment, Qualification, Site
from equipment.selectors import can_manage_equipment, equipment_list, qualifications_visible_to

from .serializers import (
    CategorySerializer,
    EquipmentSerializer,
    QualificationSerializer,
    SiteSerializer,
)


class SiteViewSet(ReferenceViewSet):
    queryset = Site.objects.all()
    serializer_class = SiteSerializer


class CategoryViewSet(ReferenceViewSet):
    queryset = Category.objects.all()
    serializer_class = CategorySerializer


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
        if not is_platform_manager(request.user):
            raise PermissionDenied()
        return super().create(request, *args, **kwargs)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        equipment = self.get_object()
        if not can_manage_equipment(request.user, equipment):
            raise PermissionDenied()
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": [_("Expected a JSON object.")]})
        if "managers" in request.data and not is_platform_manager(request.user):
            raise PermissionDenied()
        return super().partial_update(request, *args, **kwargs)


class QualificationViewSet(
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

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not can_manage_equipment(request.user, serializer.validated_data["equipment"]):
            raise PermissionDenied()
        serializer.save(granted_by=request.user)
        return Response(serializer.data, status=status.HTTP_201_CREATED)
