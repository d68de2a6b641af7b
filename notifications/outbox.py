"""Record notifications in the transaction of the change they report (SPEC §12).

Recording is cheap: one insert (and, for requests awaiting approval, one read of the
equipment's managers); the email is rendered by the worker at delivery. Once the change
commits, the new rows are handed to the task queue for prompt delivery; should that fail
or the process stop in between, the worker's periodic sweep delivers them anyway.

A password reset (SPEC §13) is recorded the same way, by `password_reset_request`.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from core.tasks import enqueue_hint
from equipment.models import Equipment
from reservations.models import ReservationStatus

from .emails import booker_kind
from .models import Kind, Notification, Status, new_notification

log = logging.getLogger(__name__)


def record(
    kind: str,
    reservations: Sequence[Any],
    *,
    now: datetime | None = None,
    reason: str = "",
) -> list[Notification]:
    """One notification of `kind` per booker of these reservations, and for a booking that
    waits for approval (made by its booker or by the waitlist), one per manager of its
    equipment."""
    event_at = now or timezone.now()
    by_booker: dict[int, list[Any]] = defaultdict(list)
    for reservation in reservations:
        by_booker[reservation.booked_by_id].append(reservation)
    rows = []
    for user_id, items in by_booker.items():
        own = booker_kind(kind, items)
        rows.append(new_notification(own, user_id, _ids(items), event_at=event_at, reason=reason))
    if kind in (Kind.CONFIRMED, Kind.WAITLIST_BOOKED):
        rows += _pending_requests(reservations, event_at=event_at)
    return save(rows)


def _ids(items: Iterable[Any]) -> list[int]:
    return [r.pk for r in items]


def _pending_requests(reservations: Sequence[Any], *, event_at: datetime) -> list[Notification]:
    """Tell each manager of the equipment the requests that wait for their approval."""
    pending = [r for r in reservations if r.status == ReservationStatus.PENDING]
    if not pending:
        return []
    managers = Equipment.managers.through.objects.filter(
        equipment_id__in={r.equipment_id for r in pending}
    ).values_list("equipment_id", "user_id")
    by_manager: dict[int, list[int]] = defaultdict(list)
    for equipment_id, user_id in managers:
        by_manager[user_id] += [r.pk for r in pending if r.equipment_id == equipment_id]
    return [
        new_notification(Kind.PENDING_REQUEST, user_id, sorted(ids), event_at=event_at, reason="")
        for user_id, ids in by_manager.items()
    ]


def record_training(
    action: str, requests: Sequence[Any], *, now: datetime | None = None
) -> list[Notification]:
    """A created training request: one notification per manager of its equipment; an
    accepted or declined one: one to the requester (with the validity date or the reason)."""
    event_at = now or timezone.now()
    rows = []
    if action == "created":
        managers = list(
            Equipment.managers.through.objects.filter(
                equipment_id__in={r.equipment_id for r in requests}
            ).values_list("equipment_id", "user_id")
        )
        for request in requests:
            rows += [
                new_notification(
                    Kind.TRAINING_REQUEST,
                    user_id,
                    [],
                    event_at=event_at,
                    reason="",
                    training_request_id=request.pk,
                )
                for equipment_id, user_id in managers
                if equipment_id == request.equipment_id
            ]
    elif action in {"accepted", "declined"}:
        kind = Kind.TRAINING_ACCEPTED if action == "accepted" else Kind.TRAINING_DECLINED
        rows += [
            new_notification(
                kind,
                request.user_id,
                [],
                event_at=event_at,
                reason=request.reason if action == "declined" else "",
                training_request_id=request.pk,
            )
            for request in requests
        ]
    return save(rows)


def save(rows: list[Notification]) -> list[Notification]:
    """Insert the rows and have them delivered once the transaction commits."""
    if not rows:
        return []
    saved = Notification.objects.bulk_create(rows)
    ids = [row.pk for row in saved if row.status == Status.PENDING]
    if ids:
        transaction.on_commit(lambda: enqueue(ids))
    return saved


def enqueue(ids: list[int]) -> None:
    """Ask the worker to deliver these rows now; the sweep catches them if this fails."""
    from .tasks import deliver_notifications

    try:
        enqueue_hint(deliver_notifications, ids)
    except Exception as error:
        # Expected when the database or broker goes away between the commit and this call
        # (the rows are committed, the sweep delivers them): one line, not a traceback.
        log.warning(
            "could not enqueue notifications %s (%s: %s); the sweep will deliver them",
            ids,
            type(error).__name__,
            error,
        )


def password_reset_request(*, user: Any, language: str = "") -> Notification | None:
    """Record the password reset email of `user` (an active account with a usable password,
    as Django's PasswordResetForm.get_users finds them), delivered by the worker, which
    makes the link then. `language` is the asking page's, for a user who chose none.

    At most PASSWORD_RESET_PER_HOUR per user over the last hour: past it, nothing is recorded
    and None answered (the page says the same either way). The count is the outbox's own
    rows, so it holds across servers; the user's row is locked while counting, so that two
    concurrent requests cannot both take the last one.
    """
    with transaction.atomic():
        # Locks the user's row (PostgreSQL; SQLite serialises the writers anyway).
        list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        since = timezone.now() - timedelta(hours=1)
        recent = Notification.objects.filter(
            kind=Kind.PASSWORD_RESET, recipient_id=user.pk, created_at__gt=since
        ).count()
        if recent >= settings.PASSWORD_RESET_PER_HOUR:
            return None
        row = new_notification(
            Kind.PASSWORD_RESET,
            user.pk,
            [],
            event_at=timezone.now(),
            reason="",
            language=language,
        )
        (saved,) = save([row])
    return saved
