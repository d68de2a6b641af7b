"""Partners, their projects and members, and what each person chose for themselves.

These tables were created by the reservations app; `db_table` keeps their names so that
moving the models here changed no row (see migrations/0001_take_over_tables.py).
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class ProjectKind(models.TextChoices):
    """A project's kind is the priority of its reservations: pedagogical first."""

    PEDAGOGICAL = "pedagogical", _("pedagogical")
    RESEARCH = "research", _("research")
    INDUSTRIAL = "industrial", _("industrial")


class Partner(models.Model):
    class Kind(models.TextChoices):
        UNIVERSITY = "university", _("university")
        SCHOOL = "school", _("school")
        RESEARCH_LAB = "research_lab", _("research lab")
        COMPANY = "company", _("company")
        CLUSTER = "cluster", _("cluster")
        TRAINING_BODY = "training_body", _("training body")
        OTHER = "other", _("other")

    class RateCategory(models.TextChoices):
        ACADEMIC = "academic", _("academic")
        INDUSTRIAL = "industrial", _("industrial")

    name = models.CharField(_("name"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    rate_category = models.CharField(
        _("rate category"), max_length=12, choices=RateCategory.choices
    )
    referents = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="referent_of",
        verbose_name=_("referents"),
    )
    # Lower-case domains ("univ-tours.fr"): a person whose first single sign-on login
    # carries an address of one of them, or of a subdomain, is affiliated to the partner.
    # partners.services keeps them valid and each domain to one partner.
    email_domains = models.JSONField(_("email domains"), default=list, blank=True)

    class Meta:
        db_table = "reservations_partner"
        ordering = ["name"]
        verbose_name = _("partner")
        verbose_name_plural = _("partners")

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=12, choices=ProjectKind.choices)
    partner = models.ForeignKey(
        Partner, on_delete=models.PROTECT, related_name="projects", verbose_name=_("partner")
    )
    leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="led_projects",
        verbose_name=_("leader"),
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="projects",
        verbose_name=_("members"),
    )
    description = models.TextField(_("description"), blank=True)
    active_from = models.DateField(_("active from"))
    active_until = models.DateField(_("active until"), null=True, blank=True)
    # Industrial projects are always confidential (enforced here and in the database).
    confidential = models.BooleanField(_("confidential"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        db_table = "reservations_project"
        ordering = ["name"]
        verbose_name = _("project")
        verbose_name_plural = _("projects")
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="industrial") | Q(confidential=True),
                name="project_industrial_is_confidential",
            ),
            models.CheckConstraint(
                condition=Q(active_until__isnull=True)
                | Q(active_until__gte=models.F("active_from")),
                name="project_active_period_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        if self.kind == ProjectKind.INDUSTRIAL:
            self.confidential = True
        super().save(*args, **kwargs)


def _new_feed_token() -> str:
    return secrets.token_urlsafe(32)


class FeedToken(models.Model):
    """A user's secret key for the iCalendar feeds; rotating it kills the old one."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="feed_token",
        verbose_name=_("user"),
    )
    key = models.CharField(_("key"), max_length=64, unique=True, default=_new_feed_token)
    created_at = models.DateTimeField(_("created at"), auto_now=True)

    class Meta:
        db_table = "reservations_feedtoken"
        verbose_name = _("feed token")
        verbose_name_plural = _("feed tokens")

    def __str__(self) -> str:
        return f"{self.user}"


class UserPreference(models.Model):
    """What a user chose for themselves: the language of their emails (and pages), the
    notifications they do not want by email, and whether emails carry the .ics (SPEC §12).
    partners.preferences reads and writes them."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="preference",
        verbose_name=_("user"),
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, blank=True)
    # Topics (partners.preferences.EmailTopic) turned off: every notification is on until
    # its user turns it off, so a new kind reaches everyone by default.
    emails_off = models.JSONField(_("emails turned off"), default=list, blank=True)
    attach_ics = models.BooleanField(_("attach the .ics to emails"), default=True)

    class Meta:
        db_table = "reservations_userpreference"
        verbose_name = _("user preference")
        verbose_name_plural = _("user preferences")

    def __str__(self) -> str:
        return f"{self.user}: {self.language or '-'}"


class Affiliation(models.Model):
    """A person belongs to a partner (its staff, students, employees) without any role:
    single sign-on attaches newcomers by their email's domain (SPEC §13). Rights come only
    from projects, referents and equipment managers, never from an affiliation."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="affiliations",
        verbose_name=_("user"),
    )
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, related_name="affiliations", verbose_name=_("partner")
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["partner__name"]
        verbose_name = _("affiliation")
        verbose_name_plural = _("affiliations")
        constraints = [models.UniqueConstraint(fields=["user", "partner"], name="affiliation_once")]

    def __str__(self) -> str:
        return f"{self.user} – {self.partner}"
