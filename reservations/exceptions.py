"""Booking errors: refusals of the reservation services (codes and words in core.errors)."""

from __future__ import annotations

from core.errors import DomainError


class BookingError(DomainError):
    """A refused booking; `conflict` answers 409 and every other rule 400 (the catalogue)."""
