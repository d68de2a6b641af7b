"""Training requests (SPEC §13): a user asks for training on an equipment that requires a
qualification; its managers accept it (granting the qualification until a date) or
decline it with a reason; the requester may withdraw it. One pending request per user and
equipment, guaranteed by the database too; each write audited; SPEC §6 for who acts."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import IntegrityError, transaction

from core.errors import DomainError
from core.models import AuditEntry, AuditObject
from core.roles import SYSTEM
from equipment.models import Qualification, TrainingRequest
from equipment.permissions import (
    may_cancel_training_request,
    may_decide_training_request,
    may_see_training_request,
)
from equipment.selectors import training_requests_to_decide, training_requests_visible_to
from equipment.services import (
    qualification_grant,
    training_request_accept,
    training_request_cancel,
    training_request_create,
    training_request_decline,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
TODAY = date(2026, 11, 23)


def ask(campus, user=None, equipment=None, **extra):
    return training_request_create(
        user=user or campus.researcher, equipment=equipment or campus.hplc, now=NOW, **extra
    )


def refused(call, code: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call()
    assert caught.value.code == code, caught.value.body()
    return caught.value


def test_a_request_waits_with_its_message_and_is_audited(campus):
    request = ask(campus, message="  Je débute en HPLC.  ")
    assert (request.status, request.message, request.created_at) == (
        "pending",
        "Je débute en HPLC.",
        NOW,
    )
    assert (request.decided_by, request.decided_at, request.valid_until) == (None, None, None)
    (entry,) = AuditEntry.objects.filter(object_type=AuditObject.TRAINING_REQUEST)
    assert (entry.object_id, entry.action, entry.by, entry.at) == (
        request.pk,
        "request",
        campus.researcher,
        NOW,
    )
    assert entry.equipment_id == campus.hplc.pk  # its managers read it in the trail


def test_one_pending_request_per_user_and_equipment(campus):
    ask(campus)
    error = refused(lambda: ask(campus), "training_request_pending")
    assert error.status == 400
    # Another user, or the same user on another equipment, may ask.
    ask(campus, user=campus.teacher)
    campus.rheometer.requires_qualification = True
    campus.rheometer.save()
    ask(campus, equipment=campus.rheometer)
    assert TrainingRequest.objects.count() == 3


def test_the_database_refuses_a_second_pending_request(campus):
    ask(campus)
    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingRequest.objects.create(
            user=campus.researcher, equipment=campus.hplc, created_at=NOW
        )
    # Decided requests do not count: a new one may wait beside them.
    TrainingRequest.objects.create(
        user=campus.researcher, equipment=campus.hplc, created_at=NOW, status="declined"
    )


def test_after_a_decision_the_user_may_ask_again(campus):
    first = ask(campus)
    training_request_decline(
        actor=campus.eq_manager, training_request=first, reason="Complet", now=NOW
    )
    second = ask(campus)
    assert second.pk != first.pk and second.status == "pending"


def test_equipment_without_qualification_is_refused(campus):
    error = refused(lambda: ask(campus, equipment=campus.rheometer), "qualification_not_required")
    assert error.status == 400
    assert not TrainingRequest.objects.exists()


def test_a_user_qualified_beyond_today_is_refused_but_may_renew_on_the_last_day(campus):
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 6, 30)
    )
    refused(lambda: ask(campus), "already_qualified")
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=TODAY
    )
    assert ask(campus).status == "pending"


def test_accept_grants_the_qualification_and_audits_both(campus):
    request = ask(campus)
    until = date(2027, 11, 30)
    done = training_request_accept(
        actor=campus.eq_manager, training_request=request, valid_until=until, now=NOW
    )
    assert (done.status, done.valid_until, done.decided_by, done.decided_at) == (
        "accepted",
        until,
        campus.eq_manager,
        NOW,
    )
    qualification = Qualification.objects.get(user=campus.researcher, equipment=campus.hplc)
    assert (qualification.valid_until, qualification.granted_by) == (until, campus.eq_manager)
    actions = set(
        AuditEntry.objects.filter(equipment_id=campus.hplc.pk).values_list("object_type", "action")
    )
    assert {("qualification", "grant"), ("training_request", "accept")} <= actions


def test_accept_renews_an_expiring_qualification(campus):
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=TODAY
    )
    request = ask(campus)
    training_request_accept(
        actor=campus.admin, training_request=request, valid_until=date(2028, 1, 1), now=NOW
    )
    (qualification,) = Qualification.objects.filter(user=campus.researcher)
    assert qualification.valid_until == date(2028, 1, 1)
    assert AuditEntry.objects.filter(object_type="qualification", action="renew").exists()


def test_accept_needs_a_date_not_in_the_past(campus):
    request = ask(campus)
    error = refused(
        lambda: training_request_accept(
            actor=campus.eq_manager,
            training_request=request,
            valid_until=TODAY - timedelta(days=1),
            now=NOW,
        ),
        "invalid",
    )
    assert list(error.extra["fields"]) == ["valid_until"]
    request.refresh_from_db()
    assert request.status == "pending"
    assert not Qualification.objects.exists()
    # Today is not in the past.
    training_request_accept(
        actor=campus.eq_manager, training_request=request, valid_until=TODAY, now=NOW
    )


def test_decline_needs_a_reason_and_keeps_it(campus):
    request = ask(campus)
    error = refused(
        lambda: training_request_decline(
            actor=campus.eq_manager, training_request=request, reason="   ", now=NOW
        ),
        "required",
    )
    assert list(error.extra["fields"]) == ["reason"]
    done = training_request_decline(
        actor=campus.eq_manager, training_request=request, reason="Formation en janvier", now=NOW
    )
    assert (done.status, done.reason, done.decided_by) == (
        "declined",
        "Formation en janvier",
        campus.eq_manager,
    )
    assert not Qualification.objects.exists()
    entry = AuditEntry.objects.get(object_type="training_request", action="decline")
    assert entry.reason == "Formation en janvier"


def test_only_pending_requests_are_decided_or_cancelled(campus):
    request = ask(campus)
    training_request_cancel(actor=campus.researcher, training_request=request, now=NOW)
    request.refresh_from_db()
    assert request.status == "cancelled"
    for call in (
        lambda: training_request_accept(
            actor=campus.eq_manager, training_request=request, valid_until=TODAY, now=NOW
        ),
        lambda: training_request_decline(
            actor=campus.eq_manager, training_request=request, reason="Non", now=NOW
        ),
        lambda: training_request_cancel(actor=campus.researcher, training_request=request, now=NOW),
    ):
        refused(call, "training_request_decided")
    assert not Qualification.objects.exists()


def test_who_decides_and_who_cancels(campus, make_user):
    request = ask(campus)
    other_manager = make_user("autre_gestionnaire")
    campus.rheometer.managers.add(other_manager)
    for actor in (campus.researcher, other_manager, campus.outsider):
        refused(
            lambda actor=actor: training_request_accept(
                actor=actor, training_request=request, valid_until=TODAY, now=NOW
            ),
            "permission_denied",
        )
        refused(
            lambda actor=actor: training_request_decline(
                actor=actor, training_request=request, reason="Non", now=NOW
            ),
            "permission_denied",
        )
    # Managers decline rather than cancel: only the requester withdraws.
    for actor in (campus.eq_manager, campus.admin, campus.outsider):
        refused(
            lambda actor=actor: training_request_cancel(
                actor=actor, training_request=request, now=NOW
            ),
            "permission_denied",
        )
    request.refresh_from_db()
    assert request.status == "pending"


def test_permissions_of_section_6(campus, make_user):
    request = ask(campus)
    other_manager = make_user("autre_gestionnaire")
    campus.rheometer.managers.add(other_manager)
    assert may_see_training_request(campus.researcher, request)
    assert may_see_training_request(campus.eq_manager, request)
    assert may_see_training_request(campus.admin, request)
    assert not may_see_training_request(other_manager, request)
    assert not may_see_training_request(campus.outsider, request)
    assert may_decide_training_request(campus.eq_manager, request)
    assert may_decide_training_request(campus.admin, request)
    assert not may_decide_training_request(campus.researcher, request)
    assert may_cancel_training_request(campus.researcher, request)
    assert not may_cancel_training_request(campus.eq_manager, request)

    visible = {u: set(training_requests_visible_to(u)) for u in (other_manager, campus.outsider)}
    assert visible == {other_manager: set(), campus.outsider: set()}
    assert set(training_requests_visible_to(campus.researcher)) == {request}
    assert set(training_requests_visible_to(campus.eq_manager)) == {request}
    assert set(training_requests_visible_to(campus.admin)) == {request}
    assert list(training_requests_to_decide(campus.eq_manager)) == [request]
    assert list(training_requests_to_decide(campus.researcher)) == []
    assert list(training_requests_to_decide(other_manager)) == []
