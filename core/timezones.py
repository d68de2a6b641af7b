"""The platform's local time: opening hours, days, weeks and months are Europe/Paris."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils.dateparse import parse_datetime

from .errors import words

# The years the platform reads and stores: beyond them date arithmetic overflows.
FIRST_YEAR, LAST_YEAR = 1900, 2200


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


class TimeError(ValueError):
    """A local time that cannot be read: `code` is `invalid` or `ambiguous_time`;
    `unreadable` when the text is no date and time at all, `out_of_range` when its year
    is outside FIRST_YEAR..LAST_YEAR."""

    def __init__(
        self, code: str, message: str, *, unreadable: bool = False, out_of_range: bool = False
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.unreadable = unreadable
        self.out_of_range = out_of_range


def make_aware(value: datetime, tz: ZoneInfo) -> datetime:
    """Read a naive local time in `tz`; refuse one that does not exist or is ambiguous."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value
    first = value.replace(tzinfo=tz, fold=0)
    second = value.replace(tzinfo=tz, fold=1)
    # A time skipped by the spring change does not survive a round trip through UTC.
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != value:
        raise TimeError(
            "ambiguous_time",
            words("ambiguous_time.gap", {"time": value.isoformat(), "tz": tz.key}),
        )
    if first.utcoffset() != second.utcoffset():
        raise TimeError(
            "ambiguous_time",
            words("ambiguous_time.fold", {"time": value.isoformat(), "tz": tz.key}),
        )
    return first


def parse_local(text: object) -> datetime:
    """The one reader of instants typed by people and scripts (API, pages, reports).

    ISO 8601; a time without offset is a wall-clock time in Europe/Paris, refused when the
    daylight-saving change skips it or repeats it (`ambiguous_time`). Unreadable or
    impossible values (February 30th) and years outside FIRST_YEAR..LAST_YEAR raise
    TimeError `invalid`.
    """
    try:
        parsed = parse_datetime(text) if isinstance(text, str) else None
    except ValueError:  # well formed but impossible, such as February 30th
        parsed = None
    if parsed is None:
        raise TimeError("invalid", words("invalid.unreadable_time"), unreadable=True)
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:  # before any arithmetic can overflow
        raise TimeError(
            "invalid",
            words("invalid.years", {"first": FIRST_YEAR, "last": LAST_YEAR}),
            out_of_range=True,
        )
    return make_aware(parsed, local_tz())
