"""A GiST index on (equipment, held span): one equipment's window whatever its history.

`reservation_held_span` (0007) answers windows over many equipment or none. One equipment's
window (its month through the API, its availability, its feed) combined it with the
equipment's b-tree index, whose part grows with that equipment's history: on 1,000,000
reservations, 5,031 rows of equipment 1 and 4,200 of the month, ANDed into 21, 1.5 ms.
With (equipment_id, span) the same query reads the 21 rows from the index: 0.26 ms.

The equipment must be compared as a bigint (the column's type) for the index to serve:
btree_gist has no cross-type operators, and a parameter sent as an integer literal is
compared through `bigint = integer`. `Reservation.objects.of_equipment` writes it so.

PostgreSQL only, like 0007 (btree_gist is there for the exclusion constraint).
"""

from django.db import migrations

CREATE = (
    "CREATE INDEX IF NOT EXISTS reservation_equipment_held_span ON reservations_reservation"
    " USING gist (equipment_id, TSTZRANGE(start, blocked_until, '[)'))"
)
DROP = "DROP INDEX IF EXISTS reservation_equipment_held_span"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("reservations", "0008_reservation_confirmed_start_index")]

    operations = [migrations.RunPython(create_index, drop_index)]
