"""SQLite has no exclusion constraint: triggers refuse overlapping live reservations.

PostgreSQL gets the exclusion constraint of migration 0002 instead; on it this is a no-op.
With IMMEDIATE transactions (settings), writers are serialised, so the check in the
trigger cannot race with another insert.
"""

from django.db import migrations

LIVE = "('pending', 'confirmed')"
CHECK = f"""
    WHEN NEW.status IN {LIVE}
    BEGIN
        SELECT RAISE(ABORT, 'reservation_no_overlap')
        WHERE EXISTS (
            SELECT 1 FROM reservations_reservation AS other
            WHERE other.equipment_id = NEW.equipment_id
              AND other.id IS NOT NEW.id
              AND other.status IN {LIVE}
              AND other.start < NEW.blocked_until
              AND NEW.start < other.blocked_until
        );
    END
"""
CREATE = [
    f"CREATE TRIGGER reservation_no_overlap_insert BEFORE INSERT ON reservations_reservation {CHECK}",
    f"CREATE TRIGGER reservation_no_overlap_update BEFORE UPDATE OF equipment_id, start, blocked_until, status ON reservations_reservation {CHECK}",
]
DROP = [
    "DROP TRIGGER IF EXISTS reservation_no_overlap_insert",
    "DROP TRIGGER IF EXISTS reservation_no_overlap_update",
]


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("reservations", "0002_reservation_engine")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
