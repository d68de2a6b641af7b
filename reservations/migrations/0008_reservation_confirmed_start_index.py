"""An index on the start of confirmed reservations: the no-show check before every read.

`services.noshows` looks for confirmed reservations already started and not checked in,
latest first. Among confirmed reservations, those started are the ones in progress (the
worker's `release_no_shows` completes or releases the ended ones every few minutes), so
walking this partial index back from now reads a handful of rows, whatever the number of
future bookings (the status index) or of past ones (the period index).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reservations", "0007_reservation_held_span_index")]

    operations = [
        migrations.AddIndex(
            model_name="reservation",
            index=models.Index(
                condition=models.Q(("status", "confirmed")),
                fields=["start"],
                name="reservation_confirmed_start",
            ),
        ),
    ]
