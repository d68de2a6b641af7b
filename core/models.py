"""The models every app may use, kept in `core` because it stands below them all.

- API tokens (SPEC §7, §13): stored as digests, revocable, void once the password changes.
- The one audit trail (SPEC §14): every change to what people book, close or are allowed.
  It stands in `core`, below every app that writes to it (partners' projects, equipment
  policy and qualifications, reservations and closures), so each records its changes in
  the transaction that makes them. An entry names its object by kind and id rather than by
  a foreign key: the trail outlives what it describes (a deleted closure keeps its history)
  and a lower app never points at an upper one. `equipment_id` and `site_id` say which
  equipment managers may read it (see `equipment.audit`).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def token_digest(key: str) -> str:
    """The stored form of a key: its SHA-256. Keys are 240 random bits, so no salt or slow
    hash is needed, and a lookup by digest reveals nothing about the key through timing."""
    return hashlib.sha256(key.encode()).hexdigest()


def password_fingerprint(user: Any) -> str:
    """A short digest of the user's password hash: changes whenever the password does."""
    return hash_fingerprint(user.password)


def hash_fingerprint(password_hash: str) -> str:
    """The fingerprint of a password hash (see `password_fingerprint`)."""
    return hashlib.sha256(f"api-token:{password_hash}".encode()).hexdigest()[:32]


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def valid_for(self, user: Any) -> ApiTokenQuerySet:
        """The user's tokens issued under their current password."""
        return self.filter(user=user, password_fingerprint=password_fingerprint(user))


class ApiToken(models.Model):
    digest = models.CharField(_("digest"), max_length=64, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_tokens",
        verbose_name=_("user"),
    )
    # The token dies with the password it was issued under, whatever changes it (the
    # password page, the admin, set_password, a reset, even an UPDATE). A rehash of the
    # same password at login (a Django upgrade) carries it over: see core.signals.
    password_fingerprint = models.CharField(max_length=32)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} ({timezone.localtime(self.created_at):%Y-%m-%d %H:%M})"

    @classmethod
    def issue(cls, user: Any) -> tuple[ApiToken, str]:
        """Create a token; answer it and its key, which exists nowhere else afterwards."""
        key = secrets.token_urlsafe(30)
        token = cls.objects.create(
            digest=token_digest(key), user=user, password_fingerprint=password_fingerprint(user)
        )
        return token, key

    def is_valid(self) -> bool:
        return self.user.is_active and secrets.compare_digest(
            self.password_fingerprint, password_fingerprint(self.user)
        )


class AuditObject(models.TextChoices):
    RESERVATION = "reservation", _("reservation")
    CLOSURE = "closure", _("closure")
    EQUIPMENT = "equipment", _("equipment")
    PROJECT = "project", _("project")
    QUALIFICATION = "qualification", _("qualification")
    WAITLIST_ENTRY = "waitlist_entry", _("waitlist entry")
    # A person: created by single sign-on, attached to a partner (SPEC §13).
    USER = "user", _("person")
    TRAINING_REQUEST = "training_request", _("training request")


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
        at = timezone.localtime(self.at)
        return f"{at:%Y-%m-%d %H:%M} {self.object_type} {self.object_id} {self.action}"
