"""Deliver the outbox (SPEC §12): claim due rows with a lease, render, send, and retry with
backoff; after the last try a row is marked failed and stays visible to platform managers.

Several workers may deliver at once: a row is claimed in a short transaction
(`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's IMMEDIATE transactions queue
the claimers) that sets `leased_until`. A worker killed mid-delivery leaves its rows leased;
they are due again once the lease runs out. Every outcome is written only while the lease
is still the worker's own, so a late worker never overwrites a newer try.

Delivery is at least once: a worker killed after the mail server accepted a message but
before recording it sends that message again at the next try. Every try carries the same
Message-ID (notification-<id>@domain), so the repeat is recognisable.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from partners.preferences import wants_email
from reservations.models import Reservation

from .emails import DISPLACEMENTS, RELATED, Alternatives, render
from .models import TOPIC, Kind, Notification, Status

log = logging.getLogger(__name__)

BATCH = 20  # rows per claim: one SMTP connection, well within the lease


@dataclass
class Counts:
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0

    def __iadd__(self, other: Counts) -> Counts:
        for name, value in asdict(other).items():
            setattr(self, name, getattr(self, name) + value)
        return self

    @property
    def handled(self) -> int:
        return self.sent + self.skipped + self.retried + self.failed


def backoff(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed try (the last configured wait repeats)."""
    waits = settings.NOTIFICATION_BACKOFF_SECONDS or [60]
    return timedelta(seconds=waits[min(attempts, len(waits)) - 1])


def claim(
    *, now: datetime, ids: Iterable[int] | None = None, limit: int = BATCH
) -> tuple[list[int], datetime]:
    """Take up to `limit` due rows for this worker until the lease returned."""
    lease = now + timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)
    with transaction.atomic():
        due = Notification.objects.filter(status=Status.PENDING, next_attempt_at__lte=now).filter(
            Q(leased_until__isnull=True) | Q(leased_until__lte=now)
        )
        if ids is not None:
            due = due.filter(pk__in=list(ids))
        taken = list(
            due.select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        if taken:
            # A try counts when it starts: a worker killed mid-try has used one.
            Notification.objects.filter(pk__in=taken).update(
                leased_until=lease, attempts=F("attempts") + 1
            )
    return taken, lease


def _finish(row: Notification, lease: datetime, **changes: Any) -> bool:
    """Record the outcome if the lease is still ours."""
    return bool(
        Notification.objects.filter(pk=row.pk, leased_until=lease).update(
            leased_until=None, **changes
        )
    )


def _failed_try(row: Notification, lease: datetime, error: str, now: datetime) -> str:
    if row.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
        _finish(row, lease, status=Status.FAILED, last_error=error)
        log.error("notification %s failed after %s tries: %s", row.pk, row.attempts, error)
        return "failed"
    _finish(row, lease, last_error=error, next_attempt_at=now + backoff(row.attempts))
    log.warning("notification %s: try %s failed (%s); retrying", row.pk, row.attempts, error)
    return "retried"


# Errors about one message; any other error is the connection's and ends the batch's try.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused)


def deliver(*, ids: Iterable[int] | None = None, now: datetime | None = None) -> Counts:
    """Deliver one batch of due rows (of `ids` only, when given)."""
    now = now or timezone.now()
    counts = Counts()
    taken, lease = claim(now=now, ids=ids)
    if not taken:
        return counts
    rows = list(
        Notification.objects.filter(pk__in=taken)
        .select_related("recipient__preference")
        .order_by("pk")
    )
    wanted = {pk for row in rows for pk in row.reservation_ids}
    reservations = Reservation.objects.select_related(*RELATED).in_bulk(wanted)
    alternatives = Alternatives()
    for row in rows:
        if row.kind in DISPLACEMENTS and _wanted(row):
            alternatives.add(_items(row, reservations), now=row.event_at)

    connection: Any = None
    try:
        for index, row in enumerate(rows):
            items = _items(row, reservations)
            if not _wanted(row) or not items:
                _finish(row, lease, status=Status.SKIPPED, last_error=_why_skipped(row))
                counts.skipped += 1
                continue
            try:
                message = render(
                    row.kind,
                    row.recipient,
                    items,
                    now=row.event_at,
                    reason=row.reason,
                    alternatives=alternatives,
                    headers={"Message-ID": row.message_id},
                )
                if connection is None:
                    connection = get_connection(fail_silently=False)
                    connection.open()
                connection.send_messages([message])
            except MESSAGE_ERRORS as exc:  # this message only: the next may pass
                outcome = _failed_try(row, lease, _error(exc), now)
                setattr(counts, outcome, getattr(counts, outcome) + 1)
            except Exception as exc:
                # The server is unreachable, stalled or gone: this try ends for the rest
                # of the batch too, without waiting for the timeout once per message.
                error = _error(exc)
                for rest in rows[index:]:
                    outcome = _failed_try(rest, lease, error, now)
                    setattr(counts, outcome, getattr(counts, outcome) + 1)
                _close(connection)
                connection = None
                break
            else:
                _finish(row, lease, status=Status.SENT, sent_at=timezone.now(), last_error="")
                counts.sent += 1
    finally:
        _close(connection)
    return counts


def deliver_due(*, now: datetime | None = None) -> Counts:
    """Deliver every due row, batch after batch (the periodic sweep)."""
    counts = Counts()
    while True:
        batch = deliver(now=now)
        counts += batch
        if batch.handled < 1:
            return counts


def _items(row: Notification, reservations: dict[int, Reservation]) -> list[Reservation]:
    return [reservations[pk] for pk in row.reservation_ids if pk in reservations]


def _wanted(row: Notification) -> bool:
    user = row.recipient
    return bool(user.email) and user.is_active and wants_email(user, TOPIC[Kind(row.kind)])


def _why_skipped(row: Notification) -> str:
    user = row.recipient
    if not user.email:
        return "the recipient has no email address"
    if not user.is_active:
        return "the recipient's account is inactive"
    if not wants_email(user, TOPIC[Kind(row.kind)]):
        return "turned off by the recipient"
    return "the reservations are gone"


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _close(connection: Any) -> None:
    if connection is not None:
        try:
            connection.close()
        except Exception:  # closing a dead connection may fail too; nothing to keep
            log.debug("closing the mail connection failed", exc_info=True)
