"""Emails about reservations and about the recipient's account (a password reset), rendered
at delivery in the recipient's language.

Nothing here sends: notifications.delivery claims the outbox rows, renders them with
`render` and sends them. `build_messages` renders the bookers' emails of an event directly
(the .ics tests use it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMessage
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.encoding import force_bytes
from django.utils.formats import date_format
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _

from calendars.email_ics import email_calendar, email_method
from equipment.models import Equipment
from partners.preferences import wants_ics
from partners.services import user_language
from reservations.alternatives import suggest_alternatives_many
from reservations.models import ReservationStatus
from waitlist.selectors import queued_for_displaced

from .models import Kind

SUBJECTS = {
    Kind.CONFIRMED: lambda: _("Reservation confirmed"),
    Kind.PENDING: lambda: _("Reservation awaiting approval"),
    Kind.PENDING_REQUEST: lambda: _("Reservation request to approve"),
    Kind.APPROVED: lambda: _("Reservation approved"),
    Kind.REJECTED: lambda: _("Reservation rejected"),
    Kind.DISPLACED: lambda: _("Reservation displaced by a teaching booking"),
    Kind.CLOSED: lambda: _("Reservation cancelled: the equipment is closed"),
    Kind.MOVED: lambda: _("Reservation changed"),
    Kind.CANCELLED: lambda: _("Reservation cancelled"),
    Kind.REMINDER: lambda: _("Reminder: your reservation tomorrow"),
    Kind.WAITLIST_BOOKED: lambda: _("Your waiting request is booked"),
    Kind.TRAINING_REQUEST: lambda: _("Training request to decide"),
    Kind.TRAINING_ACCEPTED: lambda: _("Training request accepted"),
    Kind.TRAINING_DECLINED: lambda: _("Training request declined"),
    Kind.PASSWORD_RESET: lambda: _("Reset your password"),
}

# The event attached to the booker's email: an invitation for live reservations, a
# cancellation for ended ones, with the same UID and SEQUENCE as the iCalendar feeds.
CALENDAR_KINDS = {
    Kind.CONFIRMED,
    Kind.PENDING,
    Kind.APPROVED,
    Kind.MOVED,
    Kind.CANCELLED,
    Kind.REJECTED,
    Kind.DISPLACED,
    Kind.CLOSED,
    Kind.WAITLIST_BOOKED,
}
# Displaced bookers are offered this many free slots instead.
ALTERNATIVES = 3
DISPLACEMENTS = {Kind.DISPLACED, Kind.CLOSED}
# What every rendered reservation needs, read in one query.
RELATED = ("booked_by__preference", "equipment__site", "project__partner")


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


def _alternatives_lines(options: list[dict[str, Any]], codes: dict[int, str]) -> list[str]:
    """Free slots the owner of a displaced reservation may book instead."""
    if not options:
        return [_("  No free slot nearby: see the planning.")]
    lines = [_("  Free alternatives:")]
    for option in options:
        start = timezone.localtime(option["start"])
        end = timezone.localtime(option["end"])
        day = date_format(start, "SHORT_DATE_FORMAT")
        lines.append(f"  - {codes.get(option['equipment'], '?')} {day} {start:%H:%M}–{end:%H:%M}")
    return lines


class Alternatives:
    """The alternatives of many displaced reservations, computed together (see
    reservations.alternatives.suggest_alternatives_many) with the codes of every equipment
    they name read in one query."""

    def __init__(self) -> None:
        self.options: dict[int, list[dict[str, Any]]] = {}
        self.codes: dict[int, str] = {}

    def add(self, reservations: Sequence[Any], *, now: datetime) -> None:
        todo = [r for r in reservations if r.pk not in self.options]
        if not todo:
            return
        by_now = suggest_alternatives_many(todo, now=now, limit=ALTERNATIVES)
        wanted = {o["equipment"] for options in by_now.values() for o in options} - set(self.codes)
        codes = Equipment.objects.filter(pk__in=wanted).values_list("pk", "code") if wanted else []
        # Kept only once both are known: a failure leaves nothing half done.
        self.codes.update(codes)
        self.options.update(by_now)

    def lines(self, reservation: Any) -> list[str]:
        return _alternatives_lines(self.options.get(reservation.pk, []), self.codes)


def render(
    kind: str,
    recipient: Any,
    reservations: Sequence[Any],
    *,
    now: datetime,
    reason: str = "",
    alternatives: Alternatives | None = None,
    headers: dict[str, str] | None = None,
    language: str = "",
) -> EmailMessage:
    """The email telling `recipient` of `kind` about these reservations, in their language."""
    # The recipient's own language when they chose one, else the language of the request
    # that caused it (when known), else French.
    with translation.override(email_language(recipient, language)):
        lines = []
        if kind == Kind.PENDING_REQUEST:
            lines += [_("These reservations wait for your approval:"), ""]
        if kind == Kind.WAITLIST_BOOKED:
            lines += [_("Time you were waiting for became free: it is booked for you."), ""]
        queued = queued_for_displaced(r.pk for r in reservations) if kind in DISPLACEMENTS else ()
        for reservation in reservations:
            lines.append(_describe(reservation))
            if kind == Kind.WAITLIST_BOOKED and reservation.status == ReservationStatus.PENDING:
                lines.append(_("  It awaits the approval of the equipment's managers."))
            if reservation.pk in queued:
                lines.append(
                    _(
                        "  You are on the waiting list for this slot, ahead of the requests "
                        "of the same kind: should it free up, it will be booked for you."
                    )
                )
            if kind == Kind.PENDING_REQUEST:
                booker = reservation.booked_by
                lines.append(
                    _("  requested by %(name)s for %(project)s")
                    % {
                        "name": booker.get_full_name() or booker.get_username(),
                        "project": reservation.project.name,
                    }
                )
            if kind in DISPLACEMENTS and alternatives is not None:
                lines += alternatives.lines(reservation)
        if reason:
            lines += ["", _("Reason: %(reason)s") % {"reason": reason}]
        link = settings.SITE_URL
        if kind == Kind.PENDING_REQUEST:
            link += reverse("web:approvals")
        body = "\n".join([_("Hello,"), "", *lines, "", link])
        message = EmailMessage(
            str(SUBJECTS[Kind(kind)]()),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [recipient.email],
            headers=headers,
        )
        if kind in CALENDAR_KINDS and wants_ics(recipient):
            _attach_calendars(message, reservations)
    return message


def email_language(recipient: Any, language: str = "") -> str:
    """The recipient's choice, else `language` (the asking request's) if offered, else the
    platform's."""
    if not language or language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    return user_language(recipient) or language


def render_account(
    kind: str, recipient: Any, *, language: str = "", headers: dict[str, str] | None = None
) -> EmailMessage:
    """An email about the recipient's account (ACCOUNT_KINDS): the password reset link.

    The link is made now, at delivery, and nowhere stored: Django's token (the user's id,
    the time, a digest of their password hash, last login and email) works until
    PASSWORD_RESET_TIMEOUT from now, and no longer once the password changed (once used).
    """
    if kind != Kind.PASSWORD_RESET:
        raise ValueError(f"not an account kind: {kind!r}")
    with translation.override(email_language(recipient, language)):
        path = reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(recipient.pk)),
                "token": default_token_generator.make_token(recipient),
            },
        )
        until = timezone.localtime(
            timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
        )
        lines = [
            _("Hello,"),
            "",
            _(
                "Someone, probably you, asked to reset the password of your account "
                "%(username)s on the equipment booking platform. To choose a new password, "
                "open this link:"
            )
            % {"username": recipient.get_username()},
            "",
            settings.SITE_URL + path,
            "",
            _("The link works once, until %(until)s.")
            % {"until": date_format(until, "SHORT_DATETIME_FORMAT")},
            _("If you did not ask for it, ignore this email: your password stays as it is."),
        ]
        return EmailMessage(
            str(SUBJECTS[Kind(kind)]()),
            "\n".join(lines),
            settings.DEFAULT_FROM_EMAIL,
            [recipient.email],
            headers=headers,
        )


def _attach_calendars(message: EmailMessage, reservations: Sequence[Any]) -> None:
    items = [r for r in reservations if email_method(r) is not None]
    now = timezone.now()  # DTSTAMP: when the message is made (RFC 5546)
    for reservation in items:
        method, ics = email_calendar(reservation, now=now)
        name = "reservation.ics" if len(items) == 1 else f"reservation-{reservation.pk}.ics"
        message.attach(name, ics.decode(), f"text/calendar; method={method}")


def booker_kind(event: str, reservations: Sequence[Any]) -> str:
    """A booking tells its booker "confirmed", or "awaiting approval" when all wait."""
    if event == Kind.CONFIRMED and all(r.status == ReservationStatus.PENDING for r in reservations):
        return Kind.PENDING
    return event


def build_messages(
    event: str, reservations: Sequence[Any], *, now: datetime | None = None
) -> list[EmailMessage]:
    """One email per booker, listing their reservations concerned by the event."""
    now = now or timezone.now()
    by_user: dict[Any, list[Any]] = defaultdict(list)
    for reservation in reservations:
        if reservation.booked_by.email:
            by_user[reservation.booked_by].append(reservation)
    alternatives = Alternatives()
    if event in DISPLACEMENTS:
        alternatives.add(list(reservations), now=now)
    return [
        render(booker_kind(event, items), user, items, now=now, alternatives=alternatives)
        for user, items in by_user.items()
    ]


def render_training(
    kind: str,
    recipient: Any,
    request: Any,
    *,
    reason: str = "",
    headers: dict[str, str] | None = None,
) -> EmailMessage:
    """The email telling `recipient` of a training request (`kind` one of the training
    kinds), in their language: to a manager, who asks and the link to the queue; to the
    requester, the validity date granted or the reason for declining."""
    with translation.override(email_language(recipient)):
        equipment = request.equipment
        names = {"equipment": f"{equipment.code} – {equipment.name}"}
        link = settings.SITE_URL
        if kind == Kind.TRAINING_REQUEST:
            requester = request.user
            lines = [
                _("%(name)s asks to be trained on %(equipment)s.")
                % {**names, "name": requester.get_full_name() or requester.get_username()}
            ]
            if request.message:
                lines += ["", _("Their message: %(message)s") % {"message": request.message}]
            link += reverse("web:training_queue")
        elif kind == Kind.TRAINING_ACCEPTED:
            day = date_format(request.valid_until, "DATE_FORMAT")  # in the recipient's language
            lines = [
                _(
                    "Your training request for %(equipment)s is accepted: you are qualified "
                    "until %(day)s and may book it."
                )
                % {**names, "day": day}
            ]
            link += reverse("equipment:detail", args=[equipment.pk])
        else:
            lines = [_("Your training request for %(equipment)s is declined.") % names]
            if reason:
                lines += ["", _("Reason: %(reason)s") % {"reason": reason}]
            link += reverse("equipment:detail", args=[equipment.pk])
        body = "\n".join([_("Hello,"), "", *lines, "", link])
        return EmailMessage(
            str(SUBJECTS[Kind(kind)]()),
            body,
            settings.DEFAULT_FROM_EMAIL,
            [recipient.email],
            headers=headers,
        )
