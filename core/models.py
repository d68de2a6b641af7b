"""The one audit trail (SPEC §14): every change to what people book, close or are allowed.

It stands in `core`, below every app that writes to it (partners' projects, equipment
policy and qualifications, reservations and closures), so each records its changes in the
transaction that makes them. An entry names its object by kind and id rather than by a
foreign key: the trail outlives what it describes (a deleted closure keeps its history)
and a lower app never points at an upper one. `equipment_id` and `site_id` say which
equipment managers may read it (see `equipment.audit`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditObject(models.TextChoices):
    RESERVATION = "reservation", _("reservation")
    CLOSURE = "closure", _("closure")
    EQUIPMENT = "equipment", _("equipment")
    PROJECT = "project", _("project")
    QUALIFICATION = "qualification", _("qualification")
    WAITLIST_ENTRY = "waitlist_entry", _("waitlist entry")


class AuditEntry(models.Model):
    """One change: who, when, to what, what each changed field was and became, and why."""

    at = models.DateTimeField(_("at"), db_index=True)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty for the platform's own jobs."),
    )
    object_type = models.CharField(_("object type"), max_length=20, choices=AuditObject.choices)
    object_id = models.PositiveBigIntegerField(_("object id"))
    action = models.CharField(_("action"), max_length=20)
    # {field: [from, to]}, values as JSON (instants as UTC ISO 8601, amounts as strings).
    changes = models.JSONField(_("changes"), default=dict, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    # Rules a manager explicitly overrode for this change (their codes).
    overridden = models.JSONField(_("overridden rules"), default=list, blank=True)
    # Who may read it besides platform managers: the managers of this equipment, or for a
    # closure of a whole site, those of the site's equipment (neither: every site).
    equipment_id = models.PositiveBigIntegerField(_("equipment"), null=True, blank=True)
    site_id = models.PositiveBigIntegerField(_("site"), null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        indexes = [
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
            models.Index(fields=["equipment_id", "at"], name="audit_equipment"),
            models.Index(fields=["by", "at"], name="audit_by"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.object_type} {self.object_id} {self.action}"
