"""Two workers delivering the same rows at once (SPEC §12): a slow mail server makes the
first outlive the lease of the rows it has not reached, the second claims them, and still
every email leaves once. Threads on their own connections, so the test commits for real
(the file-backed test database on SQLite)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from notifications.delivery import Counts, deliver
from notifications.models import Kind, Notification, new_notification
from reservations.models import Reservation, ReservationStatus

from .smtp import SMTPServer

pytestmark = pytest.mark.django_db(transaction=True)

PARIS = ZoneInfo("Europe/Paris")
ROWS = 16
SEND = 0.2  # seconds the server takes to answer each message
LEASE = 2  # seconds: longer than EMAIL_TIMEOUT (1 s here), shorter than the batch


def test_two_workers_on_the_same_rows_send_each_email_exactly_once(campus, smtp_port, settings):
    settings.NOTIFICATION_LEASE_SECONDS = LEASE
    settings.DEFAULT_FROM_EMAIL = "plateforme@example.org"
    campus.researcher.email = "chercheur@example.org"
    campus.researcher.save()
    start = datetime(2026, 3, 24, 10, tzinfo=PARIS)
    booked = Reservation.objects.create(
        equipment=campus.rheometer,
        project=campus.open_research,
        booked_by=campus.researcher,
        start=start,
        end=start + timedelta(hours=2),
        blocked_until=start + timedelta(hours=2),
        title="Mesures",
        status=ReservationStatus.CONFIRMED,
        priority="research",
        status_changed_at=start,
        created_at=start,
        updated_at=start,
    )
    rows = Notification.objects.bulk_create(
        new_notification(
            Kind.CONFIRMED, campus.researcher.pk, [booked.pk], event_at=start, reason=""
        )
        for _ in range(ROWS)
    )
    counts: dict[str, Counts] = {}
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            counts[name] = deliver()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    with SMTPServer(smtp_port) as server:
        server.inbox.data_delay = SEND
        first = threading.Thread(target=worker, args=("first",))
        first.start()
        assert server.inbox.received.wait(30)
        # The first worker's claim of the rows it has not reached yet runs out…
        time.sleep(LEASE + 0.2)
        # …and a second worker takes them while the first is still sending.
        second = threading.Thread(target=worker, args=("second",))
        second.start()
        first.join(60)
        second.join(60)
    assert not first.is_alive() and not second.is_alive()
    assert errors == []

    per_row = Counter(server.inbox.message_ids())
    assert per_row == Counter({row.message_id: 1 for row in rows})
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}
    assert counts["first"].sent + counts["second"].sent == ROWS
    # The race did happen: the second worker sent some, the first left them.
    assert counts["second"].sent >= 1 and counts["first"].lost >= 1
