"""Delivery faults (SPEC §12): a bad row fails alone, a lease lost is never sent twice, the
prompt delivery handles every id it is given, the Message-ID of a named sender, and stale
requests to approve. Over real SMTP on the loopback."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db.models import F
from django.utils import timezone

from notifications import delivery
from notifications.delivery import claim, deliver
from notifications.models import Kind, Notification, Status, new_notification
from reservations.models import Reservation, ReservationStatus
from reservations.services import reservation_create
from tests.conftest import reservation_row

from .smtp import SMTPServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("addressed_campus")]

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)  # a Monday


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=PARIS)


def book(user, project, start, equipment=None) -> Reservation:
    (booked,) = reservation_create(
        user=user,
        project=project,
        equipment=[equipment],
        start=start,
        end=start + timedelta(hours=2),
        title="Mesures",
        now=NOW,
    ).reservations
    return booked


def outbox(kind: str, user, reservations: list[Reservation], count: int = 1) -> list[int]:
    rows = [
        new_notification(kind, user.pk, [r.pk for r in reservations], event_at=NOW, reason="")
        for _ in range(count)
    ]
    return [row.pk for row in Notification.objects.bulk_create(rows)]


@pytest.fixture
def two_bookings(campus):
    mine = book(campus.researcher, campus.research, at(24, 10), campus.rheometer)
    theirs = book(campus.teacher, campus.teaching, at(24, 14), campus.rheometer)
    Notification.objects.all().delete()
    return mine, theirs


# --- 1. One bad row fails alone ---------------------------------------------------------


def _make_bad(fault: str, campus, theirs: Reservation, monkeypatch) -> tuple[int, str]:
    """The first row of the batch, broken in one way; what its error says."""
    if fault == "address":
        campus.teacher.email = "x@"
        campus.teacher.save()
        (pk,) = outbox(Kind.CONFIRMED, campus.teacher, [theirs])
        return pk, "Invalid address"
    if fault == "kind":  # written by a newer worker that knows one more kind
        (pk,) = outbox(Kind.CONFIRMED, campus.teacher, [theirs])
        Notification.objects.filter(pk=pk).update(kind="newer_kind")
        return pk, "newer_kind"
    if fault == "ics":
        from notifications import emails

        real = emails.email_calendar

        def broken(reservation, **kwargs):
            if reservation.pk == theirs.pk:
                raise RuntimeError("the .ics cannot be made")
            return real(reservation, **kwargs)

        monkeypatch.setattr(emails, "email_calendar", broken)
        (pk,) = outbox(Kind.CONFIRMED, campus.teacher, [theirs])
        return pk, "the .ics cannot be made"
    if fault == "alternatives":

        def broken_alternatives(*args, **kwargs):
            raise KeyError("no alternatives")

        monkeypatch.setattr("notifications.emails.suggest_alternatives_many", broken_alternatives)
        (pk,) = outbox(Kind.DISPLACED, campus.teacher, [theirs])
        return pk, "no alternatives"
    assert fault == "template"

    from notifications import emails

    def broken_subject():
        return {"fr": "Réservation annulée"}["missing"]

    monkeypatch.setitem(emails.SUBJECTS, Kind.CANCELLED, broken_subject)
    (pk,) = outbox(Kind.CANCELLED, campus.teacher, [theirs])
    return pk, "missing"


@pytest.mark.parametrize("fault", ["address", "kind", "ics", "alternatives", "template"])
def test_one_bad_row_fails_alone_and_the_rest_of_its_batch_is_sent(
    campus, two_bookings, smtp_port, settings, monkeypatch, fault
):
    settings.NOTIFICATION_MAX_ATTEMPTS = 2
    settings.NOTIFICATION_BACKOFF_SECONDS = [60]
    mine, theirs = two_bookings
    bad, error = _make_bad(fault, campus, theirs, monkeypatch)
    good = outbox(Kind.CONFIRMED, campus.researcher, [mine], count=3)
    with SMTPServer(smtp_port) as server:
        counts = deliver()
    assert (counts.sent, counts.retried) == (3, 1)
    assert sorted(server.inbox.message_ids()) == sorted(
        Notification.objects.get(pk=pk).message_id for pk in good
    )
    row = Notification.objects.get(pk=bad)
    assert (row.status, row.attempts, row.leased_until) == ("pending", 1, None)
    assert error in row.last_error
    assert row.next_attempt_at > timezone.now() + timedelta(seconds=50)  # its own backoff

    # Its last try: failed, and shown to platform managers; no effect on anything else.
    counts = deliver(now=row.next_attempt_at)
    assert counts.failed == 1 and counts.handled == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("failed", 2) and error in row.last_error


def test_an_unknown_kind_alone_does_not_stop_the_sweep(campus, two_bookings, smtp_port):
    mine, _theirs = two_bookings
    (odd,) = outbox(Kind.CONFIRMED, campus.researcher, [mine])
    Notification.objects.filter(pk=odd).update(kind="newer_kind")
    with SMTPServer(smtp_port) as server:
        assert deliver().retried == 1  # no exception out of the worker's task
    assert server.inbox.messages == []


def test_a_refused_server_still_ends_the_try_of_the_whole_batch_at_once(
    campus, two_bookings, smtp_port
):
    mine, _theirs = two_bookings
    outbox(Kind.CONFIRMED, campus.researcher, [mine], count=4)
    counts = deliver()  # nothing listens on the port
    assert counts.retried == 4
    assert {r.last_error.split(":")[0] for r in Notification.objects.all()} == {
        "ConnectionRefusedError"
    }


# --- 2. A lease lost is never sent --------------------------------------------------------


def test_a_row_whose_lease_another_worker_took_is_skipped_not_sent(
    campus, two_bookings, smtp_port, monkeypatch, caplog
):
    """Rendering the first row takes so long that the others' leases run out and another
    worker claims them: this worker checks its lease before each message and leaves them."""
    mine, _theirs = two_bookings
    first, *others = outbox(Kind.CONFIRMED, campus.researcher, [mine], count=3)
    real = delivery.render

    def slow_render(kind, recipient, items, **kwargs):
        message = real(kind, recipient, items, **kwargs)
        if kwargs["headers"]["Message-ID"].startswith(f"<notification-{first}@"):
            # Meanwhile another worker claimed the others (their lease ran out).
            Notification.objects.filter(pk__in=others).update(
                leased_until=F("leased_until") + timedelta(seconds=1)
            )
        return message

    monkeypatch.setattr(delivery, "render", slow_render)
    with caplog.at_level(logging.WARNING, "notifications"), SMTPServer(smtp_port) as server:
        counts = deliver()
    assert (counts.sent, counts.lost) == (1, 2)
    assert server.inbox.message_ids() == [Notification.objects.get(pk=first).message_id]
    for pk in others:  # still the other worker's, untouched
        row = Notification.objects.get(pk=pk)
        assert (row.status, row.leased_until is not None, row.last_error) == ("pending", True, "")
    assert sum("lease" in r.getMessage() for r in caplog.records) == 2


def test_a_message_whose_lease_ran_out_during_its_send_is_not_counted_as_sent(
    campus, two_bookings, smtp_port, monkeypatch, caplog
):
    mine, _theirs = two_bookings
    (pk,) = outbox(Kind.CONFIRMED, campus.researcher, [mine])
    real = delivery.get_connection

    def slow_connection(**kwargs):
        connection = real(**kwargs)
        send = connection.send_messages

        def send_then_lose_the_lease(messages):
            sent = send(messages)
            # The send outlived the lease: another worker claimed the row meanwhile.
            Notification.objects.filter(pk=pk).update(
                leased_until=F("leased_until") + timedelta(seconds=1)
            )
            return sent

        connection.send_messages = send_then_lose_the_lease
        return connection

    monkeypatch.setattr(delivery, "get_connection", slow_connection)
    with caplog.at_level(logging.WARNING, "notifications"), SMTPServer(smtp_port) as server:
        counts = deliver()
    assert len(server.inbox.messages) == 1
    assert (counts.sent, counts.lost) == (0, 1)
    assert Notification.objects.get(pk=pk).status == "pending"  # the other worker's now
    assert any("lease" in r.getMessage() for r in caplog.records)


def test_a_worker_whose_clock_is_ahead_cannot_steal_a_leased_row(
    campus, two_bookings, settings, monkeypatch
):
    """Leases are reckoned on the database's clock, not the machine's."""
    settings.NOTIFICATION_LEASE_SECONDS = 120
    mine, _theirs = two_bookings
    outbox(Kind.CONFIRMED, campus.researcher, [mine])
    taken, _lease = claim()  # a worker on a well-set clock takes it
    assert len(taken) == 1
    ahead = timezone.now() + timedelta(hours=1)
    monkeypatch.setattr("django.utils.timezone.now", lambda: ahead)
    assert deliver().handled == 0
    assert mail.outbox == []


def test_a_new_row_is_due_at_once_even_if_the_app_servers_clock_is_ahead(
    campus, two_bookings, monkeypatch
):
    mine, _theirs = two_bookings
    ahead = timezone.now() + timedelta(minutes=10)
    monkeypatch.setattr("notifications.models.timezone.now", lambda: ahead)
    outbox(Kind.CONFIRMED, campus.researcher, [mine])
    monkeypatch.undo()
    assert deliver().sent == 1


# --- 5. Prompt delivery of many ids -----------------------------------------------------


def test_the_prompt_delivery_sends_every_row_it_is_given(campus, two_bookings, smtp_port):
    mine, _theirs = two_bookings
    ids = outbox(Kind.CONFIRMED, campus.researcher, [mine], count=25)
    with SMTPServer(smtp_port) as server:
        counts = deliver(ids=ids)
    assert counts.sent == 25
    assert len(server.inbox.messages) == 25
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_reminders_count_every_email_sent(campus, make_user, smtp_port):
    from notifications.services import send_reminders

    day = datetime(2026, 11, 25, 8, 0, tzinfo=PARIS)
    for index in range(25):
        user = make_user(f"rappel{index}", email=f"rappel{index}@example.org")
        start = day + timedelta(minutes=20 * index)
        reservation_row(
            campus, start, 20, project=campus.open_research, booked_by=user, title="Rappel", at=NOW
        )
    with SMTPServer(smtp_port) as server:
        sent, items = send_reminders(now=datetime(2026, 11, 24, 17, 0, tzinfo=PARIS))
    assert (sent, len(items)) == (25, 25)
    assert len(server.inbox.messages) == 25
    assert not Notification.objects.filter(status=Status.PENDING).exists()


# --- 6. The Message-ID of a sender with a display name ---------------------------------


def test_the_message_id_takes_the_domain_of_a_named_sender(
    campus, two_bookings, smtp_port, settings
):
    settings.DEFAULT_FROM_EMAIL = "Plateforme Campus <plateforme@campus.example.fr>"
    mine, _theirs = two_bookings
    (pk,) = outbox(Kind.CONFIRMED, campus.researcher, [mine])
    row = Notification.objects.get(pk=pk)
    assert row.message_id == f"<notification-{pk}@campus.example.fr>"
    with SMTPServer(smtp_port) as server:
        assert deliver().sent == 1
    (message,) = server.inbox.messages
    assert message["Message-ID"] == row.message_id
    assert message["From"] == settings.DEFAULT_FROM_EMAIL


@pytest.mark.parametrize("sender", ["", "plateforme", "Plateforme <>"])
def test_the_message_id_of_a_sender_without_a_domain(settings, sender):
    settings.DEFAULT_FROM_EMAIL = sender
    assert Notification(pk=7).message_id == "<notification-7@localhost>"


# --- 7. Stale requests to approve -----------------------------------------------------------


@pytest.fixture
def two_requests(campus, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        first = book(campus.industrial, campus.confidential, at(25, 10), campus.rheometer)
        second = book(campus.industrial, campus.confidential, at(26, 10), campus.rheometer)
    assert first.status == second.status == "pending"
    # One email to the manager about both (as when they are booked together).
    keep, other = Notification.objects.filter(recipient=campus.eq_manager).order_by("pk")
    assert keep.kind == other.kind == Kind.PENDING_REQUEST
    Notification.objects.exclude(pk=keep.pk).delete()
    Notification.objects.filter(pk=keep.pk).update(reservation_ids=[first.pk, second.pk])
    return first, second


def test_a_request_approved_before_delivery_is_left_out_of_the_managers_email(
    campus, two_requests, smtp_port
):
    first, _second = two_requests
    Reservation.objects.filter(pk=first.pk).update(status=ReservationStatus.CONFIRMED)
    with SMTPServer(smtp_port) as server:
        assert deliver().sent == 1
    (message,) = server.inbox.messages
    body = message.get_payload(decode=True).decode()
    assert body.count("Mesures") == 1
    assert "26/03/2026" in body and "25/03/2026" not in body


def test_requests_no_longer_pending_are_not_sent_at_all(campus, two_requests, smtp_port):
    first, second = two_requests
    Reservation.objects.filter(pk=first.pk).update(status=ReservationStatus.CONFIRMED)
    Reservation.objects.filter(pk=second.pk).update(status=ReservationStatus.REJECTED)
    with SMTPServer(smtp_port) as server:
        assert deliver().skipped == 1
    assert server.inbox.messages == []
    row = Notification.objects.get()
    assert row.status == "skipped" and "no longer" in row.last_error


def test_a_former_manager_is_not_sent_the_details_of_a_confidential_request(
    campus, two_requests, smtp_port
):
    campus.rheometer.managers.remove(campus.eq_manager)
    with SMTPServer(smtp_port) as server:
        assert deliver().skipped == 1
    assert server.inbox.messages == []
    row = Notification.objects.get()
    assert row.status == "skipped" and "manage" in row.last_error
