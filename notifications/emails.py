"""Emails about reservations, sent after the transaction commits."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from calendars.email_ics import email_calendar, email_method
from equipment.models import Equipment
from partners.services import user_language
from reservations.alternatives import suggest_alternatives
from reservations.models import Reservation

log = logging.getLogger(__name__)

SUBJECTS = {
    "created": lambda: _("Reservation confirmed"),
    "pending": lambda: _("Reservation awaiting approval"),
    "approved": lambda: _("Reservation approved"),
    "rejected": lambda: _("Reservation rejected"),
    "displaced": lambda: _("Reservation displaced by a teaching booking"),
    "closed": lambda: _("Reservation cancelled: the equipment is closed"),
    "moved": lambda: _("Reservation changed"),
    "cancelled": lambda: _("Reservation cancelled"),
    "reminder": lambda: _("Reminder: your reservation tomorrow"),
}


def _describe(reservation: Any) -> str:
    start = timezone.localtime(reservation.start)
    end = timezone.localtime(reservation.end)
    return _("%(title)s on %(equipment)s, %(day)s %(start)s–%(end)s") % {
        "title": reservation.title,
        "equipment": reservation.equipment.code,
        "day": date_format(start, "SHORT_DATE_FORMAT"),  # in the recipient's language
        "start": start.strftime("%H:%M"),
        "end": end.strftime("%H:%M"),
    }


def _alternatives_lines(reservation: Any, now: datetime) -> list[str]:
    """Free slots the owner of a displaced reservation may book instead."""
    options = suggest_alternatives(
        equipment=reservation.equipment,
        start=reservation.start,
        end=reservation.end,
        now=now,
        user=reservation.booked_by,
        project=reservation.project,
        kind=reservation.priority,
        limit=3,
    )
    if not options:
        return [_("  No free slot nearby: see the planning.")]
    codes = dict(
        Equipment.objects.filter(pk__in={o["equipment"] for o in options}).values_list("pk", "code")
    )
    lines = [_("  Free alternatives:")]
    for option in options:
        start = timezone.localtime(option["start"])
        end = timezone.localtime(option["end"])
        day = date_format(start, "SHORT_DATE_FORMAT")
        lines.append(f"  - {codes.get(option['equipment'], '?')} {day} {start:%H:%M}–{end:%H:%M}")
    return lines


# The event attached to each email: an invitation for live reservations, a cancellation
# for ended ones, with the same UID and SEQUENCE as the iCalendar feeds.
CALENDAR_EVENTS = {
    "created",
    "pending",
    "approved",
    "moved",
    "cancelled",
    "rejected",
    "displaced",
    "closed",
}


def _attach_calendars(message: EmailMessage, reservations: Sequence[Any]) -> None:
    items = [r for r in reservations if email_method(r) is not None]
    now = timezone.now()
    for reservation in items:
        method, ics = email_calendar(reservation, now=now)
        name = "reservation.ics" if len(items) == 1 else f"reservation-{reservation.pk}.ics"
        message.attach(name, ics.decode(), f"text/calendar; method={method}")


def build_messages(
    event: str, reservations: Sequence[Any], *, now: datetime | None = None
) -> list[EmailMessage]:
    """One email per recipient, listing their reservations concerned by the event."""
    by_user: dict[Any, list[Any]] = defaultdict(list)
    for reservation in reservations:
        if reservation.booked_by.email:
            by_user[reservation.booked_by].append(reservation)
    messages = []
    for user, items in by_user.items():
        # French by default, the recipient's own language when they chose one.
        with translation.override(user_language(user) or settings.LANGUAGE_CODE):
            kind = event
            if event == "created" and all(r.status == "pending" for r in items):
                kind = "pending"
            lines = []
            for reservation in items:
                lines.append(_describe(reservation))
                if event in ("displaced", "closed"):
                    lines += _alternatives_lines(reservation, now or timezone.now())
            body = "\n".join([_("Hello,"), "", *lines, "", settings.SITE_URL])
            message = EmailMessage(
                str(SUBJECTS[kind]()), body, settings.DEFAULT_FROM_EMAIL, [user.email]
            )
            if kind in CALENDAR_EVENTS:
                _attach_calendars(message, items)
            messages.append(message)
    return messages


def send_now(messages: list[EmailMessage]) -> int:
    """Send over one connection; the number sent."""
    if not messages:
        return 0
    return get_connection(fail_silently=False).send_messages(messages) or 0


def _with_relations(reservations: Sequence[Any]) -> list[Any]:
    """The same reservations, read again with what the emails show, in one query (rows
    from a status change come without their booker, equipment, site or project)."""
    loaded = ("booked_by", "equipment", "project")
    if all(all(f in r._state.fields_cache for f in loaded) for r in reservations):
        return list(reservations)  # fresh from the service (a booking): nothing to read
    ids = [r.pk for r in reservations]
    rows = Reservation.objects.select_related(
        "booked_by__preference", "equipment__site", "project__partner"
    ).in_bulk(ids)
    return [rows[pk] for pk in ids if pk in rows]


def notify_after_commit(
    event: str, reservations: Sequence[Any], *, now: datetime | None = None
) -> None:
    """Email the bookers once the transaction commits; `now` dates the alternatives
    offered with a displacement (the service's own time)."""
    if not reservations:
        return
    items = list(reservations)

    def send() -> None:
        try:
            send_now(build_messages(event, _with_relations(items), now=now))
        except Exception:  # an unreachable mail server must not break bookings
            log.exception("could not send %s notifications", event)

    transaction.on_commit(send)
