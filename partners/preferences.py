"""What each user chooses to receive (SPEC §12): which notifications by email, in which
language, with or without the .ics. Kept here, below notifications, so that the account page
and the API of `partners` can edit them; `notifications` reads them at delivery."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import DomainError

from .models import UserPreference


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


def notification_preferences(user: Any) -> dict[str, Any]:
    """`{language, attach_ics, email: {topic: bool}}` for this user (defaults when unset)."""
    preference = getattr(user, "preference", None) if user is not None else None
    off = set(preference.emails_off) if preference is not None else set()
    return {
        "language": (preference.language or None) if preference is not None else None,
        "attach_ics": preference.attach_ics if preference is not None else True,
        "email": {topic.value: topic.value not in off for topic in EmailTopic},
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
    email: dict[str, bool] | None = None,
) -> dict[str, Any]:
    """Change what is given (None leaves it); `email` switches topics on or off by name."""
    if language is not None and language and language not in dict(settings.LANGUAGES):
        raise DomainError(
            "invalid",
            fields={"language": [_("Choose one of: %s.") % ", ".join(dict(settings.LANGUAGES))]},
        )
    unknown = sorted(set(email or {}) - set(EmailTopic.values))
    if unknown:
        raise DomainError(
            "invalid",
            fields={"email": [_("Unknown notifications: %s.") % ", ".join(unknown)]},
        )
    preference, _created = UserPreference.objects.select_for_update().get_or_create(user=user)
    if language is not None:
        preference.language = language
    if attach_ics is not None:
        preference.attach_ics = attach_ics
    if email:
        off = set(preference.emails_off)
        off |= {topic for topic, on in email.items() if not on}
        off -= {topic for topic, on in email.items() if on}
        preference.emails_off = sorted(off)
    preference.save()
    user.preference = preference
    return notification_preferences(user)
