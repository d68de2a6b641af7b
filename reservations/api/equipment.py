"""The inventory endpoint with what only bookings know: which equipment is free."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.exceptions import ValidationError

from equipment.api.views import EquipmentViewSet
from equipment.models import Equipment
from reservations.selectors import equipment_free_between
from reservations.services.noshows import record_no_shows

from .booking import parse_instant

_FREE_PARAMETERS = [
    OpenApiParameter(
        name,
        OpenApiTypes.DATETIME,
        description=(
            "With free_from and free_to together: only active equipment that is open, "
            "not closed and not booked over the whole interval. A time without offset is "
            "read in Europe/Paris."
        ),
    )
    for name in ("free_from", "free_to")
]


@extend_schema_view(list=extend_schema(parameters=_FREE_PARAMETERS))
class BookableEquipmentViewSet(EquipmentViewSet):
    """`/api/v1/equipment/`: the inventory, filtered by free time when asked."""

    def get_queryset(self) -> QuerySet[Equipment]:
        qs = super().get_queryset()
        params = self.request.query_params
        if "free_from" in params or "free_to" in params:
            start = parse_instant(params.get("free_from"), "free_from")
            end = parse_instant(params.get("free_to"), "free_to")
            if start >= end:
                raise ValidationError({"free_to": [_("Must be after free_from.")]})
            # A no-show's slot is free again (SPEC §5): recorded first, as every read does.
            record_no_shows(now=timezone.now())
            qs = equipment_free_between(qs, start, end)
        return qs
