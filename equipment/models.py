"""Inventory: sites, categories, equipment and qualifications."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .documents import extension_of, private_storage
from .policy import Policy, effective_policy, overrides_key


class Site(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    city = models.CharField(_("city"), max_length=120)
    address = models.CharField(_("address"), max_length=255, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("site")
        verbose_name_plural = _("sites")

    def __str__(self) -> str:
        return self.name


class Category(models.Model):
    name = models.CharField(_("name"), max_length=120, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class Equipment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        MAINTENANCE = "maintenance", _("maintenance")
        RETIRED = "retired", _("retired")

    code = models.CharField(
        _("inventory code"),
        max_length=40,
        unique=True,
        help_text=_("Unique inventory code, e.g. WL-HPLC-01."),
    )
    name = models.CharField(_("name"), max_length=200)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="equipment", verbose_name=_("category")
    )
    site = models.ForeignKey(
        Site, on_delete=models.PROTECT, related_name="equipment", verbose_name=_("site")
    )
    room = models.CharField(_("room"), max_length=120, blank=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.ACTIVE
    )
    owner_partner = models.ForeignKey(
        "partners.Partner",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="owned_equipment",
        verbose_name=_("owning partner"),
    )
    requires_qualification = models.BooleanField(_("requires a qualification"), default=False)
    requires_check_in = models.BooleanField(_("requires check-in"), default=False)
    rate_teaching = models.DecimalField(
        _("teaching rate (€/h)"),
        max_digits=9,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    rate_academic = models.DecimalField(
        _("academic rate (€/h)"),
        max_digits=9,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    rate_industrial = models.DecimalField(
        _("industrial rate (€/h)"),
        max_digits=9,
        decimal_places=2,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    managers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="managed_equipment",
        verbose_name=_("managers"),
    )
    # Only the settings this equipment overrides; see equipment.policy.
    policy_overrides = models.JSONField(_("policy overrides"), default=dict, blank=True)
    calendar = models.OneToOneField(
        "schedule.Calendar",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="equipment",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("equipment")
        verbose_name_plural = pgettext_lazy("plural", "equipment")
        constraints = [
            models.CheckConstraint(
                condition=Q(rate_teaching__gte=0)
                & Q(rate_academic__gte=0)
                & Q(rate_industrial__gte=0),
                name="equipment_rates_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} – {self.name}"

    @property
    def policy(self) -> Policy:
        """The effective policy, computed once per instance for the same overrides.

        Pages and services read it many times per row; the merge deep-copies the
        platform defaults, so it is kept with the overrides it came from.
        """
        key = overrides_key(self.policy_overrides)
        cached = self.__dict__.get("_policy_cache")
        if cached is None or cached[0] != key:
            cached = (key, effective_policy(self.policy_overrides))
            self.__dict__["_policy_cache"] = cached
        return cached[1]

    @classmethod
    def load_policies(cls, items: Iterable[Equipment]) -> None:
        """Give many equipment their effective policy at once, merging each distinct set of
        overrides once: a page of 200 equipment sharing a few policies deep-copies the
        defaults a few times, not 200 (`policy` then finds it in its cache). Equipment with
        equal overrides share one Policy, which is frozen and only read."""
        merged: dict[str, Policy] = {}
        for item in items:
            key = overrides_key(item.policy_overrides)
            policy = merged.get(key)
            if policy is None:
                policy = merged[key] = effective_policy(item.policy_overrides)
            item.__dict__["_policy_cache"] = (key, policy)

    @property
    def rates(self) -> dict[str, Decimal]:
        return {
            "teaching": self.rate_teaching,
            "academic": self.rate_academic,
            "industrial": self.rate_industrial,
        }


class Qualification(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="qualifications",
        verbose_name=_("user"),
    )
    equipment = models.ForeignKey(
        Equipment,
        on_delete=models.CASCADE,
        related_name="qualifications",
        verbose_name=_("equipment"),
    )
    valid_until = models.DateField(_("valid until"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("granted by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["equipment__code", "user__username"]
        verbose_name = _("qualification")
        verbose_name_plural = _("qualifications")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "equipment"], name="qualification_one_per_user_equipment"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} – {self.equipment.code} ({self.valid_until})"


def document_path(document: EquipmentDocument, filename: str) -> str:
    """Where a document's file is stored: under its equipment, by a random name (the name
    given at upload is kept in `original_filename`, never used as a path)."""
    return f"equipment/{document.equipment_id}/{uuid.uuid4().hex}{extension_of(filename)}"


class EquipmentDocument(models.Model):
    """A file the equipment's managers attach: an operating procedure, a safety data sheet,
    a manual (SPEC §13). Any logged-in user reads it; only through a view that checks."""

    class Kind(models.TextChoices):
        PROCEDURE = "procedure", _("operating procedure")
        SAFETY_DATA_SHEET = "safety_data_sheet", _("safety data sheet")
        MANUAL = "manual", _("manual")
        OTHER = "other", _("other")

    equipment = models.ForeignKey(
        Equipment,
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("equipment"),
    )
    title = models.CharField(_("title"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    file = models.FileField(
        _("file"), upload_to=document_path, storage=private_storage, max_length=255
    )
    original_filename = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        ordering = ["equipment_id", "title", "pk"]
        verbose_name = _("equipment document")
        verbose_name_plural = _("equipment documents")

    def __str__(self) -> str:
        return f"{self.title} ({self.original_filename})"


class TrainingRequest(models.Model):
    """A user's request to be trained on an equipment that requires a qualification (SPEC §13).

    Its managers accept it with a validity date, which grants the qualification, or decline
    it with a reason; the requester may cancel it while it waits.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        CANCELLED = "cancelled", _("cancelled")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="training_requests",
        verbose_name=_("user"),
    )
    equipment = models.ForeignKey(
        Equipment,
        on_delete=models.CASCADE,
        related_name="training_requests",
        verbose_name=_("equipment"),
    )
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    message = models.TextField(_("message"), blank=True, max_length=2000)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True, max_length=2000)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("training request")
        verbose_name_plural = _("training requests")
        constraints = [
            # Two requests of one user waiting on one equipment would be decided twice.
            models.UniqueConstraint(
                fields=["user", "equipment"],
                condition=Q(status="pending"),
                name="training_request_one_pending",
            ),
        ]
        indexes = [models.Index(fields=["equipment", "status"], name="training_request_queue")]

    def __str__(self) -> str:
        return f"{self.user} – {self.equipment.code} ({self.status})"
