"""The outbox in the admin (SPEC §12): platform managers try failed or skipped notifications
again; a row a worker may be delivering is left alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.utils import timezone

from notifications.admin import NotificationAdmin
from notifications.models import Kind, Notification, Status, new_notification

pytestmark = pytest.mark.django_db

URL = "/admin/notifications/notification/"


@pytest.fixture
def rows(campus):
    now = timezone.now()
    made = {}
    for status in (Status.PENDING, Status.FAILED, Status.SKIPPED, Status.SENT):
        row = new_notification(Kind.CONFIRMED, campus.researcher.pk, [], event_at=now, reason="")
        row.status = status
        row.attempts = 3
        row.last_error = "ConnectionRefusedError: refused"
        row.next_attempt_at = now + timedelta(minutes=25)
        if status == Status.PENDING:  # a worker is delivering it right now
            row.leased_until = now + timedelta(minutes=5)
        row.save()
        made[status] = row
    return made


def test_retry_takes_failed_and_skipped_rows_only(campus, rows, client):
    campus.admin.is_superuser = True
    campus.admin.save()
    client.force_login(campus.admin)
    response = client.post(
        URL,
        {"action": "retry", "_selected_action": [row.pk for row in rows.values()]},
        follow=True,
    )
    assert response.status_code == 200
    for status in (Status.FAILED, Status.SKIPPED):
        row = Notification.objects.get(pk=rows[status].pk)
        assert (row.status, row.attempts, row.leased_until) == ("pending", 0, None)
        assert row.next_attempt_at <= timezone.now()
    pending = Notification.objects.get(pk=rows[Status.PENDING].pk)
    assert (pending.attempts, pending.leased_until) == (3, rows[Status.PENDING].leased_until)
    assert Notification.objects.get(pk=rows[Status.SENT].pk).status == "sent"
    texts = [str(m) for m in response.context["messages"]]
    assert texts == [
        "2 notifications seront renvoyées.",
        # The two rows left as they were: the one being delivered and the one sent.
        "2 notifications ont été laissées telles quelles : seules les notifications en "
        "échec ou non envoyées sont renvoyées.",
    ], texts


def test_only_platform_managers_may_retry(campus):
    model_admin = NotificationAdmin(Notification, admin.site)
    request = RequestFactory().get(URL)
    for user, allowed in (
        (campus.admin, True),  # staff: a platform manager
        (campus.eq_manager, False),
        (AnonymousUser(), False),
    ):
        request.user = user
        assert model_admin.has_retry_permission(request) is allowed
