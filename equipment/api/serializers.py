"""Shapes of the inventory API. Writes go through equipment.services.

The views pass the requesting user to `save(actor=...)`; the services decide what the
actor may write.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from equipment.models import Category, Equipment, Qualification, Site
from equipment.services import (
    category_create,
    category_update,
    equipment_create,
    equipment_update,
    qualification_grant,
    site_create,
    site_update,
)

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


class HorizonSchema(serializers.Serializer):
    pedagogical = serializers.IntegerField()
    research = serializers.IntegerField()
    industrial = serializers.IntegerField()


class QuotaSchema(serializers.Serializer):
    research = serializers.FloatField(allow_null=True)
    industrial = serializers.FloatField(allow_null=True)


class TeachingWindowSchema(serializers.Serializer):
    weekday = serializers.ChoiceField(choices=["mon", "tue", "wed", "thu", "fri", "sat", "sun"])
    start = serializers.CharField(help_text="HH:MM")
    end = serializers.CharField(help_text="HH:MM (24:00 allowed)")


class PolicySchema(serializers.Serializer):
    granularity_minutes = serializers.IntegerField()
    min_duration_minutes = serializers.IntegerField()
    max_duration_minutes = serializers.IntegerField()
    opening_hours = serializers.DictField(
        child=serializers.ListField(child=serializers.ListField(child=serializers.CharField())),
        help_text='{"mon": [["08:00", "19:00"]], …, "sun": []}',
    )
    horizon_days = HorizonSchema()
    min_notice_minutes = serializers.IntegerField()
    buffer_minutes = serializers.IntegerField()
    approval_required_for = serializers.ListField(child=serializers.CharField())
    weekly_quota_hours = QuotaSchema()
    teaching_windows = TeachingWindowSchema(many=True)
    teaching_release_days = serializers.IntegerField()
    preemption_notice_days = serializers.IntegerField()
    late_cancellation_hours = serializers.IntegerField()
    check_in_grace_minutes = serializers.IntegerField()


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


@extend_schema_field(PolicySchema)
class PolicyField(_ObjectField):
    key = "policy"

    def to_representation(self, value: Equipment) -> dict[str, Any]:
        return value.policy.as_dict()


class EquipmentSerializer(serializers.ModelSerializer):
    managers = serializers.PrimaryKeyRelatedField(
        many=True, queryset=User.objects.filter(is_active=True), required=False
    )
    rates = RatesField(help_text="Hourly rates in euros: {teaching, academic, industrial}.")
    policy = PolicyField(
        help_text="Effective booking policy; a write updates only the settings it names "
        "(null puts a setting back to the platform default)."
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
