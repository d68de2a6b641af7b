"""The iCalendar feeds (SPEC §4): which reservations and closures each kind of feed shows.

Every feed is a VCALENDAR with a Europe/Paris VTIMEZONE and one VEVENT per reservation
(and, for an equipment, per closure). events.py turns rows into events, ics_writer.py
writes them, email_ics.py builds the event attached to reservation emails.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from core.timezones import local_tz
from equipment.models import Equipment
from partners.models import Partner, Project
from reservations.models import Closure, Reservation

from . import rows as sql
from .events import (
    ICAL_STATUS,
    INSTANTS,
    RESERVATION_COLUMNS,
    EpochSeconds,
    EquipmentHead,
    closure_events,
    reservation_events,
    site_host,
)
from .ics_writer import EventData, render_calendar
from .reader import Reader

# SPEC §4: 90 days back to 365 days ahead; ended reservations stay 30 days as CANCELLED so
# that subscribed clients remove them.
WINDOW_BEFORE = timedelta(days=90)
WINDOW_AFTER = timedelta(days=365)
CANCELLED_KEPT = timedelta(days=30)
SHOWN_STATUSES = [s for s, ical in ICAL_STATUS.items() if ical != "CANCELLED"]
ENDED_STATUSES = [s for s, ical in ICAL_STATUS.items() if ical == "CANCELLED"]


@dataclass(frozen=True)
class Feed:
    name: str
    body: bytes
    last_modified: datetime | None
    count: int


def window(now: datetime) -> tuple[datetime, datetime]:
    return now - WINDOW_BEFORE, now + WINDOW_AFTER


def feed_reservations(qs: Any, now: datetime) -> Any:
    """Rows of the reservations of `qs` that a feed shows at `now`, one query.

    The definition: the feeds read the same rows by `_rows` (rows.py, written SQL), which
    tests/calendars/test_feed_rows.py compares with this on both databases.
    """
    low, high = window(now)
    return (
        qs.overlapping(low, high)
        .filter(
            Q(status__in=SHOWN_STATUSES)
            | Q(status__in=ENDED_STATUSES, status_changed_at__gte=now - CANCELLED_KEPT)
        )
        .order_by("start", "pk")
        .annotate(**{name: EpochSeconds(field) for name, field in INSTANTS.items()})
        .values_list(*RESERVATION_COLUMNS)
    )


def feed_queryset(by: str, value: int) -> Any:
    """The reservations a kind of feed selects (`rows.BY_*`), as the ORM says: the
    reference of rows.py's statements."""
    if by == sql.BY_EQUIPMENT:
        return Reservation.objects.filter(equipment_id=value)
    if by == sql.BY_PROJECT:
        return Reservation.objects.filter(project_id=value)
    if by == sql.BY_PARTNER:
        return Reservation.objects.filter(project__partner_id=value)
    assert by == sql.BY_USER
    mine = Project.objects.filter(Q(members=value) | Q(leader=value)).values("pk")
    return Reservation.objects.filter(Q(booked_by=value) | Q(project__in=mine))


def _rows(
    by: str, value: int, now: datetime, equipment: EquipmentHead | None = None
) -> list[tuple[Any, ...]]:
    """feed_reservations' rows for one kind of feed, in one query of written SQL."""
    low, high = window(now)
    return sql.reservation_rows(
        by,
        value,
        low=low,
        high=high,
        kept_since=now - CANCELLED_KEPT,
        shown=SHOWN_STATUSES,
        ended=ENDED_STATUSES,
        equipment=equipment,
    )


def _latest(*values: datetime | None) -> datetime | None:
    present = [v for v in values if v is not None]
    return max(present) if present else None


def _build(
    *, name: str, uid: str, rows: Sequence[Sequence[Any]], reader: Reader, extra: list[EventData]
) -> Feed:
    events = reservation_events(rows, reader) + extra
    events.sort(key=lambda e: (_sort_key(e.start), e.uid))
    latest = _latest(*(e.last_modified for e in events))
    body = render_calendar(name=name, uid=uid, events=events)
    return Feed(name=name, body=body, last_modified=latest, count=len(events))


def _sort_key(value: datetime | date) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.combine(value, time(0), tzinfo=local_tz())


def equipment_feed(
    *,
    equipment: EquipmentHead | Equipment,
    user: Any,
    now: datetime,
    closures: list[Closure] | None = None,
) -> Feed:
    """Reservations of the equipment (neutral where not fully visible) and its closures
    (read here unless given: those of rows.equipment_closures in the window)."""
    if isinstance(equipment, Equipment):
        equipment = EquipmentHead.of(equipment)
    reader = Reader.of(user)
    rows = _rows(sql.BY_EQUIPMENT, equipment.pk, now, equipment)
    if closures is None:
        closures = sql.equipment_closures(equipment, *window(now))
    extra = closure_events(closures, equipment)
    feed = _build(
        name=f"{equipment.code} – {equipment.name}",
        uid=f"equipment-{equipment.pk}@{site_host()}",
        rows=rows,
        reader=reader,
        extra=extra,
    )
    return _with_floor(feed, equipment.updated_at)


def _in_full(rows: Any, reader: Reader) -> list[Sequence[Any]]:
    """Only the reservations the reader sees in full (SPEC §6).

    Busy time of others belongs to the equipment feeds: in a project's or a partner's
    feed, even a neutral "Reserved" would tell which project or partner holds the slot.
    """
    project, booked_by, equipment = (
        RESERVATION_COLUMNS.index(name) for name in ("project_id", "booked_by_id", "equipment_id")
    )
    return [
        row
        for row in rows
        if reader.sees_in_full(
            project_id=row[project], booked_by_id=row[booked_by], equipment_id=row[equipment]
        )
    ]


def project_feed(*, project: Project, user: Any, now: datetime) -> Feed:
    """Reservations of a project the user sees in full (the caller checks visibility)."""
    reader = Reader.of(user)
    rows = _in_full(_rows(sql.BY_PROJECT, project.pk, now), reader)
    feed = _build(
        name=project.name,
        uid=f"project-{project.pk}@{site_host()}",
        rows=rows,
        reader=reader,
        extra=[],
    )
    return _with_floor(feed, project.updated_at)


def partner_feed(*, partner: Partner, user: Any, now: datetime) -> Feed:
    """Reservations of the partner's projects that the user sees in full (the caller
    checks access)."""
    reader = Reader.of(user)
    rows = _in_full(_rows(sql.BY_PARTNER, partner.pk, now), reader)
    return _build(
        name=partner.name,
        uid=f"partner-{partner.pk}@{site_host()}",
        rows=rows,
        reader=reader,
        extra=[],
    )


def user_feed(*, user: Any, now: datetime) -> Feed:
    """Reservations booked by the user or of the projects the user leads or belongs to."""
    rows = _rows(sql.BY_USER, user.pk, now)
    return _build(
        name=_("My reservations"),
        uid=f"user-{user.pk}@{site_host()}",
        rows=rows,
        reader=Reader.of(user),
        extra=[],
    )


def _with_floor(feed: Feed, changed: datetime | None) -> Feed:
    """Count the feed's own object (its name is in the calendar) in Last-Modified."""
    return Feed(
        name=feed.name,
        body=feed.body,
        last_modified=_latest(feed.last_modified, changed),
        count=feed.count,
    )
