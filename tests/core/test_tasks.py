"""Task hints: committed without waiting for the disk, and only in a transaction of their own."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult

from core.tasks import enqueue_hint
from notifications.tasks import deliver_notifications

DATABASE_BACKEND = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def verbs(captured: CaptureQueriesContext) -> list[str]:
    return [" ".join(q["sql"].split()[:4]) for q in captured.captured_queries]


@pytest.mark.django_db(transaction=True)
def test_a_hint_is_committed_without_waiting_for_the_disk(settings):
    settings.TASKS = DATABASE_BACKEND
    with CaptureQueriesContext(connection) as captured:
        result = enqueue_hint(deliver_notifications, [41, 42])
    row = DBTaskResult.objects.get(id=result.id)  # committed: another transaction reads it
    assert row.args_kwargs == {"args": [[41, 42]], "kwargs": {}}
    if connection.vendor == "postgresql":
        assert verbs(captured) == [
            "BEGIN",
            "SET LOCAL synchronous_commit TO",
            'INSERT INTO "django_tasks_database_dbtaskresult" ("id",',
            "COMMIT",
        ]
        with connection.cursor() as cursor:  # LOCAL: the next transactions wait again
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == "on"
    else:
        assert verbs(captured) == ['INSERT INTO "django_tasks_database_dbtaskresult" ("id",']


@pytest.mark.django_db(transaction=True)
def test_a_hint_inside_a_change_leaves_its_commit_alone(settings):
    settings.TASKS = DATABASE_BACKEND
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        enqueue_hint(deliver_notifications, [7])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SHOW synchronous_commit")
                assert cursor.fetchone()[0] == "on"
    assert not any("synchronous_commit TO OFF" in q["sql"] for q in captured.captured_queries)
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_booking_hints_after_its_commit(client_for, campus, settings, monkeypatch):
    """Through the API, on a real commit: the booking's emails and calendar sync are
    enqueued, each as a hint of its own."""
    from tests.api.test_reservations_api import NOW, WED, book, booked

    monkeypatch.setattr("reservations.api.booking.timezone.now", lambda: NOW)
    settings.TASKS = DATABASE_BACKEND
    client = client_for(campus.researcher)
    with CaptureQueriesContext(connection) as captured:
        booked(book(client, campus.rheometer, campus.research, WED, "08:00", "09:00"))
    tasks = sorted(DBTaskResult.objects.values_list("task_path", flat=True))
    assert tasks == ["calendars.sync.sync_mirror", "notifications.tasks.deliver_notifications"]
    relaxed = [q for q in captured.captured_queries if "synchronous_commit TO OFF" in q["sql"]]
    assert len(relaxed) == (2 if connection.vendor == "postgresql" else 0)
