"""Shapes of the partner, project and profile API. Writes go through partners.services.

The views pass the requesting user to `save(actor=...)`; the services decide what the
actor may write.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _
from rest_framework import serializers

from partners.models import Partner, Project
from partners.preferences import EmailTopic
from partners.services import partner_create, partner_update, project_create, project_update

User = get_user_model()
_active_users = User.objects.filter(is_active=True)


class PartnerSerializer(serializers.ModelSerializer):
    referents = serializers.PrimaryKeyRelatedField(
        many=True, queryset=_active_users, required=False
    )

    class Meta:
        model = Partner
        fields = ["id", "name", "kind", "rate_category", "referents"]

    def create(self, validated_data: dict[str, Any]) -> Partner:
        return partner_create(**validated_data)

    def update(self, instance: Partner, validated_data: dict[str, Any]) -> Partner:
        return partner_update(partner=instance, **validated_data)


class ProjectSerializer(serializers.ModelSerializer):
    leader = serializers.PrimaryKeyRelatedField(
        queryset=_active_users, required=False, help_text="Defaults to the requesting user."
    )
    members = serializers.PrimaryKeyRelatedField(many=True, queryset=_active_users, required=False)
    confidential = serializers.BooleanField(
        required=False, help_text="Always true for industrial projects."
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "kind",
            "partner",
            "leader",
            "members",
            "description",
            "active_from",
            "active_until",
            "confidential",
        ]

    def create(self, validated_data: dict[str, Any]) -> Project:
        # Without a leader, the creator leads (the field's help text).
        validated_data.setdefault("leader", validated_data["actor"])
        return project_create(**validated_data)

    def update(self, instance: Project, validated_data: dict[str, Any]) -> Project:
        return project_update(project=instance, **validated_data)


class MiniPartnerSerializer(serializers.ModelSerializer):
    class Meta:
        model = Partner
        fields = ["id", "name", "kind", "rate_category"]


class MiniProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = ["id", "name", "kind", "partner", "confidential", "active_from", "active_until"]


class FeedsSerializer(serializers.Serializer):
    me = serializers.URLField()
    projects = serializers.DictField(child=serializers.URLField())
    partners = serializers.DictField(child=serializers.URLField())
    equipment_template = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    roles = serializers.ListField(
        child=serializers.ChoiceField(
            choices=["platform_manager", "equipment_manager", "partner_referent", "project_member"]
        )
    )
    is_platform_manager = serializers.BooleanField()
    partners = MiniPartnerSerializer(many=True)
    referent_of = serializers.ListField(child=serializers.IntegerField())
    projects = MiniProjectSerializer(many=True)
    managed_equipment = serializers.ListField(child=serializers.IntegerField())
    feed_token = serializers.CharField()
    feeds = FeedsSerializer()
    language = serializers.CharField(allow_null=True)


class MeUpdateSerializer(serializers.Serializer):
    language = serializers.ChoiceField(
        choices=[("", "default"), *settings.LANGUAGES], allow_blank=True, required=False
    )


class EmailTopicsSerializer(serializers.Serializer):
    """One switch per notification: true sends it by email (every one is on by default)."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            topic.value: serializers.BooleanField(required=False, help_text=str(topic.label))
            for topic in EmailTopic
        }

    def to_internal_value(self, data: Any) -> Any:
        unknown = sorted(set(data) - set(EmailTopic.values)) if isinstance(data, dict) else []
        if unknown:
            raise serializers.ValidationError(_("Unknown notifications: %s.") % ", ".join(unknown))
        return super().to_internal_value(data)


class NotificationPreferencesSerializer(serializers.Serializer):
    language = serializers.ChoiceField(
        choices=[("", "default"), *settings.LANGUAGES],
        allow_blank=True,
        allow_null=True,
        required=False,
        help_text='The language of emails (and pages): "fr", "en", or "" / null for the '
        "platform's default (French).",
    )
    attach_ics = serializers.BooleanField(
        required=False, help_text="Whether emails about a booking carry it as an .ics file."
    )
    email = EmailTopicsSerializer(
        required=False,
        help_text="Which notifications are sent by email; a PATCH changes only those named.",
    )
