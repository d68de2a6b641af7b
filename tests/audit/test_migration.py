"""reservations/0006: the old reservation audit rows become entries of the one trail.

The upgrade test (tests/platform/test_upgrade_migrations.py) checks the row counts and
the way back on the demo data; here, what each kind of old row becomes.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE = [("core", "0004_audit_trail"), ("reservations", "0005_partners_moved_closure_taken_over")]
AFTER = [("reservations", "0006_audit_entries_join_the_one_trail")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def test_old_rows_keep_their_ids_and_say_what_changed(campus):
    """Old rows of a move, a creation with an override and a cancellation, and back."""
    t = [datetime(2026, 11, 23, h, tzinfo=UTC) for h in range(8, 14)]
    try:
        apps = migrate(BEFORE)
        apps.get_model("core", "AuditEntry").objects.all().delete()  # the campus's own
        Reservation = apps.get_model("reservations", "Reservation")
        Old = apps.get_model("reservations", "AuditEntry")
        booking = Reservation.objects.create(
            equipment_id=campus.hplc.pk,
            project_id=campus.research.pk,
            booked_by_id=campus.researcher.pk,
            start=t[4],
            end=t[5],
            blocked_until=t[5],
            title="Mesures",
            status="cancelled",
            priority="research",
            status_changed_at=t[0],
            created_at=t[0],
            updated_at=t[0],
        )
        common = {"reservation": booking, "by_id": campus.researcher.pk}
        create = Old.objects.create(
            **common,
            at=t[0],
            action="create",
            to_status="confirmed",
            to_start=t[2],
            to_end=t[3],
            overridden=["outside_opening_hours"],
        )
        move = Old.objects.create(
            **common,
            at=t[1],
            action="move",
            from_status="confirmed",
            to_status="confirmed",
            from_start=t[2],
            from_end=t[3],
            to_start=t[4],
            to_end=t[5],
        )
        cancel = Old.objects.create(
            **common,
            at=t[2],
            action="cancel",
            from_status="confirmed",
            to_status="cancelled",
            to_start=t[4],
            to_end=t[5],
            reason="Plus besoin",
        )
        apps = migrate(AFTER)
        New = apps.get_model("core", "AuditEntry")
        rows = {e.pk: e for e in New.objects.all()}
        assert set(rows) == {create.pk, move.pk, cancel.pk}
        assert {(e.object_type, e.object_id, e.equipment_id) for e in rows.values()} == {
            ("reservation", booking.pk, campus.hplc.pk)
        }
        iso = [x.isoformat() for x in t]
        assert rows[create.pk].changes == {
            "status": [None, "confirmed"],
            "start": [None, iso[2]],
            "end": [None, iso[3]],
        }
        assert rows[create.pk].overridden == ["outside_opening_hours"]
        assert rows[move.pk].changes == {"start": [iso[2], iso[4]], "end": [iso[3], iso[5]]}
        assert rows[cancel.pk].changes == {"status": ["confirmed", "cancelled"]}
        assert rows[cancel.pk].reason == "Plus besoin"
        # New entries follow the kept ids (the sequence was moved past them).
        assert New.objects.create(
            at=t[3], object_type="closure", object_id=1, action="create"
        ).pk > max(rows)
        # And back: the old rows again, as they were.
        apps = migrate(BEFORE)
        Old = apps.get_model("reservations", "AuditEntry")
        back = {e.pk: e for e in Old.objects.all()}
        assert set(back) == {create.pk, move.pk, cancel.pk}
        assert (back[move.pk].from_start, back[move.pk].to_start) == (t[2], t[4])
        assert (back[move.pk].from_status, back[move.pk].to_status) == ("confirmed", "confirmed")
        assert (back[cancel.pk].from_status, back[cancel.pk].to_status) == (
            "confirmed",
            "cancelled",
        )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
