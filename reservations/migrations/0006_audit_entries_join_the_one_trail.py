"""Reservation audit entries join the one audit trail (core.AuditEntry), then their table goes.

Each old row becomes an entry of object type `reservation` whose `changes` hold what the
row's columns said: the status when it changed, the times when they moved (from nothing
for a creation). The equipment is the reservation's, so its managers read it. Reversible:
going back rebuilds the old rows from the reservation entries.
"""

from datetime import UTC

from django.db import migrations

CHUNK = 2000


def _json(value):
    return value.astimezone(UTC).isoformat() if value is not None else None


def _changes(row):
    changes = {}
    created = row["action"] == "create"
    if created or row["from_status"] != row["to_status"]:
        changes["status"] = [row["from_status"] or None, row["to_status"]]
    for name in ("start", "end"):
        old, new = row[f"from_{name}"], row[f"to_{name}"]
        if created or (old is not None and old != new):
            changes[name] = [_json(old), _json(new)]
    return changes


def _move_type(apps, db, old_app, new_app):
    """Move the model's content type (and so its permissions) as 0005 moved others; when
    the new one exists already (`migrate core` ran alone first), the old one stays stale."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    types = ContentType.objects.using(db).filter(model="auditentry")
    old = types.filter(app_label=old_app).first()
    if old is not None and not types.filter(app_label=new_app).exists():
        old.app_label = new_app
        old.save(update_fields=["app_label"])


def forward(apps, schema_editor):
    db = schema_editor.connection.alias
    _move_type(apps, db, "reservations", "core")
    Old = apps.get_model("reservations", "AuditEntry")
    New = apps.get_model("core", "AuditEntry")
    rows = (
        Old.objects.using(db)
        .order_by("pk")
        .values(
            "pk",
            "reservation_id",
            "reservation__equipment_id",
            "at",
            "by_id",
            "action",
            "from_status",
            "to_status",
            "from_start",
            "from_end",
            "to_start",
            "to_end",
            "reason",
            "overridden",
        )
    )
    # The trail is new, so entries keep their ids (and going back restores them), unless
    # something was recorded between `migrate core` and this migration.
    keep_ids = not New.objects.using(db).exists()
    batch = []
    for row in rows.iterator(chunk_size=CHUNK):
        batch.append(
            New(
                pk=row["pk"] if keep_ids else None,
                at=row["at"],
                by_id=row["by_id"],
                object_type="reservation",
                object_id=row["reservation_id"],
                action=row["action"],
                changes=_changes(row),
                reason=row["reason"],
                overridden=row["overridden"] or [],
                equipment_id=row["reservation__equipment_id"],
            )
        )
        if len(batch) >= CHUNK:
            New.objects.using(db).bulk_create(batch)
            batch = []
    New.objects.using(db).bulk_create(batch)
    if keep_ids:
        _reset_ids(schema_editor, New)


def _reset_ids(schema_editor, model):
    """After rows were inserted with their ids, the next id follows them (PostgreSQL)."""
    from django.core.management.color import no_style

    for sql in schema_editor.connection.ops.sequence_reset_sql(no_style(), [model]):
        schema_editor.execute(sql)


def backward(apps, schema_editor):
    """Rebuild the old rows from the reservation entries, replaying each reservation's
    entries in order: what an entry does not change is what the previous one left."""
    from django.utils.dateparse import parse_datetime

    db = schema_editor.connection.alias
    Old = apps.get_model("reservations", "AuditEntry")
    New = apps.get_model("core", "AuditEntry")
    Reservation = apps.get_model("reservations", "Reservation")
    entries = New.objects.using(db).filter(object_type="reservation").order_by("at", "pk")
    current = {
        pk: {"status": status, "start": start, "end": end}
        for pk, status, start, end in Reservation.objects.using(db).values_list(
            "pk", "status", "start", "end"
        )
    }
    state = {}
    batch = []
    for entry in entries.iterator(chunk_size=CHUNK):
        if entry.object_id not in current:
            continue
        known = state.setdefault(entry.object_id, dict(current[entry.object_id]))
        changes = entry.changes or {}
        before = dict(known)
        for name in ("status", "start", "end"):
            if name in changes:
                old, new = changes[name]
                if name == "status":
                    before[name], known[name] = old or "", new
                else:
                    before[name] = parse_datetime(old) if old else None
                    known[name] = parse_datetime(new)
            elif name != "status":
                before[name] = None
        batch.append(
            Old(
                pk=entry.pk,
                reservation_id=entry.object_id,
                at=entry.at,
                by_id=entry.by_id,
                action=entry.action,
                from_status=before["status"],
                to_status=known["status"],
                from_start=before["start"],
                from_end=before["end"],
                to_start=known["start"],
                to_end=known["end"],
                reason=entry.reason,
                overridden=entry.overridden,
            )
        )
    Old.objects.using(db).bulk_create(batch, batch_size=CHUNK)
    _reset_ids(schema_editor, Old)
    entries.delete()
    _move_type(apps, db, "core", "reservations")


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("core", "0004_audit_trail"),
        ("reservations", "0005_partners_moved_closure_taken_over"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="AuditEntry"),
    ]
