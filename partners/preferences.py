"""What each user chooses to receive (SPEC §12): which notifications by email, in which
language, with or without the .ics. Kept here, below notifications, so that the account page
and the API of `partners` can edit them; `notifications` reads them at delivery."""

from __future__ import annotations

from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError

from .models import UserPreference
from .services import user_language, user_language_set


class EmailTopic(models.TextChoices):
    """The notifications a user may turn off, one switch each (all on by default)."""

    CONFIRMATION = "confirmation", gettext_lazy("Confirmations and changes of my bookings")
    PENDING_REQUEST = (
        "pending_request",
        gettext_lazy("Requests awaiting my approval (equipment I manage)"),
    )
    APPROVAL = "approval", gettext_lazy("Approval of my requests")
    REJECTION = "rejection", gettext_lazy("Rejection of my requests")
    DISPLACEMENT = "displacement", gettext_lazy("My bookings displaced, with alternatives")
    CANCELLATION = "cancellation", gettext_lazy("Cancellation of my bookings")
    REMINDER = "reminder", gettext_lazy("Reminder the day before")
    WAITLIST_BOOKED = "waitlist_booked", gettext_lazy("A waiting request of mine was booked")
    TRAINING_REQUEST = (
        "training_request",
        gettext_lazy("Training requests awaiting my decision (equipment I manage)"),
    )
    TRAINING_DECISION = (
        "training_decision",
        gettext_lazy("Decision on my training requests"),
    )


# Sent only to managers of some equipment: the account page offers them to managers only.
MANAGER_TOPICS = {EmailTopic.PENDING_REQUEST, EmailTopic.TRAINING_REQUEST}


def email_topics(user: Any) -> list[EmailTopic]:
    """The notifications the account page offers this user, in order: the approval and
    training requests only to a manager of some equipment (no one else is sent them). The
    API names every topic for everyone, so that its answer keeps one shape and a setting
    made before a user becomes a manager holds once they are."""
    manager = bool(getattr(user, "pk", None)) and user.managed_equipment.exists()
    return [topic for topic in EmailTopic if manager or topic not in MANAGER_TOPICS]


def notification_preferences(
    user: Any, *, topics: list[EmailTopic] | None = None
) -> dict[str, Any]:
    """`{language, attach_ics, email: {topic: bool}}` for this user (defaults when unset);
    `email` names the `topics` given (every topic unless given)."""
    preference = getattr(user, "preference", None) if user is not None else None
    off = set(preference.emails_off) if preference is not None else set()
    topics = list(EmailTopic) if topics is None else topics
    return {
        "language": user_language(user),
        "attach_ics": preference.attach_ics if preference is not None else True,
        "email": {topic.value: topic.value not in off for topic in topics},
    }


def wants_email(user: Any, topic: str) -> bool:
    preference = getattr(user, "preference", None)
    return preference is None or topic not in preference.emails_off


def wants_ics(user: Any) -> bool:
    preference = getattr(user, "preference", None)
    return preference is None or preference.attach_ics


@transaction.atomic
def notification_preferences_set(
    *,
    user: Any,
    language: str | None = None,
    attach_ics: bool | None = None,
    email: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Change what is given (None leaves it); `email` switches topics on or off by name
    (an unknown name is refused)."""
    unknown = sorted(set(email or {}) - set(EmailTopic.values))
    if unknown:  # refused before anything is written
        raise DomainError(
            "invalid",
            fields={"email": [_("Unknown notifications: %s.") % ", ".join(unknown)]},
        )
    if language is not None:
        user.preference = user_language_set(user=user, language=language)
    if attach_ics is not None or email:
        preference, _created = UserPreference.objects.select_for_update().get_or_create(user=user)
        if attach_ics is not None:
            preference.attach_ics = attach_ics
        if email:
            off = set(preference.emails_off)
            off |= {topic for topic, on in email.items() if not on}
            off -= {topic for topic, on in email.items() if on}
            preference.emails_off = sorted(off)
        preference.save(update_fields=["attach_ics", "emails_off"])
        user.preference = preference
    return notification_preferences(user)
