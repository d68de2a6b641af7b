"""Deliver the outbox (SPEC §12): claim due rows with a lease, render, send, and retry with
backoff; after the last try a row is marked failed and stays visible to platform managers.

Several workers may deliver at once: a row is claimed in a short transaction
(`SELECT … FOR UPDATE SKIP LOCKED` on PostgreSQL; SQLite's IMMEDIATE transactions queue
the claimers) that sets `leased_until`. Leases and due times are reckoned on the database's
clock (read at the claim, carried on by the worker's monotonic clock), so workers on
machines whose clocks differ never take each other's rows. The `leased_until` a worker set
is its token: before each message it renews the lease with a conditional UPDATE, and leaves
a row whose lease another worker took over (a slow batch outlived it); every outcome is
written only while the lease is still the worker's own, so a late worker never overwrites
a newer try. A worker killed mid-delivery leaves its rows leased; they are due again once
the lease runs out.

What is wrong with one row (a template or translation bug, an invalid address, a kind this
worker does not know, an .ics that cannot be made) fails that row's try only: it is
rendered and built before anything is sent. Only the connection's errors (refused, timed
out, disconnected) end the try of the rest of the batch, without waiting for the timeout
once per message.

Delivery is at least once: a worker killed after the mail server accepted a message but
before recording it sends that message again at the next try. Every try carries the same
Message-ID (notification-<id>@domain), so the repeat is recognisable.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.core.mail.message import sanitize_address
from django.db import connection as database
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from equipment.models import Equipment
from partners.preferences import wants_email
from reservations.models import LIVE_STATUSES, Reservation, ReservationStatus

from .emails import DISPLACEMENTS, RELATED, Alternatives, render, render_account, render_training
from .models import ACCOUNT_KINDS, TOPIC, TRAINING_KINDS, Kind, Notification, Status

log = logging.getLogger(__name__)

BATCH = 20  # rows per claim: one SMTP connection

# Why a row was not sent: stored as is, shown translated to platform managers (admin).
NO_ADDRESS = gettext_noop("the recipient has no email address")
INACTIVE = gettext_noop("the recipient's account is inactive")
TURNED_OFF = gettext_noop("turned off by the recipient")
GONE = gettext_noop("the reservations are gone")
NOT_PENDING = gettext_noop("the requests are no longer pending")
NOT_LIVE = gettext_noop("the reservations were cancelled, rejected, displaced or missed")
NOT_MANAGER = gettext_noop("the recipient no longer manages the equipment of these requests")
NOT_SENT = gettext_noop("the mail backend did not send the message")
NO_PASSWORD = gettext_noop("the account has no password to reset (it signs in elsewhere)")
EXPIRED = gettext_noop("the password reset was asked for too long ago (PASSWORD_RESET_TIMEOUT)")
TRAINING_GONE = gettext_noop("the training request is gone")
TRAINING_DECIDED = gettext_noop("the training request is no longer pending")
NOT_TRAINER = gettext_noop("the recipient no longer manages the equipment of this training request")


@dataclass
class Counts:
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    failed: int = 0
    # Rows another worker took over (their lease ran out): theirs to send and record.
    lost: int = 0

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


def database_now() -> datetime:
    """The database's clock, the one every worker and app server shares."""
    if database.vendor == "postgresql":
        sql = "SELECT STATEMENT_TIMESTAMP()"
    elif database.vendor == "sqlite":
        sql = "SELECT STRFTIME('%Y-%m-%d %H:%M:%f', 'now')"
    else:
        return timezone.now()
    with database.cursor() as cursor:
        cursor.execute(sql)
        (value,) = cursor.fetchone()
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if timezone.is_naive(value) else value


class _Clock:
    """The database's time at the claim, carried on by this process's monotonic clock."""

    def __init__(self, at: datetime) -> None:
        self.at = at
        self._started = time.monotonic()

    def now(self) -> datetime:
        return self.at + timedelta(seconds=time.monotonic() - self._started)


def _lease_after(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)


def claim(
    *, now: datetime | None = None, ids: Iterable[int] | None = None, limit: int = BATCH
) -> tuple[list[int], datetime]:
    """Take up to `limit` due rows for this worker until the lease returned (`now`: the
    database's clock unless given)."""
    taken, lease, _at = _claim(now=now, ids=ids, limit=limit)
    return taken, lease


def _claim(
    *, now: datetime | None, ids: Iterable[int] | None, limit: int
) -> tuple[list[int], datetime, datetime]:
    with transaction.atomic():
        at = now or database_now()
        lease = _lease_after(at)
        due = (
            Notification.objects.filter(status=Status.PENDING)
            # A new row is due at once, whatever the clock of the app server that wrote it.
            .filter(Q(attempts=0) | Q(next_attempt_at__lte=at))
            .filter(Q(leased_until__isnull=True) | Q(leased_until__lte=at))
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
    return taken, lease, at


# Errors about one message; the other OSErrors (smtplib's included) are the connection's.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError, smtplib.SMTPSenderRefused)


def deliver(*, ids: Iterable[int] | None = None, now: datetime | None = None) -> Counts:
    """Deliver the due rows (of `ids` only, when given), batch after batch until none is
    left: a transaction's new rows however many, or the whole sweep."""
    counts = Counts()
    todo = None if ids is None else list(ids)
    while todo is None or todo:
        taken, batch = _deliver_batch(ids=todo, now=now)
        if not taken:
            break
        counts += batch
        if todo is not None:
            done = set(taken)
            todo = [pk for pk in todo if pk not in done]
    return counts


def deliver_due(*, now: datetime | None = None) -> Counts:
    """Deliver every due row (the periodic sweep)."""
    return deliver(now=now)


class _Batch:
    """The rows of one claim: their leases (this worker's tokens) and what became of them."""

    def __init__(self, taken: list[int], lease: datetime, at: datetime) -> None:
        self.leases = dict.fromkeys(taken, lease)
        self.at = at  # the claim's time: backoff counts from it
        self.clock = _Clock(at)
        self.counts = Counts()

    def finish(self, row: Notification, outcome: str, **changes: Any) -> bool:
        """Record the outcome if the lease is still ours."""
        mine = Notification.objects.filter(pk=row.pk, leased_until=self.leases[row.pk])
        if mine.update(leased_until=None, **changes):
            setattr(self.counts, outcome, getattr(self.counts, outcome) + 1)
            return True
        self.counts.lost += 1
        log.warning(
            "notification %s: lease lost (another worker took the row over); this worker's "
            "outcome (%s) is not recorded",
            row.pk,
            outcome,
        )
        return False

    def renew(self, row: Notification) -> bool:
        """Before sending: extend the lease if it is still ours, else leave the row."""
        lease = _lease_after(self.clock.now())
        mine = Notification.objects.filter(
            pk=row.pk, status=Status.PENDING, leased_until=self.leases[row.pk]
        )
        if mine.update(leased_until=lease):
            self.leases[row.pk] = lease
            return True
        self.counts.lost += 1
        log.warning(
            "notification %s: lease lost (another worker took the row over); not sent by this one",
            row.pk,
        )
        return False

    def failed_try(self, row: Notification, error: str) -> None:
        if row.attempts >= settings.NOTIFICATION_MAX_ATTEMPTS:
            if self.finish(row, "failed", status=Status.FAILED, last_error=error):
                log.error("notification %s failed after %s tries: %s", row.pk, row.attempts, error)
            return
        retry_at = self.at + backoff(row.attempts)
        if self.finish(row, "retried", last_error=error, next_attempt_at=retry_at):
            log.warning(
                "notification %s: try %s failed (%s); retrying", row.pk, row.attempts, error
            )


def _deliver_batch(*, ids: Iterable[int] | None, now: datetime | None) -> tuple[list[int], Counts]:
    """Claim one batch and deliver it over one SMTP connection."""
    taken, lease, at = _claim(now=now, ids=ids, limit=BATCH)
    if not taken:
        return taken, Counts()
    batch = _Batch(taken, lease, at)
    rows = list(
        Notification.objects.filter(pk__in=taken)
        .select_related(
            "recipient__preference", "training_request__equipment", "training_request__user"
        )
        .order_by("pk")
    )
    found = Reservation.objects.select_related(*RELATED).in_bulk(
        {pk for row in rows for pk in _ids(row)}
    )
    managed = _managed(rows, found)
    trainers = _training_managers(rows)
    alternatives = _alternatives(rows, found, managed, now=at)
    connection: Any = None
    try:
        for index, row in enumerate(rows):
            try:
                items = _items(row, found, managed)
                skip = _why_skipped(row, found, items, now=batch.clock.now(), trainers=trainers)
                message = None if skip else _prepare(row, items, alternatives)
            except Exception as exc:  # this row's own fault: it alone fails this try
                log.warning("notification %s could not be prepared", row.pk, exc_info=True)
                batch.failed_try(row, _error(exc))
                continue
            if skip:
                batch.finish(row, "skipped", status=Status.SKIPPED, last_error=skip)
                continue
            if not batch.renew(row):
                continue
            try:
                if connection is None:
                    connection = get_connection(fail_silently=False)
                    connection.open()
                sent = connection.send_messages([message])
            except MESSAGE_ERRORS as exc:  # this message only: the next may pass
                batch.failed_try(row, _error(exc))
            except OSError as exc:
                # The server is unreachable, stalled or gone (smtplib's errors are OSErrors
                # too): this try ends for the rest of the batch, without waiting for the
                # timeout once per message.
                error = _error(exc)
                for rest in rows[index:]:
                    batch.failed_try(rest, error)
                _close(connection)
                connection = None
                break
            except Exception as exc:  # this message's own fault; start a clean session
                log.warning("notification %s could not be sent", row.pk, exc_info=True)
                batch.failed_try(row, _error(exc))
                _close(connection)
                connection = None
            else:
                if not sent:
                    batch.failed_try(row, NOT_SENT)
                elif not batch.finish(
                    row, "sent", status=Status.SENT, sent_at=timezone.now(), last_error=""
                ):
                    log.warning(
                        "notification %s was sent after its lease ran out: the worker that "
                        "took it over may send it again (same Message-ID)",
                        row.pk,
                    )
    finally:
        _close(connection)
    return taken, batch.counts


def _alternatives(
    rows: list[Notification],
    found: dict[int, Reservation],
    managed: set[tuple[int, int]],
    *,
    now: datetime,
) -> Alternatives:
    """The alternatives of every reservation the batch tells displaced, computed together (one
    call per event: a closure displacing twenty people's bookings costs the queries of one).
    Should that fail, each row computes its own in `_prepare`, and a bad one fails alone."""
    alternatives = Alternatives()
    try:
        by_event: dict[datetime, list[Reservation]] = defaultdict(list)
        for row in rows:
            if row.kind in DISPLACEMENTS:
                items = _items(row, found, managed)
                if not _why_skipped(row, found, items, now=now):
                    by_event[row.event_at] += items
        for event_at, items in by_event.items():
            alternatives.add(items, now=event_at)
    except Exception:  # some row's own fault: each finds out in _prepare
        log.warning(
            "the alternatives of a batch could not be computed together; each notification "
            "computes its own",
            exc_info=True,
        )
    return alternatives


def _prepare(row: Notification, items: list[Reservation], alternatives: Alternatives) -> Any:
    """The row's email, rendered and built to bytes: whatever is wrong with this message
    (a template, a translation, an .ics, an invalid address) fails here, as this row's own
    error, and not in the middle of the batch's SMTP session."""
    if row.kind in ACCOUNT_KINDS:
        message: EmailMessage = render_account(
            row.kind, row.recipient, language=row.language, headers={"Message-ID": row.message_id}
        )
        return _built(message)
    if row.kind in DISPLACEMENTS:
        alternatives.add(items, now=row.event_at)
    if row.kind in TRAINING_KINDS:
        return _built(
            render_training(
                row.kind,
                row.recipient,
                row.training_request,
                reason=row.reason,
                headers={"Message-ID": row.message_id},
            )
        )
    message = render(
        row.kind,
        row.recipient,
        items,
        now=row.event_at,
        reason=row.reason,
        alternatives=alternatives,
        headers={"Message-ID": row.message_id},
        language=row.language,
    )
    return _built(message)


def _built(message: EmailMessage) -> EmailMessage:
    """The message, once checked to build (addresses, encoding) before the SMTP session."""
    encoding = message.encoding or settings.DEFAULT_CHARSET
    for address in [message.from_email, *message.recipients()]:
        sanitize_address(address, encoding)  # ValueError: Invalid address "x@"
    message.message().as_bytes(linesep="\r\n")  # type: ignore[call-arg]  # Django's own call
    return message


def _ids(row: Notification) -> list[int]:
    return [pk for pk in row.reservation_ids if isinstance(pk, int)]


def _managed(rows: list[Notification], found: dict[int, Reservation]) -> set[tuple[int, int]]:
    """(equipment, user) pairs of the recipients of requests to approve who manage it now."""
    requests = [row for row in rows if row.kind == Kind.PENDING_REQUEST]
    if not requests:
        return set()
    equipment = {found[pk].equipment_id for row in requests for pk in _ids(row) if pk in found}
    pairs = Equipment.managers.through.objects.filter(
        equipment_id__in=equipment, user_id__in={row.recipient_id for row in requests}
    ).values_list("equipment_id", "user_id")
    return set(pairs)


def _items(
    row: Notification, found: dict[int, Reservation], managed: set[tuple[int, int]]
) -> list[Reservation]:
    items = [found[pk] for pk in _ids(row) if pk in found]
    if row.kind == Kind.PENDING_REQUEST:
        # Only what still waits, on equipment the recipient still manages: a former manager
        # is never told the details of a (possibly confidential) request.
        items = [
            r
            for r in items
            if r.status == ReservationStatus.PENDING
            and (r.equipment_id, row.recipient_id) in managed
        ]
    elif row.kind == Kind.REMINDER:
        # A reminder delivered late (retries) names only what still stands: not a booking
        # cancelled since the reminders' job ran.
        items = [r for r in items if r.status in LIVE_STATUSES]
    return items


def _training_managers(rows: list[Notification]) -> set[tuple[int, int]]:
    """(equipment, user) pairs of the recipients of training requests who manage it now."""
    asked = {
        (row.training_request.equipment_id, row.recipient_id)
        for row in rows
        if row.kind == Kind.TRAINING_REQUEST and row.training_request is not None
    }
    if not asked:
        return set()
    pairs = Equipment.managers.through.objects.filter(
        equipment_id__in={pair[0] for pair in asked}, user_id__in={pair[1] for pair in asked}
    ).values_list("equipment_id", "user_id")
    return set(pairs)


def _why_training_skipped(row: Notification, trainers: set[tuple[int, int]]) -> str:
    """Why this notification of a training request is not sent ("" when it is): a manager is
    told only of a request that still waits, on equipment they still manage."""
    request = row.training_request
    if request is None:
        return TRAINING_GONE
    if row.kind == Kind.TRAINING_REQUEST:
        if request.status != request.Status.PENDING:
            return TRAINING_DECIDED
        if (request.equipment_id, row.recipient_id) not in trainers:
            return NOT_TRAINER
    return ""


def _why_skipped(
    row: Notification,
    found: dict[int, Reservation],
    items: list[Any],
    *,
    now: datetime,
    trainers: set[tuple[int, int]] | None = None,
) -> str:
    """Why this row is not sent ("" when it is); `now`: the database's clock."""
    user = row.recipient
    if not user.email:
        return NO_ADDRESS
    if not user.is_active:
        return INACTIVE
    kind = Kind(row.kind)  # ValueError for an unknown kind
    if kind in ACCOUNT_KINDS:
        return _why_account_skipped(row, now=now)
    if not wants_email(user, TOPIC[kind]):
        return TURNED_OFF
    if kind in TRAINING_KINDS:
        return _why_training_skipped(row, trainers or set())
    if items:
        return ""
    if row.kind == Kind.PENDING_REQUEST and any(pk in found for pk in _ids(row)):
        still = [found[pk] for pk in _ids(row) if pk in found]
        if any(r.status == ReservationStatus.PENDING for r in still):
            return NOT_MANAGER
        return NOT_PENDING
    if row.kind == Kind.REMINDER and any(pk in found for pk in _ids(row)):
        return NOT_LIVE
    return GONE


def _why_account_skipped(row: Notification, *, now: datetime) -> str:
    """A password reset is sent whatever the recipient's preferences (they asked for it), but
    not to an account that has no password (it became single sign-on only), nor once
    PASSWORD_RESET_TIMEOUT passed since it was asked for (retries, a stopped worker):
    whoever asked has given up, and a link arriving days later surprises more than helps."""
    if not row.recipient.has_usable_password():
        return NO_PASSWORD
    if row.created_at + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT) <= now:
        return EXPIRED
    return ""


def _error(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


def _close(connection: Any) -> None:
    if connection is not None:
        try:
            connection.close()
        except Exception:  # closing a dead connection may fail too; nothing to keep
            log.debug("closing the mail connection failed", exc_info=True)
