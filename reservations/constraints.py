"""The database-level guarantee against double booking, on PostgreSQL and on SQLite.

PostgreSQL: an exclusion constraint over (equipment, [start, blocked_until)) for live
reservations. SQLite has no such constraint: migration 0003 adds triggers instead.
"""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.constraints import ExclusionConstraint

CONSTRAINT_NAME = "reservation_no_overlap"


class PostgresOnlyExclusionConstraint(ExclusionConstraint):
    """An ExclusionConstraint that other databases skip (they get a trigger instead)."""

    def _is_postgres(self, schema_editor: Any) -> bool:
        return schema_editor.connection.vendor == "postgresql"

    def constraint_sql(self, model: Any, schema_editor: Any) -> Any:
        if not self._is_postgres(schema_editor):
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model: Any, schema_editor: Any) -> Any:
        if not self._is_postgres(schema_editor):
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model: Any, schema_editor: Any) -> Any:
        if not self._is_postgres(schema_editor):
            return None
        return super().remove_sql(model, schema_editor)

    def validate(
        self, model: Any, instance: Any, exclude: Any = None, using: Any = "default"
    ) -> None:
        from django.db import connections

        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)
