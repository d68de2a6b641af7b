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


def forward(apps, schema_editor):
    db = schema_editor.connection.alias
    Old = apps.get_model("reservations", "AuditEntry")
    New = apps.get_model("core", "AuditEntry")
    rows = (
        Old.objects.using(db)
        .order_by("pk")
        .values(
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
    batch = []
    for row in rows.iterator(chunk_size=CHUNK):
        batch.append(
            New(
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


def backward(apps, schema_editor):
    from django.utils.dateparse import parse_datetime

    db = schema_editor.connection.alias
    Old = apps.get_model("reservations", "AuditEntry")
    New = apps.get_model("core", "AuditEntry")
    Reservation = apps.get_model("reservations", "Reservation")
    entries = New.objects.using(db).filter(object_type="reservation").order_by("at", "pk")
    times = dict(
        (pk, (start, end, status))
        for pk, start, end, status in Reservation.objects.using(db).values_list(
            "pk", "start", "end", "status"
        )
    )
    batch = []
    for entry in entries.iterator(chunk_size=CHUNK):
        if entry.object_id not in times:
            continue
        start, end, status = times[entry.object_id]
        changes = entry.changes or {}

        def pair(name, current, changes=changes):
            if name not in changes:
                return None, current
            old, new = changes[name]
            if name == "status":
                return old or "", new
            return (parse_datetime(old) if old else None), parse_datetime(new)

        from_status, to_status = pair("status", status)
        from_start, to_start = pair("start", start)
        from_end, to_end = pair("end", end)
        batch.append(
            Old(
                reservation_id=entry.object_id,
                at=entry.at,
                by_id=entry.by_id,
                action=entry.action,
                from_status=from_status if "status" in changes else to_status,
                to_status=to_status,
                from_start=from_start,
                from_end=from_end,
                to_start=to_start,
                to_end=to_end,
                reason=entry.reason,
                overridden=entry.overridden,
            )
        )
    Old.objects.using(db).bulk_create(batch, batch_size=CHUNK)
    entries.delete()


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0001_audit_trail"),
        ("reservations", "0005_partners_moved_closure_taken_over"),
    ]

    operations = [
        migrations.RunPython(forward, backward),
        migrations.DeleteModel(name="AuditEntry"),
    ]
