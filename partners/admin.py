"""Admin for partners and projects; every save goes through partners.services.

The services save the many-to-many fields too (referents, members), so `save_related`
saves only inline formsets: the form's own M2M save would bypass the service and could
drop a project's leader from its members.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Partner, Project
from .services import PROJECT_FIELDS, partner_create, partner_update, project_create, project_update


class ServiceSavesRelated(admin.ModelAdmin):
    """An admin whose `save_model` hands the many-to-many fields to the service."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


@admin.register(Partner)
class PartnerAdmin(ServiceSavesRelated):
    list_display = ["name", "kind", "rate_category"]
    list_filter = ["kind", "rate_category"]
    search_fields = ["name"]
    filter_horizontal = ["referents"]

    def save_model(self, request: HttpRequest, obj: Partner, form: Any, change: bool) -> None:
        fields = {k: form.cleaned_data[k] for k in ("name", "kind", "rate_category")}
        referents = form.cleaned_data.get("referents")
        if change:
            saved = partner_update(actor=request.user, partner=obj, referents=referents, **fields)
        else:
            saved = partner_create(actor=request.user, referents=referents or (), **fields)
        obj.pk = saved.pk


@admin.register(Project)
class ProjectAdmin(ServiceSavesRelated):
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

    def has_delete_permission(self, request: HttpRequest, obj: Project | None = None) -> bool:
        # A project is closed by its `active_until`, never deleted: its reservations, usage
        # and audit trail keep naming it (and a deletion would not be audited).
        return False

    def save_model(self, request: HttpRequest, obj: Project, form: Any, change: bool) -> None:
        fields = {k: form.cleaned_data[k] for k in PROJECT_FIELDS if k in form.cleaned_data}
        # The service adds the leader to the members, whatever the form's selection.
        members = form.cleaned_data.get("members")
        if change:
            saved = project_update(actor=request.user, project=obj, members=members, **fields)
        else:
            saved = project_create(actor=request.user, members=members or (), **fields)
        obj.pk = saved.pk
        obj.confidential = saved.confidential
