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
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from core.errors import DomainError

from .documents import ACCEPT, check_document_file
from .models import Category, Equipment, EquipmentDocument, Qualification, Site, TrainingRequest
from .permissions import may_manage_documents
from .policy import PolicyError, merge_overrides
from .services import (
    CATEGORY_FIELDS,
    EQUIPMENT_FIELDS,
    SITE_FIELDS,
    category_create,
    category_update,
    document_add,
    document_delete,
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


class EquipmentDocumentAdminForm(forms.ModelForm):
    class Meta:
        model = EquipmentDocument
        fields = ["equipment", "title", "kind", "file"]
        widgets = {"file": forms.FileInput(attrs={"accept": ACCEPT})}

    def clean_file(self) -> Any:
        # The service checks again; here the refusal is shown on the form.
        file = self.cleaned_data["file"]
        try:
            check_document_file(file, file.name or "")
        except DomainError as error:
            raise ValidationError(f"{error.message} [{error.code}]", code=error.code) from None
        return file


@admin.register(EquipmentDocument)
class EquipmentDocumentAdmin(admin.ModelAdmin):
    """Attach and remove documents through the services (their checks, limits and trail).

    A document is not edited: remove it and attach the new version. Staff who do not manage
    an equipment are refused by the service, as in the API.
    """

    form = EquipmentDocumentAdminForm
    list_display = ["title", "equipment", "kind", "original_filename", "size", "uploaded_at"]
    list_filter = ["kind", "equipment__site", "equipment"]
    search_fields = ["title", "original_filename", "equipment__code", "equipment__name"]
    list_select_related = ["equipment"]
    autocomplete_fields = ["equipment"]

    # Shown (never edited) once attached; the file by its checked download, not a URL of
    # the private storage, which has none.
    shown = ["equipment", "title", "kind", "download", "content_type", "size"]
    shown += ["uploaded_by", "uploaded_at"]

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.shown if obj is not None else super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return self.shown if obj is not None else []

    @admin.display(description=_("file"))
    def download(self, document: EquipmentDocument) -> str:
        url = reverse("equipment:document_download", args=[document.equipment_id, document.pk])
        return format_html('<a href="{}">{}</a>', url, document.original_filename)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or may_manage_documents(request.user, obj.equipment))

    def save_model(
        self, request: HttpRequest, obj: EquipmentDocument, form: Any, change: bool
    ) -> None:
        saved = document_add(
            actor=request.user,
            equipment=form.cleaned_data["equipment"],
            file=form.cleaned_data["file"],
            title=form.cleaned_data["title"],
            kind=form.cleaned_data["kind"],
            now=timezone.now(),
        )
        obj.pk, obj.file, obj.original_filename = saved.pk, saved.file, saved.original_filename

    def delete_model(self, request: HttpRequest, obj: EquipmentDocument) -> None:
        document_delete(actor=request.user, document=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[EquipmentDocument]) -> None:
        for document in queryset:
            document_delete(actor=request.user, document=document)


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
