"""Ids as people and query strings type them: digits within the database's ids."""

from __future__ import annotations

from django.db.models import BigIntegerField

# The largest id the database holds: every table's key is a BigAutoField
# (settings.DEFAULT_AUTO_FIELD), a signed 64-bit integer on PostgreSQL and SQLite.
MAX_ID = BigIntegerField.MAX_BIGINT


def is_id(text: str) -> bool:
    """Whether `text` reads as a database id: ASCII digits only ("١" and "²" are digits to
    str.isdigit, not to int) and no greater than MAX_ID, so a query never overflows."""
    return (
        text.isascii() and text.isdigit() and len(text) <= len(str(MAX_ID)) and int(text) <= MAX_ID
    )
