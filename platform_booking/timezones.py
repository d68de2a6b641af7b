"""The platform's local time: opening hours, days, weeks and months are Europe/Paris."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.conf import settings


def local_tz() -> ZoneInfo:
    """The time zone of `settings.TIME_ZONE` (Europe/Paris by default)."""
    return ZoneInfo(settings.TIME_ZONE)
