"""Shapes of the inventory API. Writes go through equipment.services.

The views pass the requesting user to `save(actor=...)`; the services decide what the
actor may write.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.urls import reverse
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import Direction, extend_schema_field
from rest_framework import serializers

from core.ids import MAX_ID
from equipment.models import (
    Category,
    Equipment,
    EquipmentDocument,
    Qualification,
    Site,
    TrainingRequest,
)
from equipment.policy import (
    DAY_MINUTES,
    END_TIME_PATTERN,
    POLICY_SETTINGS,
    START_TIME_PATTERN,
    KindList,
    OpeningHours,
    PerKind,
    Setting,
    TeachingWindows,
    WholeNumber,
)
from equipment.services import (
    category_create,
    category_update,
    equipment_create,
    equipment_update,
    qualification_grant,
    site_create,
    site_update,
)
from partners.models import ProjectKind

User = get_user_model()


class SiteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Site
        fields = ["id", "name", "city", "address"]

    def create(self, validated_data: dict[str, Any]) -> Site:
        return site_create(**validated_data)

    def update(self, instance: Site, validated_data: dict[str, Any]) -> Site:
        return site_update(site=instance, **validated_data)


class CategorySerializer(serializers.ModelSerializer):
    class Meta:
        model = Category
        fields = ["id", "name", "description"]

    def create(self, validated_data: dict[str, Any]) -> Category:
        return category_create(**validated_data)

    def update(self, instance: Category, validated_data: dict[str, Any]) -> Category:
        return category_update(category=instance, **validated_data)


class RatesSchema(serializers.Serializer):
    teaching = serializers.DecimalField(max_digits=9, decimal_places=2)
    academic = serializers.DecimalField(max_digits=9, decimal_places=2)
    industrial = serializers.DecimalField(max_digits=9, decimal_places=2)


# --- the policy's documentation, derived from its one description (equipment.policy) ---------

# The nested objects' OpenAPI component names, as the API has always published them.
_COMPONENT_NAMES = {
    "opening_hours": "OpeningHoursSchema",
    "horizon_days": "HorizonSchema",
    "weekly_quota_hours": "QuotaSchema",
    "teaching_windows": "TeachingWindowSchema",
}
# In a write, every setting and every key of a mapping may be left out or given as null.
_OPTIONAL: dict[str, Any] = {"required": False, "allow_null": True}


def _documenting(name: str, about: str, fields: dict[str, Any]) -> type[serializers.Serializer]:
    """Make a serializer class that only documents; its name is the OpenAPI component's."""
    attrs = {"__doc__": about, "__module__": __name__, **fields}
    return type(name, (serializers.Serializer,), attrs)


def policy_schema(*, update: bool) -> type[serializers.Serializer]:
    """Build the documentation of the policy as read (`update=False`) or as written."""
    fields = {
        name: _setting_field(name, setting, update=update)
        for name, setting in POLICY_SETTINGS.items()
    }
    if update:
        about = (
            "The settings to change: a write names only those; "
            "null puts a setting back to the platform default."
        )
    else:
        about = "The effective booking policy of the equipment (local times, Europe/Paris)."
    return _documenting("PolicySchema", about, fields)


def _setting_field(name: str, setting: Setting, *, update: bool) -> serializers.Field:
    optional = _OPTIONAL if update else {}
    shape = setting.shape
    if isinstance(shape, WholeNumber):
        return serializers.IntegerField(
            min_value=shape.minimum,
            max_value=shape.maximum,
            help_text=_whole_number_help(setting, shape),
            **optional,
        )
    if isinstance(shape, KindList):
        # The labels too, so that the API documents one ProjectKindEnum.
        kind = serializers.ChoiceField(choices=[(k, ProjectKind(k).label) for k in shape.choices])
        return serializers.ListField(child=kind, help_text=setting.about, **optional)
    if isinstance(shape, TeachingWindows):
        return _teaching_window_schema(name, setting, shape)(many=True, **optional)
    if isinstance(shape, PerKind):
        return _per_kind_schema(name, setting, shape, update=update)(**optional)
    return _opening_hours_schema(name, setting, shape, update=update)(**optional)


def _whole_number_help(setting: Setting, shape: WholeNumber) -> str:
    words = [setting.about, f"In {shape.unit}."]
    if shape.divides_a_day:
        words.append(f"Divides a day ({DAY_MINUTES} minutes).")
    if shape.on_the_grid:
        words.append("A multiple of granularity_minutes.")
    if shape.not_below:
        words.append(f"At least {shape.not_below}.")
    return " ".join(words)


def _per_kind_schema(
    name: str, setting: Setting, shape: PerKind, *, update: bool
) -> type[serializers.Serializer]:
    number = serializers.IntegerField if shape.whole else serializers.FloatField
    options: dict[str, Any] = {"min_value": shape.minimum, "max_value": shape.maximum}
    options |= _OPTIONAL if update else {"allow_null": shape.nullable}
    fields = {kind: number(**options) for kind in shape.kinds}
    return _documenting(_COMPONENT_NAMES[name], f"{setting.about} In {shape.unit}.", fields)


def _opening_hours_schema(
    name: str, setting: Setting, shape: OpeningHours, *, update: bool
) -> type[serializers.Serializer]:
    def day() -> serializers.ListField:
        end = serializers.RegexField(END_TIME_PATTERN)
        time_range = serializers.ListField(child=end, min_length=2, max_length=2)
        return serializers.ListField(child=time_range, **(_OPTIONAL if update else {}))

    about = (
        f'{setting.about} Ranges ["HH:MM", "HH:MM"] in order, not overlapping; '
        "24:00 only as an end."
    )
    return _documenting(_COMPONENT_NAMES[name], about, {d: day() for d in shape.days})


def _teaching_window_schema(
    name: str, setting: Setting, shape: TeachingWindows
) -> type[serializers.Serializer]:
    fields = {
        "weekday": serializers.ChoiceField(choices=list(shape.weekdays)),
        "start": serializers.RegexField(START_TIME_PATTERN, help_text="HH:MM"),
        "end": serializers.RegexField(END_TIME_PATTERN, help_text="HH:MM (24:00 allowed)"),
    }
    about = f"{setting.about} A window ends after it starts."
    return _documenting(_COMPONENT_NAMES[name], about, fields)


PolicySchema = policy_schema(update=False)
PolicyUpdateSchema = policy_schema(update=True)


class _ObjectField(serializers.Field):
    """A JSON object read from and written to the whole instance (source='*')."""

    key = ""

    def __init__(self, **kwargs: Any):
        super().__init__(source="*", required=False, **kwargs)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise serializers.ValidationError("Expected an object.")
        return {self.key: data}


@extend_schema_field(RatesSchema)
class RatesField(_ObjectField):
    key = "rates"

    def to_representation(self, value: Equipment) -> dict[str, Any]:
        return value.rates


class PolicyField(_ObjectField):
    key = "policy"

    def to_representation(self, value: Equipment) -> dict[str, Any]:
        return value.policy.as_dict()


class PolicyFieldDocumentation(OpenApiSerializerFieldExtension):
    """Document `policy` as read (every setting) and as written (only the settings changed)."""

    target_class = PolicyField

    def map_serializer_field(self, auto_schema: AutoSchema, direction: Direction) -> Any:
        schema = PolicyUpdateSchema if direction == "request" else PolicySchema
        return auto_schema.resolve_serializer(schema, direction).ref


class EquipmentDocumentSerializer(serializers.ModelSerializer):
    """A document as listed: what it is, and where a logged-in user downloads it."""

    filename = serializers.CharField(source="original_filename", read_only=True)
    url = serializers.SerializerMethodField(help_text="The download address (logged-in users).")

    class Meta:
        model = EquipmentDocument
        fields = ["id", "title", "kind", "filename", "content_type", "size", "uploaded_at", "url"]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, document: EquipmentDocument) -> str:
        path = reverse(
            "equipment-document-download",
            kwargs={"pk": document.equipment_id, "document_id": document.pk},
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class DocumentUploadSerializer(serializers.Serializer):
    """A document to attach (multipart): the file, its title and its kind."""

    file = serializers.FileField(
        help_text="PDF, Word, Excel, PowerPoint or OpenDocument; its content must match its "
        "extension."
    )
    title = serializers.CharField(max_length=200)
    kind = serializers.ChoiceField(choices=EquipmentDocument.Kind.choices)


class EquipmentSerializer(serializers.ModelSerializer):
    managers = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.filter(is_active=True), required=False
    )
    rates = RatesField(help_text="Hourly rates in euros: {teaching, academic, industrial}.")
    policy = PolicyField(
        help_text="Effective booking policy; a write updates only the settings it names "
        "(null puts a setting back to the platform default)."
    )
    documents = EquipmentDocumentSerializer(
        many=True,
        read_only=True,
        help_text="Operating procedures, safety data sheets, manuals: attached through "
        "`POST /api/v1/equipment/<id>/documents/` by its managers.",
    )

    class Meta:
        model = Equipment
        fields = [
            "id",
            "code",
            "name",
            "category",
            "site",
            "room",
            "description",
            "status",
            "owner_partner",
            "requires_qualification",
            "requires_check_in",
            "managers",
            "rates",
            "policy",
            "documents",
        ]

    def create(self, validated_data: dict[str, Any]) -> Equipment:
        return equipment_create(**validated_data)

    def update(self, instance: Equipment, validated_data: dict[str, Any]) -> Equipment:
        return equipment_update(equipment=instance, **validated_data)


class QualificationSerializer(serializers.ModelSerializer):
    user = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True))

    class Meta:
        model = Qualification
        fields = ["id", "user", "equipment", "valid_until", "granted_by"]
        read_only_fields = ["granted_by"]
        validators: list[Any] = []  # granting again renews: no unique-together error

    def create(self, validated_data: dict[str, Any]) -> Qualification:
        return qualification_grant(**validated_data)


# --- training requests (SPEC §13); writes go through equipment.services ---------------------


class TrainingRequestSerializer(serializers.ModelSerializer):
    class Meta:
        model = TrainingRequest
        fields = [
            "id",
            "user",
            "equipment",
            "status",
            "message",
            "reason",
            "valid_until",
            "decided_by",
            "decided_at",
            "created_at",
        ]
        read_only_fields = fields


class TrainingRequestCreateInput(serializers.Serializer):
    equipment = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="Its id.")
    message = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="A note to the equipment's managers.",
    )


class TrainingAcceptInput(serializers.Serializer):
    valid_until = serializers.DateField(
        help_text="The qualification granted lasts until this day (today or later)."
    )


class TrainingDeclineInput(serializers.Serializer):
    # Checked by the service (code `required`), so that a blank reason answers its own code.
    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=2000,
        help_text="Why, told to the requester (required).",
    )
