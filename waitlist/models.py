"""Waitlist entries (SPEC §10): a user queued for time that was taken when they asked."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.models import Project, ProjectKind


class EntryStatus(models.TextChoices):
    WAITING = "waiting", _("waiting")
    BOOKED = "booked", _("booked")
    EXPIRED = "expired", _("expired")
    CANCELLED = "cancelled", _("cancelled")


class WaitlistEntry(models.Model):
    """One user waiting for one slot of one equipment, for a project.

    Promotion order (waitlist.selectors.promotion_order): the project's kind when queued
    (pedagogical > research > industrial), then the owners of displaced reservations, then
    the oldest.

    A session (several equipment at once) is queued as one group: an entry per equipment,
    with the same times and the same `group`; the group is booked, cancelled and expired
    only as a whole.
    """

    equipment = models.ForeignKey(
        "equipment.Equipment",
        on_delete=models.PROTECT,
        related_name="waitlist_entries",
        verbose_name=_("equipment"),
    )
    project = models.ForeignKey(
        Project,
        on_delete=models.PROTECT,
        related_name="waitlist_entries",
        verbose_name=_("project"),
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="waitlist_entries",
        verbose_name=_("queued by"),
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    title = models.CharField(_("title"), max_length=200)
    expected_participants = models.PositiveIntegerField(_("expected participants"), default=1)
    status = models.CharField(
        _("status"), max_length=10, choices=EntryStatus.choices, default=EntryStatus.WAITING
    )
    # The project's kind when queued.
    priority = models.CharField(_("priority"), max_length=12, choices=ProjectKind.choices)
    # Queued by the platform because a teaching booking or a closure displaced the owner's
    # reservation: ahead of the entries of the same kind.
    displaced = models.BooleanField(_("displaced"), default=False)
    reservation = models.ForeignKey(
        "reservations.Reservation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="waitlist_entries",
        verbose_name=_("reservation"),
    )
    displaced_reservation = models.ForeignKey(
        "reservations.Reservation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("displaced reservation"),
    )
    # The session's group: the entries of one session share it; None for a single entry.
    group = models.UUIDField(_("session group"), null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        ordering = ["start", "id"]
        verbose_name = _("waitlist entry")
        verbose_name_plural = _("waitlist entries")
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")), name="waitlist_start_before_end"
            ),
        ]
        indexes = [
            # The waiting entries of an equipment overlapping a freed window (promotion,
            # positions): few rows, the history of booked and expired ones left out.
            models.Index(
                fields=["equipment", "start", "end"],
                condition=Q(status="waiting"),
                name="waitlist_waiting_window",
            ),
            # A user's waiting entries (the limit of 20) and their list.
            models.Index(fields=["booked_by", "status"], name="waitlist_user_status"),
            # Expiry: the waiting entries by start.
            models.Index(
                fields=["start"], condition=Q(status="waiting"), name="waitlist_waiting_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({timezone.localtime(self.start):%Y-%m-%d %H:%M}, {self.status})"
