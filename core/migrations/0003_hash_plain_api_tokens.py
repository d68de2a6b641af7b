"""Hash the plain tokens of rest_framework.authtoken into core.ApiToken, then empty its table.

Programs keep their token: its digest is stored instead of the key, and it is bound to
the owner's current password. The old app is no longer installed, so its table is read
with SQL when it exists (databases created before this change). The table is emptied,
not dropped: code from before this change, should it be rolled back to, still finds it
(its users then log in again for a new token) instead of failing on a missing table.
"""

import hashlib

from django.db import migrations

OLD_TABLE = "authtoken_token"


def hash_plain_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("core", "ApiToken")
    User = apps.get_model("auth", "User")
    with connection.cursor() as cursor:
        q = connection.ops.quote_name
        cursor.execute(f"SELECT {q('key')}, {q('user_id')} FROM {q(OLD_TABLE)}")  # noqa: S608
        rows = cursor.fetchall()
    passwords = dict(User.objects.filter(pk__in=[u for _k, u in rows]).values_list("pk", "password"))
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                digest=hashlib.sha256(key.encode()).hexdigest(),
                user_id=user_id,
                # as core.models.password_fingerprint
                password_fingerprint=hashlib.sha256(
                    f"api-token:{passwords[user_id]}".encode()
                ).hexdigest()[:32],
            )
            for key, user_id in rows
            if user_id in passwords
        ],
        ignore_conflicts=True,
    )
    schema_editor.execute(f"DELETE FROM {connection.ops.quote_name(OLD_TABLE)}")  # noqa: S608


class Migration(migrations.Migration):
    dependencies = [("core", "0002_shared_cache_table"), ("auth", "0012_alter_user_first_name_max_length")]

    # Backwards, nothing: the keys are gone once hashed.
    operations = [migrations.RunPython(hash_plain_tokens, migrations.RunPython.noop)]
