"""Who a person is at each identity provider (SPEC §13).

A provider's stable identifier (CAS's user, SAML's persistent NameID or
eduPersonPrincipalName, OpenID Connect's issuer and `sub`) links its logins to one local
user. The email is never the link: an address changes (a marriage, a new domain) and may
be reused, so a changed address at the provider updates the user instead of creating one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Provider(models.TextChoices):
    CAS = "cas", "CAS"
    SAML = "saml", "SAML 2"
    OIDC = "oidc", "OpenID Connect"


class ExternalIdentity(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="external_identities",
        verbose_name=_("user"),
    )
    provider = models.CharField(_("identity provider"), max_length=8, choices=Provider.choices)
    # OpenID Connect's `sub` is unique per issuer only: its subject is "issuer sub".
    subject = models.CharField(_("identifier at the provider"), max_length=512)
    # The address the provider gave at the last login (the user's own may be edited here).
    email = models.EmailField(_("email at the provider"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    last_login_at = models.DateTimeField(_("last login"))

    class Meta:
        ordering = ["provider", "subject"]
        verbose_name = _("external identity")
        verbose_name_plural = _("external identities")
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="external_identity_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_provider_display()}: {self.subject}"
