"""Admin for the inventory; every save goes through equipment.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from .models import Category, Equipment, Qualification, Site
from .policy import PolicyError, merge_overrides
from .services import EQUIPMENT_FIELDS, equipment_create, equipment_update, qualification_grant


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "address"]
    search_fields = ["name", "city"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]


class EquipmentAdminForm(forms.ModelForm):
    class Meta:
        model = Equipment
        fields = [
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
            "rate_teaching",
            "rate_academic",
            "rate_industrial",
            "managers",
            "policy_overrides",
        ]

    def clean_policy_overrides(self) -> dict[str, Any]:
        value = self.cleaned_data.get("policy_overrides") or {}
        try:
            return merge_overrides({}, value)
        except PolicyError as exc:
            raise ValidationError(
                [f"{key}: {' '.join(messages)}" for key, messages in exc.errors.items()]
            ) from None


@admin.register(Equipment)
class EquipmentAdmin(admin.ModelAdmin):
    form = EquipmentAdminForm
    list_display = ["code", "name", "category", "site", "status", "requires_qualification"]
    list_filter = ["status", "site", "category", "requires_qualification", "requires_check_in"]
    search_fields = ["code", "name", "description"]
    exclude = ["calendar"]
    filter_horizontal = ["managers"]
    list_select_related = ["category", "site"]

    def save_model(self, request: HttpRequest, obj: Equipment, form: Any, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in EQUIPMENT_FIELDS}
        rates = {
            "teaching": obj.rate_teaching,
            "academic": obj.rate_academic,
            "industrial": obj.rate_industrial,
        }
        if change:
            saved = equipment_update(
                equipment=obj,
                rates=rates,
                policy_overrides=form.cleaned_data["policy_overrides"],
                **fields,
            )
        else:
            saved = equipment_create(
                rates=rates, policy=form.cleaned_data["policy_overrides"], **fields
            )
        # The admin then saves the managers (save_related) on this same instance.
        obj.pk = saved.pk
        obj.calendar_id = saved.calendar_id


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
    list_display = ["user", "equipment", "valid_until", "granted_by"]
    list_filter = ["equipment__site", "equipment"]
    search_fields = ["user__username", "user__last_name", "equipment__code"]
    autocomplete_fields = ["equipment"]
    raw_id_fields = ["user", "granted_by"]

    def save_model(self, request: HttpRequest, obj: Qualification, form: Any, change: bool) -> None:
        saved = qualification_grant(
            user=obj.user,
            equipment=obj.equipment,
            valid_until=obj.valid_until,
            granted_by=request.user,
        )
        obj.pk = saved.pk
