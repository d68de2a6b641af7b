"""Admin for partners and projects; every save goes through reservations.services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Partner, Project
from .services import PROJECT_FIELDS, partner_create, partner_update, project_create, project_update


@admin.register(Partner)
class PartnerAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "rate_category"]
    list_filter = ["kind", "rate_category"]
    search_fields = ["name"]
    filter_horizontal = ["referents"]

    def save_model(self, request: HttpRequest, obj: Partner, form: Any, change: bool) -> None:
        fields = {k: form.cleaned_data[k] for k in ("name", "kind", "rate_category")}
        saved = partner_update(partner=obj, **fields) if change else partner_create(**fields)
        obj.pk = saved.pk


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "partner",
        "leader",
        "active_from",
        "active_until",
        "confidential",
    ]
    list_filter = ["kind", "confidential", "partner"]
    search_fields = ["name", "partner__name"]
    filter_horizontal = ["members"]
    raw_id_fields = ["leader"]

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        fields = {k: form.cleaned_data[k] for k in PROJECT_FIELDS if k in form.cleaned_data}
        saved = project_update(project=obj, **fields) if change else project_create(**fields)
        obj.pk = saved.pk
        obj.confidential = saved.confidential

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # The leader is always a member, whatever the form's selection.
        form.instance.members.add(form.instance.leader)
