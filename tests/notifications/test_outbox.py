"""The outbox (SPEC §12): notifications are rows written with the change, delivered by the
worker's tasks over real SMTP on the loopback, retried with backoff, failed after the last
try, and sent only to those who want them."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from notifications.delivery import claim, deliver, deliver_due
from notifications.models import Kind, Notification, Status
from notifications.services import send_reminders
from partners.preferences import notification_preferences_set
from reservations.models import Reservation
from reservations.services import closure_create, reservation_create

from .smtp import SMTPServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("addressed_campus")]

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)  # a Monday


def at(day: int, hour: int, month: int = 3) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=PARIS)


def book(user, project, equipment, start, *, hours: int = 2):
    return reservation_create(
        user=user,
        project=project,
        equipment=[equipment],
        start=start,
        end=start + timedelta(hours=hours),
        title="Mesures",
        now=NOW,
    ).reservations


def to(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


class Rollback(Exception):
    pass


def test_a_notification_is_written_in_the_transaction_of_the_change(campus):
    with pytest.raises(Rollback), transaction.atomic():
        book(campus.researcher, campus.research, campus.rheometer, at(24, 10))
        (row,) = Notification.objects.all()
        assert (row.kind, row.recipient, row.status) == ("created", campus.researcher, "pending")
        raise Rollback
    # Rolled back with the booking: nothing to deliver, nothing sent.
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_the_request_records_and_the_task_delivers_after_the_commit(
    campus, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        (booked,) = book(campus.researcher, campus.research, campus.rheometer, at(24, 10))
    (row,) = Notification.objects.all()
    assert row.reservation_ids == [booked.pk]
    assert row.event_at == NOW
    assert mail.outbox == []  # nothing rendered nor sent inside the request's transaction

    for callback in callbacks:  # the commit: the task is enqueued (and run, in tests)
        callback()
    row.refresh_from_db()
    assert (row.status, row.attempts, row.leased_until) == ("sent", 1, None)
    (message,) = to(campus.researcher)
    assert message.subject == "Réservation confirmée"
    assert message.extra_headers["Message-ID"] == f"<notification-{row.pk}@example.org>"


def test_a_request_awaiting_approval_is_sent_to_the_equipments_managers(
    campus, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        (pending,) = book(campus.industrial, campus.confidential, campus.rheometer, at(25, 10))
    assert pending.status == "pending"
    kinds = dict(Notification.objects.values_list("recipient__username", "kind"))
    assert kinds == {"industriel": Kind.PENDING, "gestionnaire": Kind.PENDING_REQUEST}
    (request,) = to(campus.eq_manager)
    # In the platform's language, French: the manager chose none.
    assert "Mesures sur TO-RHEO-01" in request.body
    assert "Mesures on TO-RHEO-01" not in request.body
    assert campus.industrial.username in request.body
    assert "/manage/approvals/" in request.body
    assert request.attachments == []  # the booker's invitation is not the manager's
    (own,) = to(campus.industrial)
    assert own.subject == "Réservation en attente de validation"


def test_a_manager_who_turned_requests_off_is_not_sent_them(
    campus, django_capture_on_commit_callbacks
):
    notification_preferences_set(user=campus.eq_manager, email={"pending_request": False})
    with django_capture_on_commit_callbacks(execute=True):
        book(campus.industrial, campus.confidential, campus.rheometer, at(25, 10))
    row = Notification.objects.get(recipient=campus.eq_manager)
    assert (row.status, row.last_error) == ("skipped", "turned off by the recipient")
    assert to(campus.eq_manager) == []
    assert len(to(campus.industrial)) == 1


def test_a_notification_turned_off_is_skipped_and_the_others_still_sent(
    campus, django_capture_on_commit_callbacks
):
    notification_preferences_set(user=campus.researcher, email={"confirmation": False})
    with django_capture_on_commit_callbacks(execute=True):
        (booked,) = book(campus.researcher, campus.research, campus.rheometer, at(24, 10))
    assert Notification.objects.get().status == Status.SKIPPED
    assert to(campus.researcher) == []

    from reservations.services import reservation_cancel

    with django_capture_on_commit_callbacks(execute=True):
        reservation_cancel(reservation=booked, user=campus.researcher, now=NOW)
    (message,) = to(campus.researcher)
    assert message.subject == "Réservation annulée"


def test_emails_carry_the_ics_only_for_those_who_want_it(
    campus, django_capture_on_commit_callbacks
):
    notification_preferences_set(user=campus.teacher, attach_ics=False)
    with django_capture_on_commit_callbacks(execute=True):
        book(campus.researcher, campus.research, campus.rheometer, at(24, 10))
        book(campus.teacher, campus.teaching, campus.rheometer, at(24, 14))
    assert len(to(campus.researcher)[0].attachments) == 1
    (teacher,) = to(campus.teacher)
    assert teacher.attachments == []


def test_a_refused_port_is_retried_with_backoff_and_delivered_when_the_server_is_back(
    campus, smtp_port, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_BACKOFF_SECONDS = [60, 300]
    with django_capture_on_commit_callbacks(execute=True):
        (booked,) = book(campus.researcher, campus.research, campus.rheometer, at(24, 10))
    assert Reservation.objects.get(pk=booked.pk).status == "confirmed"  # the booking stands
    row = Notification.objects.get()
    assert row.status == "pending" and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    waited = row.next_attempt_at - row.created_at
    assert timedelta(seconds=59) < waited < timedelta(seconds=70)

    # Not due yet: the sweep leaves it.
    assert deliver_due().handled == 0
    # Second try, still refused: the next wait is longer.
    counts = deliver_due(now=row.next_attempt_at)
    assert counts.retried == 1
    second = Notification.objects.get()
    assert second.next_attempt_at - row.next_attempt_at == timedelta(seconds=300)

    with SMTPServer(smtp_port) as server:
        counts = deliver_due(now=second.next_attempt_at)
        assert counts.sent == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 3)
    (message,) = server.inbox.messages
    assert message["To"] == campus.researcher.email
    # The same Message-ID at every try: a repeated delivery is recognisable.
    assert message["Message-ID"] == row.message_id


def test_after_the_last_try_it_is_failed_and_platform_managers_see_it(
    campus, smtp_port, settings, client, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    with django_capture_on_commit_callbacks(execute=True):
        book(campus.researcher, campus.research, campus.rheometer, at(24, 10))
    row = Notification.objects.get()
    deliver_due(now=row.next_attempt_at)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2)
    assert deliver_due(now=row.next_attempt_at + timedelta(days=1)).handled == 0  # no more

    campus.admin.is_superuser = True
    campus.admin.save()
    client.force_login(campus.admin)
    page = client.get("/admin/notifications/notification/?status__exact=failed")
    assert page.status_code == 200
    text = page.content.decode()
    assert "ConnectionRefusedError" in text and campus.researcher.username in text
    sent_only = client.get("/admin/notifications/notification/?status__exact=sent")
    assert "ConnectionRefusedError" not in sent_only.content.decode()


def test_a_row_claimed_by_a_worker_that_died_is_delivered_after_its_lease(
    campus, settings, django_capture_on_commit_callbacks
):
    settings.NOTIFICATION_LEASE_SECONDS = 120
    with django_capture_on_commit_callbacks(execute=False):
        book(campus.researcher, campus.research, campus.rheometer, at(24, 10))
    now = timezone.now()
    taken, lease = claim(now=now)  # a worker takes it… and dies
    assert len(taken) == 1
    assert deliver(now=now + timedelta(seconds=60)).handled == 0  # still its lease
    assert to(campus.researcher) == []
    assert deliver(now=lease + timedelta(seconds=1)).sent == 1
    row = Notification.objects.get()
    assert (row.status, row.attempts) == ("sent", 2)
    assert len(to(campus.researcher)) == 1


def _closure_delivery_queries(campus, capture, days: list[int], month: int) -> tuple[int, str]:
    for day in days:
        book(campus.researcher, campus.research, campus.rheometer, at(day, 10, month))
    Notification.objects.all().delete()
    mail.outbox.clear()
    with capture(execute=False):
        closure_create(
            user=campus.admin,
            equipment=campus.rheometer,
            start=at(days[0], 0, month),
            end=at(days[-1], 23, month),
            reason="Maintenance",
            now=NOW,
        )
    with CaptureQueriesContext(connection) as queries:
        assert deliver_due().sent == 1
    (message,) = to(campus.researcher)
    return len(queries), message.body


def test_a_closure_displacing_five_bookings_costs_the_queries_of_one(
    campus, django_capture_on_commit_callbacks
):
    one, body_one = _closure_delivery_queries(
        campus, django_capture_on_commit_callbacks, [24], month=3
    )
    five, body_five = _closure_delivery_queries(
        campus, django_capture_on_commit_callbacks, [13, 14, 15, 16, 17], month=4
    )
    assert body_one.count("Mesures") == 1 and body_five.count("Mesures") == 5
    assert five == one, f"{one} queries for one displaced booking, {five} for five"


def test_reminders_are_sent_once_per_booker_and_day(campus, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        book(campus.researcher, campus.research, campus.rheometer, at(24, 10))
        book(campus.researcher, campus.research, campus.rheometer, at(24, 14))
    mail.outbox.clear()
    evening = at(23, 17)
    sent, items = send_reminders(now=evening)
    assert (sent, len(items)) == (1, 2)
    assert send_reminders(now=evening + timedelta(hours=1))[0] == 0  # run again: no repeat
    (message,) = to(campus.researcher)
    assert message.subject == "Rappel : votre réservation de demain"


def test_the_reason_given_reaches_the_people_told(campus, django_capture_on_commit_callbacks):
    """A rejection, a cancellation and a closure carry the words of who acted."""
    from reservations.services import reservation_cancel, reservation_reject

    with django_capture_on_commit_callbacks(execute=True):
        (pending,) = book(campus.industrial, campus.confidential, campus.rheometer, at(25, 10))
        (mine,) = book(campus.researcher, campus.research, campus.rheometer, at(24, 10))
        (closed,) = book(campus.researcher, campus.research, campus.rheometer, at(26, 10))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        reservation_reject(
            reservation=pending, user=campus.eq_manager, now=NOW, reason="Créneau réservé au TP"
        )
        reservation_cancel(
            reservation=mine, user=campus.researcher, now=NOW, reason="Échantillons pas prêts"
        )
        closure_create(
            user=campus.eq_manager,
            equipment=campus.rheometer,
            start=at(26, 8),
            end=at(26, 18),
            reason="Étalonnage annuel",
            now=NOW,
        )
    bodies = {m.subject: m.body for m in mail.outbox}
    assert "Créneau réservé au TP" in bodies["Réservation refusée"]
    assert "Échantillons pas prêts" in bodies["Réservation annulée"]
    (closure_mail,) = [m for m in mail.outbox if "fermé" in m.subject]
    assert "Étalonnage annuel" in closure_mail.body
    assert closed.pk in Notification.objects.get(kind="closed").reservation_ids


def test_a_reminder_retried_after_a_cancellation_leaves_the_cancelled_booking_out(
    campus, settings, smtp_port, django_capture_on_commit_callbacks
):
    """The reminders' job could not reach the mail server; before the retry, one booking
    was cancelled: the retried reminder names only the booking that stands, and a reminder
    left with nothing is skipped."""
    from reservations.services import reservation_cancel

    with django_capture_on_commit_callbacks(execute=False):
        kept, gone = (
            book(campus.researcher, campus.research, campus.rheometer, at(24, hour))[0]
            for hour in (10, 14)
        )
        (alone,) = book(campus.teacher, campus.teaching, campus.rheometer, at(24, 16))
    assert send_reminders(now=at(23, 17))[0] == 0  # nothing listens on the mail port
    with django_capture_on_commit_callbacks(execute=False):
        reservation_cancel(reservation=gone, user=campus.researcher, now=at(23, 18))
        reservation_cancel(reservation=alone, user=campus.teacher, now=at(23, 18))
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    mail.outbox.clear()
    Notification.objects.filter(kind="reminder").update(next_attempt_at=timezone.now())
    deliver_due()
    (reminder,) = [m for m in to(campus.researcher) if m.subject.startswith("Rappel")]
    assert "10:00" in reminder.body and "14:00" not in reminder.body
    assert (
        kept.pk
        in Notification.objects.get(kind="reminder", recipient=campus.researcher).reservation_ids
    )
    row = Notification.objects.get(kind="reminder", recipient=campus.teacher)
    assert row.status == Status.SKIPPED
