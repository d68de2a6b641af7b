"""Equipment's owner is now a partners.Partner; Closure moved to the reservations app.

State only: no table or row changes (the closure table keeps its name).
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("equipment", "0001_initial"),
        ("partners", "0001_take_over_tables"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.AlterField(
                    model_name="equipment",
                    name="owner_partner",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="owned_equipment",
                        to="partners.partner",
                        verbose_name="owning partner",
                    ),
                ),
                migrations.DeleteModel(name="Closure"),
            ],
        )
    ]
