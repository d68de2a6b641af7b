"""Two workers delivering the same rows at once (SPEC §12): the first, stalled half-way
through its batch, outlives the lease of the rows it has not reached, the second claims
them, and still every email leaves once. Threads on their own connections, so the test
commits for real (the file-backed test database on SQLite)."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from notifications import delivery
from notifications.delivery import Counts, deliver
from notifications.models import Kind, Notification, new_notification
from tests.conftest import reservation_row

from .smtp import SMTPServer

pytestmark = pytest.mark.django_db(transaction=True)

PARIS = ZoneInfo("Europe/Paris")
ROWS = 16
SEND = 0.2  # seconds the server takes to answer each message
LEASE = 2  # seconds: longer than EMAIL_TIMEOUT (1 s here), shorter than the batch
PAUSE = ROWS // 2  # the first worker stalls after sending this many


def test_two_workers_on_the_same_rows_send_each_email_exactly_once(
    campus, smtp_port, settings, monkeypatch
):
    settings.NOTIFICATION_LEASE_SECONDS = LEASE
    settings.DEFAULT_FROM_EMAIL = "plateforme@example.org"
    campus.researcher.email = "chercheur@example.org"
    campus.researcher.save()
    start = datetime(2026, 3, 24, 10, tzinfo=PARIS)
    booked = reservation_row(campus, start, 120, project=campus.open_research)
    rows = Notification.objects.bulk_create(
        new_notification(
            Kind.CONFIRMED, campus.researcher.pk, [booked.pk], event_at=start, reason=""
        )
        for _ in range(ROWS)
    )
    counts: dict[str, Counts] = {}
    errors: list[BaseException] = []

    # The first worker stalls before its row PAUSE + 1 until the second has claimed: the
    # race happens whatever the speed of the machine.
    paused, claimed = threading.Event(), threading.Event()
    renewals = Counter[str]()
    real_renew, real_claim = delivery._Batch.renew, delivery._claim

    def renew(batch, row):
        name = threading.current_thread().name
        renewals[name] += 1
        if name == "first" and renewals[name] == PAUSE + 1:
            paused.set()
            assert claimed.wait(30), "the second worker claimed nothing"
        return real_renew(batch, row)

    def claim(**kwargs):
        taken, lease, at = real_claim(**kwargs)
        if threading.current_thread().name == "second" and taken:
            claimed.set()
        return taken, lease, at

    monkeypatch.setattr(delivery._Batch, "renew", renew)
    monkeypatch.setattr(delivery, "_claim", claim)

    def worker(name: str) -> None:
        try:
            counts[name] = deliver()
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    with SMTPServer(smtp_port) as server:
        server.inbox.data_delay = SEND
        first = threading.Thread(target=worker, args=("first",), name="first")
        first.start()
        assert paused.wait(30)
        assert len(server.inbox.messages) == PAUSE
        # The first worker's claim of the rows it has not reached yet runs out (on the
        # database's clock, which the claims read)…
        deadline = time.monotonic() + 30
        while Notification.objects.filter(
            status="pending", leased_until__gt=delivery.database_now()
        ).exists():
            assert time.monotonic() < deadline, "the leases never ran out"
            time.sleep(0.1)
        # …and a second worker takes them while the first is still in its batch.
        second = threading.Thread(target=worker, args=("second",), name="second")
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
    assert (counts["first"].sent, counts["first"].lost) == (PAUSE, ROWS - PAUSE)
    assert (counts["second"].sent, counts["second"].lost) == (ROWS - PAUSE, 0)
