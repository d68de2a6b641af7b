"""Waitlist jobs the worker runs on a schedule (see platform_booking.scheduler)."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from .services import waitlist_expire


@task()
def expire_waitlist() -> int:
    """Expire the waiting entries within their equipment's minimum notice, or past."""
    return waitlist_expire(now=timezone.now())
