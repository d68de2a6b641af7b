"""The .ics carried by reservation emails: REQUEST for live bookings, CANCEL for ended
ones, with the UID and SEQUENCE of the feeds (RFC 5546)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.test import Client
from icalendar import Calendar

from notifications.emails import build_messages
from partners.services import feed_token_for, user_language_set
from reservations.services import (
    closure_create,
    reservation_approve,
    reservation_cancel,
    reservation_create,
    reservation_reject,
    reservation_update,
)

from .ics import parse_all

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)  # a Monday
HOST = "booking.example.org"
PLATFORM = "plateforme@example.org"


@pytest.fixture(autouse=True)
def setup(settings, campus, monkeypatch):
    monkeypatch.setattr("calendars.views.timezone.now", lambda: NOW)
    settings.SITE_URL = f"https://{HOST}"
    settings.DEFAULT_FROM_EMAIL = PLATFORM
    for user in (campus.researcher, campus.industrial, campus.teacher):
        user.email = f"{user.username}@example.org"
        user.save()


def at(year: int, month: int, day: int, hour: int) -> datetime:
    return datetime(year, month, day, hour, tzinfo=PARIS)


def book(capture, user, project, equipment, start, *, now=NOW, **extra):
    with capture(execute=True):
        return reservation_create(
            user=user,
            project=project,
            equipment=[equipment],
            start=start,
            end=start + timedelta(hours=2),
            title="Mesures",
            now=now,
            **extra,
        ).reservations


def sent_to(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


def invitation(message, method: str, name: str = "reservation.ics") -> bytes:
    """The message's one calendar attachment, checked as a MIME part too."""
    ((filename, content, mimetype),) = message.attachments
    assert (filename, mimetype) == (name, f"text/calendar; method={method}")
    parts = [p for p in message.message().walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    assert parts[0].get_param("method") == method
    assert parts[0].get_content_charset() == "utf-8"
    assert parts[0].get_filename() == name
    body = content.encode()
    assert str(Calendar.from_ical(body)["METHOD"]) == method
    return body


def the_event(body: bytes):
    (event,) = Calendar.from_ical(body).walk("VEVENT")
    return event


def feed_event(campus, user, reservation) -> dict:
    key = feed_token_for(user=user).key
    response = Client().get(f"/calendars/equipment/{reservation.equipment_id}.ics?token={key}")
    return parse_all(response.content)[f"reservation-{reservation.pk}@{HOST}"]


def test_confirmation_carries_an_invitation_with_the_feeds_uid_and_sequence(
    campus, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    (booked,) = book(
        django_capture_on_commit_callbacks,
        campus.researcher,
        campus.research,
        campus.rheometer,
        at(2026, 3, 30, 9),
    )

    (message,) = sent_to(campus.researcher)
    assert "Mesures" in message.body  # the text is unchanged
    body = invitation(message, "REQUEST")
    events = parse_all(body)
    assert events == {
        f"reservation-{booked.pk}@{HOST}": {
            # Monday after the spring change: 09:00 in Paris is 07:00Z.
            "start": datetime(2026, 3, 30, 7, tzinfo=UTC),
            "end": datetime(2026, 3, 30, 9, tzinfo=UTC),
            "status": "CONFIRMED",
            "sequence": 0,
            "summary": "Mesures",
        }
    }
    assert events[f"reservation-{booked.pk}@{HOST}"] == feed_event(
        campus, campus.researcher, booked
    )
    event = the_event(body)
    assert str(event["ORGANIZER"]) == f"mailto:{PLATFORM}"
    assert str(event["ATTENDEE"]) == "mailto:chercheur@example.org"
    assert event["ATTENDEE"].params["PARTSTAT"] == "ACCEPTED"
    assert b"TZID:Europe/Paris" in body


def test_autumn_booking_invitation_is_in_winter_time(campus, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    book(
        django_capture_on_commit_callbacks,
        campus.teacher,
        campus.teaching,
        campus.rheometer,
        at(2026, 10, 26, 9),
    )
    (message,) = sent_to(campus.teacher)
    (event,) = parse_all(invitation(message, "REQUEST")).values()
    assert event["start"] == datetime(2026, 10, 26, 8, tzinfo=UTC)


def test_pending_request_then_approval(campus, django_capture_on_commit_callbacks):
    mail.outbox.clear()
    (pending,) = book(
        django_capture_on_commit_callbacks,
        campus.industrial,
        campus.confidential,
        campus.rheometer,
        at(2026, 3, 25, 10),
    )
    (first,) = sent_to(campus.industrial)
    (event,) = parse_all(invitation(first, "REQUEST")).values()
    assert (event["status"], event["sequence"]) == ("TENTATIVE", 0)

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reservation_approve(reservation=pending, user=campus.admin, now=NOW + timedelta(hours=1))
    (approval,) = sent_to(campus.industrial)
    events = parse_all(invitation(approval, "REQUEST"))
    (key,) = events
    assert key == f"reservation-{pending.pk}@{HOST}"
    assert (events[key]["status"], events[key]["sequence"]) == ("CONFIRMED", 1)


def test_rejection_is_a_cancel(campus, django_capture_on_commit_callbacks):
    (pending,) = book(
        django_capture_on_commit_callbacks,
        campus.industrial,
        campus.confidential,
        campus.rheometer,
        at(2026, 3, 25, 10),
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reservation_reject(
            reservation=pending, user=campus.admin, now=NOW + timedelta(hours=1), reason="Non"
        )
    (message,) = sent_to(campus.industrial)
    events = parse_all(invitation(message, "CANCEL"))
    assert events[f"reservation-{pending.pk}@{HOST}"]["status"] == "CANCELLED"
    assert events[f"reservation-{pending.pk}@{HOST}"]["sequence"] == 1


def test_cancellation_is_a_cancel_with_the_feeds_sequence(
    campus, django_capture_on_commit_callbacks
):
    (booked,) = book(
        django_capture_on_commit_callbacks,
        campus.researcher,
        campus.research,
        campus.rheometer,
        at(2026, 3, 24, 10),
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reservation_cancel(reservation=booked, user=campus.researcher, now=NOW + timedelta(hours=1))
    (message,) = sent_to(campus.researcher)
    body = invitation(message, "CANCEL")
    (event,) = parse_all(body).values()
    assert event == feed_event(campus, campus.researcher, booked)
    assert (event["status"], event["sequence"]) == ("CANCELLED", 1)
    assert str(the_event(body)["DTSTAMP"].dt) == str(NOW.astimezone(UTC))  # the message's time


def test_displaced_owner_receives_a_cancel_and_the_teacher_a_request(
    campus, django_capture_on_commit_callbacks
):
    (research,) = book(
        django_capture_on_commit_callbacks,
        campus.researcher,
        campus.research,
        campus.rheometer,
        at(2026, 4, 8, 10),
    )
    mail.outbox.clear()
    (teaching,) = book(
        django_capture_on_commit_callbacks,
        campus.teacher,
        campus.teaching,
        campus.rheometer,
        at(2026, 4, 8, 9),
    )
    (displaced,) = sent_to(campus.researcher)
    events = parse_all(invitation(displaced, "CANCEL"))
    assert events[f"reservation-{research.pk}@{HOST}"]["status"] == "CANCELLED"
    (confirmation,) = sent_to(campus.teacher)
    assert f"reservation-{teaching.pk}@{HOST}" in parse_all(invitation(confirmation, "REQUEST"))


def test_a_series_email_carries_one_invitation_per_occurrence(
    campus, django_capture_on_commit_callbacks
):
    mail.outbox.clear()
    series = book(
        django_capture_on_commit_callbacks,
        campus.teacher,
        campus.teaching,
        campus.rheometer,
        at(2026, 3, 24, 9),
        rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=3",
    )
    (message,) = sent_to(campus.teacher)
    assert [(name, kind) for name, _, kind in message.attachments] == [
        (f"reservation-{r.pk}.ics", "text/calendar; method=REQUEST") for r in series
    ]
    starts = [
        next(iter(parse_all(c.encode()).values()))["start"] for _, c, _ in message.attachments
    ]
    # 09:00 each Tuesday: 08:00Z before the change of 29 March, 07:00Z after.
    assert starts == [
        datetime(2026, 3, 24, 8, tzinfo=UTC),
        datetime(2026, 3, 31, 7, tzinfo=UTC),
        datetime(2026, 4, 7, 7, tzinfo=UTC),
    ]


def test_reminders_carry_no_calendar(campus, django_capture_on_commit_callbacks):
    (booked,) = book(
        django_capture_on_commit_callbacks,
        campus.researcher,
        campus.research,
        campus.rheometer,
        at(2026, 3, 24, 10),
    )
    (message,) = build_messages("reminder", [booked])
    assert message.attachments == []


def test_a_move_sends_the_updated_invitation(campus, django_capture_on_commit_callbacks):
    (booked,) = book(
        django_capture_on_commit_callbacks,
        campus.researcher,
        campus.research,
        campus.rheometer,
        at(2026, 3, 24, 10),
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reservation_update(
            reservation=booked,
            user=campus.researcher,
            start=at(2026, 3, 24, 14),
            end=at(2026, 3, 24, 16),
            now=NOW,
        )
    (message,) = sent_to(campus.researcher)
    assert message.subject == "Réservation modifiée"
    (event,) = parse_all(invitation(message, "REQUEST")).values()
    assert event["sequence"] == 1
    assert event == feed_event(campus, campus.researcher, booked)


def test_emails_follow_the_recipients_language(campus, django_capture_on_commit_callbacks):
    """French by default; the recipient's chosen language when known."""
    user_language_set(user=campus.industrial, language="en")
    book(
        django_capture_on_commit_callbacks,
        campus.researcher,
        campus.research,
        campus.rheometer,
        at(2026, 3, 24, 10),
    )
    book(
        django_capture_on_commit_callbacks,
        campus.industrial,
        campus.confidential,
        campus.rheometer,
        at(2026, 3, 25, 10),
    )
    (french,) = sent_to(campus.researcher)
    (english,) = sent_to(campus.industrial)
    assert french.subject == "Réservation confirmée"
    assert french.body.startswith("Bonjour")
    assert english.subject == "Reservation awaiting approval"
    assert english.body.startswith("Hello")
    # Dates the way each reader writes them.
    assert "24/03/2026" in french.body
    assert "03/25/2026" in english.body


def test_a_closure_tells_the_owner_the_equipment_is_closed(
    campus, django_capture_on_commit_callbacks
):
    book(
        django_capture_on_commit_callbacks,
        campus.researcher,
        campus.research,
        campus.rheometer,
        at(2026, 3, 24, 10),
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        closure_create(
            user=campus.admin,
            equipment=campus.rheometer,
            start=at(2026, 3, 24, 8),
            end=at(2026, 3, 24, 19),
            reason="Maintenance annuelle",
            now=NOW,
        )
    (message,) = sent_to(campus.researcher)
    assert message.subject == "Réservation annulée : l'équipement est fermé"
    (event,) = parse_all(invitation(message, "CANCEL")).values()
    assert event["status"] == "CANCELLED"
