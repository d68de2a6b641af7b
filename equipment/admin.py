"""Admin for the inventory; every save goes through equipment.services.

The services save the equipment's managers too, so `save_related` saves only inline
formsets: the form's own M2M save would bypass the service.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Category, Equipment, Qualification, Site, TrainingRequest
from .policy import PolicyError, merge_overrides
from .services import (
    CATEGORY_FIELDS,
    EQUIPMENT_FIELDS,
    SITE_FIELDS,
    category_create,
    category_update,
    equipment_create,
    equipment_update,
    qualification_grant,
    qualification_revoke,
    site_create,
    site_update,
)


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    list_display = ["name", "city", "address"]
    search_fields = ["name", "city"]

    def save_model(self, request: HttpRequest, obj: Site, form: Any, change: bool) -> None:
        fields = {k: form.cleaned_data[k] for k in SITE_FIELDS if k in form.cleaned_data}
        if change:
            saved = site_update(actor=request.user, site=obj, **fields)
        else:
            saved = site_create(actor=request.user, **fields)
        obj.pk = saved.pk


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name"]
    search_fields = ["name"]

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        fields = {k: form.cleaned_data[k] for k in CATEGORY_FIELDS if k in form.cleaned_data}
        if change:
            saved = category_update(actor=request.user, category=obj, **fields)
        else:
            saved = category_create(actor=request.user, **fields)
        obj.pk = saved.pk


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
        managers = form.cleaned_data["managers"]
        if change:
            saved = equipment_update(
                actor=request.user,
                equipment=obj,
                managers=managers,
                rates=rates,
                policy_overrides=form.cleaned_data["policy_overrides"],
                **fields,
            )
        else:
            saved = equipment_create(
                actor=request.user,
                managers=managers,
                rates=rates,
                policy=form.cleaned_data["policy_overrides"],
                **fields,
            )
        obj.pk = saved.pk
        obj.calendar_id = saved.calendar_id

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:  # the managers were saved by the service
            self.save_formset(request, form, formset, change=change)


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
    list_display = ["user", "equipment", "valid_until", "granted_by"]
    list_filter = ["equipment__site", "equipment"]
    search_fields = ["user__username", "user__last_name", "equipment__code"]
    autocomplete_fields = ["equipment"]
    raw_id_fields = ["user", "granted_by"]

    def get_readonly_fields(self, request: HttpRequest, obj: Qualification | None = None) -> Any:
        # A qualification is one person's on one equipment: another person or equipment is
        # another qualification (grant it), not a change of this one, which would stay.
        return ["user", "equipment"] if obj is not None else []

    def save_model(self, request: HttpRequest, obj: Qualification, form: Any, change: bool) -> None:
        saved = qualification_grant(
            actor=request.user,
            user=obj.user,
            equipment=obj.equipment,
            valid_until=obj.valid_until,
            granted_by=request.user,
        )
        obj.pk = saved.pk

    # Removing a qualification is a revocation: through the service, so it is audited.
    def delete_model(self, request: HttpRequest, obj: Qualification) -> None:
        qualification_revoke(actor=request.user, qualification=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Qualification]) -> None:
        for qualification in queryset.select_related("equipment"):
            qualification_revoke(actor=request.user, qualification=qualification)


TRAINING_REQUEST_FIELDS = (
    "user",
    "equipment",
    "status",
    "message",
    "created_at",
    "decided_by",
    "decided_at",
    "valid_until",
    "reason",
)


@admin.register(TrainingRequest)
class TrainingRequestAdmin(admin.ModelAdmin):
    """Read-only: requests are made, accepted, declined and cancelled on the pages and the API
    (equipment.services), which qualify, audit and notify; the admin only shows them."""

    list_display = ["user", "equipment", "status", "created_at", "decided_by", "valid_until"]
    list_filter = ["status", "equipment__site", "equipment"]
    search_fields = ["user__username", "user__last_name", "equipment__code"]
    list_select_related = ["user", "equipment", "decided_by"]
    date_hierarchy = "created_at"
    fields = TRAINING_REQUEST_FIELDS
    readonly_fields = TRAINING_REQUEST_FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
