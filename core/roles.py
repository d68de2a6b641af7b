"""Who is what (SPEC §6). Pure checks on a user, no HTTP."""

from __future__ import annotations

from typing import Any


def is_platform_manager(user: Any) -> bool:
    """Platform managers are staff users: they may do everything."""
    return bool(user is not None and user.is_authenticated and (user.is_staff or user.is_superuser))
