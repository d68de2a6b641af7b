"""The platform's local time: opening hours, days, weeks and months are Europe/Paris."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings


def local_tz() -> ZoneInfo:
    """The time zone of `settings.TIME_ZONE` (Europe/Paris by default)."""
    return ZoneInfo(settings.TIME_ZONE)


def day_bounds(day: date, tz: ZoneInfo | None = None) -> tuple[datetime, datetime]:
    """The instants of a local day: [00:00, 00:00 of the next day), 23 or 25 hours long
    on the daylight-saving Sundays."""
    tz = tz or local_tz()
    return (
        datetime.combine(day, time(0), tzinfo=tz),
        datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz),
    )
