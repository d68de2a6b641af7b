"""Shapes of the partner, project and profile API. Writes go through partners.services.

The views pass the requesting user to `save(actor=...)`; the services decide what the
actor may write.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy
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
    email_domains = serializers.ListField(
        child=serializers.CharField(max_length=253),
        required=False,
        max_length=50,
        help_text="Single sign-on attaches newcomers whose email is of one of these domains "
        "(or a subdomain) to this partner; each domain belongs to one partner.",
    )

    class Meta:
        model = Partner
        fields = ["id", "name", "kind", "rate_category", "referents", "email_domains"]

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
    affiliations = MiniPartnerSerializer(
        many=True,
        help_text="Partners the person belongs to (single sign-on attaches them by their "
        "email's domain); no right comes with it.",
    )
    referent_of = serializers.ListField(child=serializers.IntegerField())
    projects = MiniProjectSerializer(many=True)
    managed_equipment = serializers.ListField(child=serializers.IntegerField())
    feed_token = serializers.CharField()
    feeds = FeedsSerializer()
    language = serializers.CharField(allow_null=True)


class LanguageField(serializers.ChoiceField):
    """The language of a user's emails (and pages), as /me/ and /me/notifications/ take it."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            gettext_lazy(
                'The language of emails (and pages): "fr", "en", or "" / null for the '
                "platform's default (French)."
            ),
        )
        super().__init__(choices=[("", "default"), *settings.LANGUAGES], **kwargs)


class MeUpdateSerializer(serializers.Serializer):
    language = LanguageField()


class EmailTopicsSerializer(serializers.Serializer):
    """One switch per notification: true sends it by email (every one is on by default). The
    approval requests are an equipment manager's only: the answer names them for managers."""

    def get_fields(self) -> dict[str, serializers.Field]:
        return {
            topic.value: serializers.BooleanField(required=False, help_text=str(topic.label))
            for topic in EmailTopic
        }

    def to_internal_value(self, data: Any) -> Any:
        known = super().to_internal_value(data)
        # The names it does not know go on as given: partners.preferences refuses them (400
        # `invalid`, `fields.email`), as it refuses the topics that are not the user's own.
        return {**{name: data[name] for name in data if name not in self.fields}, **known}


class NotificationPreferencesSerializer(serializers.Serializer):
    language = LanguageField()
    attach_ics = serializers.BooleanField(
        required=False,
        help_text=gettext_lazy("Whether emails about a booking carry it as an .ics file."),
    )
    email = EmailTopicsSerializer(
        required=False,
        help_text=gettext_lazy(
            "Which notifications are sent by email (the requests to approve for equipment "
            "managers only); a PATCH changes only those named."
        ),
    )
