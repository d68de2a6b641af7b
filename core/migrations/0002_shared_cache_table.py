"""The table of the database cache, the default shared store of the login throttles.

`createcachetable` creates the tables of the database caches in settings.CACHES (none
when Redis is configured) and skips those that exist, so running it again is harmless.
"""

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps, schema_editor):
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


def drop_cache_table(apps, schema_editor):
    table = schema_editor.connection.ops.quote_name("django_cache")
    schema_editor.execute(f"DROP TABLE IF EXISTS {table}")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_api_tokens")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
