"""Training requests through the outbox (SPEC §12, §13): a new request is told to each
manager of its equipment, the decision to the requester (with the validity date or the
reason), in the recipient's language; a request decided before delivery is not sent to the
managers; the reservation kinds are untouched."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from core.roles import SYSTEM
from equipment.services import (
    equipment_update,
    training_request_accept,
    training_request_cancel,
    training_request_create,
    training_request_decline,
)
from notifications.delivery import deliver
from notifications.models import Kind, Notification, Status
from partners.preferences import email_topics, notification_preferences_set
from partners.services import user_language_set

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("addressed_campus")]

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)


def to(user) -> list:
    return [m for m in mail.outbox if m.to == [user.email]]


@pytest.fixture
def second_manager(campus, make_user):
    """The HPLC has two managers (the campus's and this one)."""
    manager = make_user("responsable", email="responsable@example.org")
    equipment_update(actor=SYSTEM, equipment=campus.hplc, managers=[campus.eq_manager, manager])
    return manager


def ask(campus, **extra):
    return training_request_create(
        user=campus.researcher, equipment=campus.hplc, now=NOW, message="Pour ma thèse", **extra
    )


def test_a_request_is_recorded_for_each_manager_and_delivered_after_commit(
    campus, second_manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(campus)
    rows = Notification.objects.order_by("recipient__username")
    assert [(r.recipient, r.kind, r.training_request_id, r.status) for r in rows] == [
        (campus.eq_manager, Kind.TRAINING_REQUEST, request.pk, Status.SENT),
        (second_manager, Kind.TRAINING_REQUEST, request.pk, Status.SENT),
    ]
    assert to(campus.researcher) == []  # the requester is not told of their own request
    (message,) = to(campus.eq_manager)
    assert message.subject == "Demande de formation à examiner"
    assert "WL-HPLC-01" in message.body and campus.researcher.username in message.body
    assert "Pour ma thèse" in message.body
    assert "/manage/training/" in message.body
    assert len(to(second_manager)) == 1


def test_acceptance_tells_the_requester_the_validity_date(
    campus, django_capture_on_commit_callbacks
):
    request = ask(campus)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        training_request_accept(
            actor=campus.eq_manager,
            training_request=request,
            valid_until=date(2027, 3, 31),
            now=NOW,
        )
    row = Notification.objects.get(kind=Kind.TRAINING_ACCEPTED)
    assert (row.recipient, row.training_request_id, row.status) == (
        campus.researcher,
        request.pk,
        Status.SENT,
    )
    (message,) = to(campus.researcher)
    assert message.subject == "Demande de formation acceptée"
    assert "31 mars 2027" in message.body
    assert f"/equipment/{campus.hplc.pk}/" in message.body
    assert to(campus.eq_manager) == []


def test_a_decline_tells_the_reason_in_the_requesters_language(
    campus, django_capture_on_commit_callbacks
):
    user_language_set(user=campus.researcher, language="en")
    request = ask(campus)
    with django_capture_on_commit_callbacks(execute=True):
        training_request_decline(
            actor=campus.eq_manager, training_request=request, reason="Session pleine", now=NOW
        )
    row = Notification.objects.get(kind=Kind.TRAINING_DECLINED)
    assert (row.recipient, row.reason) == (campus.researcher, "Session pleine")
    (message,) = to(campus.researcher)
    assert message.subject == "Training request declined"
    assert "Reason: Session pleine" in message.body


def test_a_cancelled_request_is_told_to_no_one_and_its_pending_rows_are_skipped(campus):
    request = ask(campus)
    (row,) = Notification.objects.all()  # recorded, not yet delivered
    training_request_cancel(actor=campus.researcher, training_request=request, now=NOW)
    assert Notification.objects.count() == 1  # no row for the cancellation
    counts = deliver(ids=[row.pk])
    row.refresh_from_db()
    assert (counts.skipped, row.status, row.last_error) == (
        1,
        Status.SKIPPED,
        "the training request is no longer pending",
    )
    assert mail.outbox == []


def test_a_former_manager_is_not_told(campus):
    ask(campus)
    (row,) = Notification.objects.all()
    equipment_update(actor=SYSTEM, equipment=campus.hplc, managers=[])
    deliver(ids=[row.pk])
    row.refresh_from_db()
    assert row.status == Status.SKIPPED
    assert "no longer manages" in row.last_error
    assert mail.outbox == []


def test_the_topics_can_be_turned_off(campus, django_capture_on_commit_callbacks):
    notification_preferences_set(user=campus.eq_manager, email={"training_request": False})
    notification_preferences_set(user=campus.researcher, email={"training_decision": False})
    with django_capture_on_commit_callbacks(execute=True):
        request = ask(campus)
    with django_capture_on_commit_callbacks(execute=True):
        training_request_decline(
            actor=campus.eq_manager, training_request=request, reason="Non", now=NOW
        )
    assert set(Notification.objects.values_list("status", "last_error")) == {
        (Status.SKIPPED, "turned off by the recipient")
    }
    assert mail.outbox == []
    # Only managers are offered the switch of the requests to decide.
    assert "training_request" in email_topics(campus.eq_manager)
    assert "training_request" not in email_topics(campus.researcher)
    assert "training_decision" in email_topics(campus.researcher)
