"""Reservation jobs the worker runs on a schedule (see platform_booking.scheduler)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from .services import release_no_shows as release


@task()
def release_no_shows() -> dict[str, int]:
    """Record the no-shows past their check-in grace and complete ended reservations."""
    return release(now=timezone.now())
