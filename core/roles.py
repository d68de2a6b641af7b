"""Who is what (SPEC §6). Pure checks on a user, no HTTP."""

from __future__ import annotations

from typing import Any, Final

from core.errors import DomainError


class SystemActor:
    """Stand for the platform itself when a write has no person behind it.

    The write services take an `actor`; the platform's own jobs (demo data, management
    commands, benchmarks, test set-up) pass `SYSTEM`. It is a platform manager, so every
    permission lets it through, and nobody else: its `pk` is None, so it leads no
    project, refers no partner, manages no equipment and is never stored (a
    qualification it grants has no `granted_by`). Never hand it to code serving a
    request: a request always has a user, even an anonymous one.
    """

    __slots__ = ()

    is_authenticated: Final = True
    is_anonymous: Final = False
    is_active: Final = True
    is_staff: Final = True
    is_superuser: Final = True
    pk: Final = None
    id: Final = None

    def __repr__(self) -> str:
        return "SYSTEM"

    __str__ = __repr__


SYSTEM: Final = SystemActor()


def is_platform_manager(user: Any) -> bool:
    """Platform managers are staff users (and the platform itself): they may do everything."""
    if user is SYSTEM:
        return True
    return bool(user is not None and user.is_authenticated and (user.is_staff or user.is_superuser))


def require(allowed: bool) -> None:
    """Refuse with the API's 403 (`permission_denied`) unless `allowed`.

    The words are DRF's own, so an answer refused by a service reads as those the API
    gave when its views decided.
    """
    if not allowed:
        raise DomainError("permission_denied")
