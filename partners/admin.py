"""Admin for partners and projects; every save goes through partners.services.

The services save the many-to-many fields too (referents, members), so `save_related`
saves only inline formsets: the form's own M2M save would bypass the service and could
drop a project's leader from its members.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from .models import Partner, Project
from .services import (
    PROJECT_FIELDS,
    normalize_email_domains,
    partner_create,
    partner_update,
    project_create,
    project_update,
)


class ServiceSavesRelated(admin.ModelAdmin):
    """An admin whose `save_model` hands the many-to-many fields to the service."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class DomainsField(forms.Field):
    """The partner's email domains as one line, separated by commas or spaces."""

    def prepare_value(self, value: Any) -> Any:
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        text = str(value or "")
        return [d for d in text.replace(",", " ").split() if d]


class PartnerForm(forms.ModelForm):
    email_domains = DomainsField(
        label=_("email domains"),
        required=False,
        help_text=_(
            "Separated by commas, e.g. univ-tours.fr, univ-orleans.fr: single sign-on "
            "attaches newcomers with such an address (or a subdomain's) to this partner."
        ),
    )

    class Meta:
        model = Partner
        fields = ["name", "kind", "rate_category", "referents", "email_domains"]

    def clean_email_domains(self) -> list[str]:
        # The service's own check, so that a taken domain is a message on the field.
        try:
            return normalize_email_domains(
                self.cleaned_data["email_domains"], partner=self.instance
            )
        except ValidationError as error:
            raise ValidationError(error.message_dict["email_domains"]) from error


@admin.register(Partner)
class PartnerAdmin(ServiceSavesRelated):
    form = PartnerForm
    list_display = ["name", "kind", "rate_category", "domains"]
    list_filter = ["kind", "rate_category"]
    search_fields = ["name"]
    filter_horizontal = ["referents"]

    @admin.display(description=_("email domains"))
    def domains(self, obj: Partner) -> str:
        return ", ".join(obj.email_domains or [])

    def save_model(self, request: HttpRequest, obj: Partner, form: Any, change: bool) -> None:
        keys = ("name", "kind", "rate_category", "email_domains")
        fields = {k: form.cleaned_data[k] for k in keys}
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
