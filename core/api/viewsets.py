"""Base viewsets shared by the apps' APIs."""

from __future__ import annotations

from rest_framework import mixins, viewsets

from .permissions import ReadAnyWriteStaff


class ReferenceViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Read by everyone logged in, written by platform managers; never deleted here."""

    permission_classes = [ReadAnyWriteStaff]
    http_method_names = ["get", "post", "patch", "head", "options"]
