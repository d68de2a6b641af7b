"""The outbox (SPEC §12): one row per notification, written in the transaction of the change
it reports, delivered later by the worker (notifications.delivery)."""

from __future__ import annotations

from datetime import datetime
from email.utils import parseaddr

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from partners.preferences import EmailTopic


class Kind(models.TextChoices):
    CONFIRMED = "created", _("confirmation")
    PENDING = "pending", _("request awaiting approval (to the booker)")
    PENDING_REQUEST = "pending_request", _("request to approve (to the equipment's managers)")
    APPROVED = "approved", _("approval")
    REJECTED = "rejected", _("rejection")
    DISPLACED = "displaced", _("displacement by a teaching booking")
    CLOSED = "closed", _("displacement by a closure")
    MOVED = "moved", _("change of times")
    CANCELLED = "cancelled", _("cancellation")
    REMINDER = "reminder", _("reminder")
    # Reserved for the waitlist (issue 14): a waiting request was booked.
    WAITLIST_BOOKED = "waitlist_booked", _("waitlist request booked")
    # About the recipient's account, not reservations (SPEC §13): no `reservation_ids`.
    PASSWORD_RESET = "password_reset", _("password reset")
    # Training requests (SPEC §13): about `training_request`, not reservations.
    TRAINING_REQUEST = "training_request", _("training request to decide (to the managers)")
    TRAINING_ACCEPTED = "training_accepted", _("training request accepted")
    TRAINING_DECLINED = "training_declined", _("training request declined")


TRAINING_KINDS = {Kind.TRAINING_REQUEST, Kind.TRAINING_ACCEPTED, Kind.TRAINING_DECLINED}


# Kinds about the recipient's account: they name no reservation, and the recipient cannot
# turn them off (they answer the recipient's own request).
ACCOUNT_KINDS = {Kind.PASSWORD_RESET}


# The user's email preference (partners.preferences.EmailTopic) each reservation kind answers
# to; the account kinds (ACCOUNT_KINDS) answer to none and are always sent.
TOPIC = {
    Kind.CONFIRMED: EmailTopic.CONFIRMATION,
    Kind.PENDING: EmailTopic.CONFIRMATION,
    Kind.MOVED: EmailTopic.CONFIRMATION,
    Kind.PENDING_REQUEST: EmailTopic.PENDING_REQUEST,
    Kind.APPROVED: EmailTopic.APPROVAL,
    Kind.REJECTED: EmailTopic.REJECTION,
    Kind.DISPLACED: EmailTopic.DISPLACEMENT,
    Kind.CLOSED: EmailTopic.DISPLACEMENT,
    Kind.CANCELLED: EmailTopic.CANCELLATION,
    Kind.REMINDER: EmailTopic.REMINDER,
    Kind.WAITLIST_BOOKED: EmailTopic.WAITLIST_BOOKED,
    Kind.TRAINING_REQUEST: EmailTopic.TRAINING_REQUEST,
    Kind.TRAINING_ACCEPTED: EmailTopic.TRAINING_DECISION,
    Kind.TRAINING_DECLINED: EmailTopic.TRAINING_DECISION,
}


class Status(models.TextChoices):
    PENDING = "pending", _("to send")
    SENT = "sent", _("sent")
    FAILED = "failed", _("failed")
    # Turned off by the recipient, no address, nothing left to tell…: `last_error` says why.
    SKIPPED = "skipped", _("not sent")


class Notification(models.Model):
    """What to tell whom: rendered into an email only at delivery, in the recipient's
    language and with their preferences of then."""

    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    reservation_ids = models.JSONField(_("reservations"), default=list)
    # The clock of the service that made the change (alternatives are dated by it).
    event_at = models.DateTimeField(_("event at"))
    reason = models.TextField(_("reason"), blank=True)
    # The language of the request that caused the row ("" when none): the email's language
    # when the recipient chose none (a password reset asked for from an English page).
    language = models.CharField(_("language"), max_length=10, blank=True, default="")
    # For the training kinds, the request they tell of (its reservation_ids stay empty).
    training_request = models.ForeignKey(
        "equipment.TrainingRequest",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("training request"),
    )
    # Set for notifications that must exist once only (a day's reminder).
    key = models.CharField(_("key"), max_length=100, null=True, blank=True, unique=True)

    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"))
    # A worker delivering the row owns it until then (see delivery.claim).
    leased_until = models.DateTimeField(_("leased until"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="notification_due",
                condition=Q(status="pending"),
            ),
            models.Index(fields=["status", "created_at"], name="notification_status"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} → {self.recipient_id} ({self.status})"

    @property
    def message_id(self) -> str:
        """The same Message-ID at every try, so that a repeated delivery is recognisable."""
        # The address of "Plateforme <plateforme@example.org>" too, not its display name.
        _name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
        _local, at, domain = address.rpartition("@")
        return f"<notification-{self.pk}@{domain if at and domain else 'localhost'}>"


DISABLED_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
# Stored as is, shown translated to platform managers (as delivery's reasons for skipping).
SWITCHED_OFF = gettext_noop("emails are switched off (dummy backend)")


def new_notification(
    kind: str,
    user_id: int,
    reservation_ids: list[int],
    *,
    event_at: datetime,
    reason: str,
    language: str = "",
    training_request_id: int | None = None,
) -> Notification:
    """An unsaved outbox row, due at once."""
    clock = timezone.now()  # the outbox runs on the real clock, whatever the service's
    # With emails switched off (the demo loader) there is nothing to deliver, ever.
    off = settings.EMAIL_BACKEND == DISABLED_BACKEND
    return Notification(
        kind=kind,
        recipient_id=user_id,
        reservation_ids=reservation_ids,
        event_at=event_at,
        reason=reason,
        language=language,
        training_request_id=training_request_id,
        status=Status.SKIPPED if off else Status.PENDING,
        last_error=SWITCHED_OFF if off else "",
        next_attempt_at=clock,
        created_at=clock,
    )
