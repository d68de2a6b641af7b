"""API tokens (SPEC §7, §13): stored as digests, revocable, void once the password changes."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def token_digest(key: str) -> str:
    """The stored form of a key: its SHA-256. Keys are 240 random bits, so no salt or slow
    hash is needed, and a lookup by digest reveals nothing about the key through timing."""
    return hashlib.sha256(key.encode()).hexdigest()


def password_fingerprint(user: Any) -> str:
    """A short digest of the user's password hash: changes whenever the password does."""
    return hashlib.sha256(f"api-token:{user.password}".encode()).hexdigest()[:32]


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
    # password page, the admin, set_password, a reset, even an UPDATE).
    password_fingerprint = models.CharField(max_length=32)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.user} ({self.created_at:%Y-%m-%d %H:%M})"

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
