"""Booking errors: a code from SPEC §3, a translated message, and the details the API lists."""

from __future__ import annotations

from typing import Any

from core.exceptions import DomainError


class BookingError(DomainError):
    """A refused booking. `conflict` answers 409, every other rule 400."""

    def __init__(self, code: str, message: str, *, status: int | None = None, **extra: Any):
        if status is None:
            status = 409 if code == "conflict" else 400
        super().__init__(code, message, status=status, **extra)
