"""Emails about reservations, sent after the transaction commits."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.core.mail import send_mass_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

SUBJECTS = {
    "created": lambda: _("Reservation confirmed"),
    "pending": lambda: _("Reservation awaiting approval"),
    "approved": lambda: _("Reservation approved"),
    "rejected": lambda: _("Reservation rejected"),
    "displaced": lambda: _("Reservation displaced by a teaching booking"),
    "cancelled": lambda: _("Reservation cancelled"),
    "reminder": lambda: _("Reminder: your reservation tomorrow"),
}


def _describe(reservation: Any) -> str:
    start = timezone.localtime(reservation.start)
    end = timezone.localtime(reservation.end)
    return _("%(title)s on %(equipment)s, %(day)s %(start)s–%(end)s") % {
        "title": reservation.title,
        "equipment": reservation.equipment.code,
        "day": start.strftime("%d/%m/%Y"),
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
    }


def build_messages(
    event: str, reservations: Sequence[Any]
) -> list[tuple[str, str, str, list[str]]]:
    """One email per recipient, listing their reservations concerned by the event."""
    by_user: dict[Any, list[Any]] = defaultdict(list)
    for reservation in reservations:
        if reservation.booked_by.email:
            by_user[reservation.booked_by].append(reservation)
    messages = []
    with translation.override(settings.LANGUAGE_CODE):
        for user, items in by_user.items():
            kind = event
            if event == "created" and all(r.status == "pending" for r in items):
                kind = "pending"
            lines = [_describe(r) for r in items]
            body = "\n".join([_("Hello,"), "", *lines, "", settings.SITE_URL])
            messages.append(
                (str(SUBJECTS[kind]()), body, settings.DEFAULT_FROM_EMAIL, [user.email])
            )
    return messages


def send_now(messages: list[tuple[str, str, str, list[str]]]) -> int:
    return send_mass_mail(messages, fail_silently=False) if messages else 0


def notify_after_commit(event: str, reservations: Sequence[Any]) -> None:
    if not reservations:
        return
    items = list(reservations)

    def send() -> None:
        try:
            send_mass_mail(build_messages(event, items), fail_silently=False)
        except Exception:  # an unreachable mail server must not break bookings
            log.exception("could not send %s notifications", event)

    transaction.on_commit(send)
