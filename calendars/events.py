"""The VEVENTs of reservations and closures (SPEC §4), as `EventData` for the writer.

A reservation's UID never changes; its SEQUENCE is its revision, so that subscribed
clients replace a moved event and drop a cancelled one. Reservations are read as rows of
`RESERVATION_COLUMNS` (one query, no model instances), their instants as epoch seconds.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import BigIntegerField, Func
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.timezones import local_tz
from equipment.models import Equipment
from partners.models import ProjectKind
from reservations.models import Closure, Reservation, ReservationStatus

from .ics_writer import EventData
from .reader import Reader

ICAL_STATUS = {
    ReservationStatus.PENDING: "TENTATIVE",
    ReservationStatus.CONFIRMED: "CONFIRMED",
    ReservationStatus.COMPLETED: "CONFIRMED",
    ReservationStatus.NO_SHOW: "CONFIRMED",
    ReservationStatus.CANCELLED: "CANCELLED",
    ReservationStatus.REJECTED: "CANCELLED",
    ReservationStatus.DISPLACED: "CANCELLED",
}


class EpochSeconds(Func):
    """Whole seconds since 1970 (UTC) of a datetime column, read as an integer.

    Django's psycopg loader parses each timestamptz in Python (about 9 µs): the four
    instants of 5,000 reservations took 0.16 s to read, as integers 0.04 s. iCalendar
    writes whole seconds anyway.
    """

    output_field = BigIntegerField()
    arity = 1

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        template = "floor(extract(epoch from %(expressions)s))::bigint"
        return self.as_sql(compiler, connection, template=template, **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # The format goes as a parameter, as Django's own Cast does on SQLite.
        template = "CAST(strftime(%%s, %(expressions)s) AS INTEGER)"
        sql, params = self.as_sql(compiler, connection, template=template, **extra)
        return sql, ("%s", *params)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
INSTANTS = {
    "start_epoch": "start",
    "end_epoch": "end",
    "created_epoch": "created_at",
    "updated_epoch": "updated_at",
}

# Columns of a reservation row: one query joins all a VEVENT needs (no model instances).
RESERVATION_COLUMNS = (
    "pk",
    "start_epoch",
    "end_epoch",
    "status",
    "revision",
    "created_epoch",
    "updated_epoch",
    "title",
    "priority",
    "expected_participants",
    "equipment_id",
    "equipment__code",
    "equipment__name",
    "equipment__room",
    "equipment__site__name",
    "project_id",
    "project__name",
    "project__partner__name",
    "booked_by_id",
    "booked_by__username",
    "booked_by__first_name",
    "booked_by__last_name",
)


def row_of(reservation: Reservation) -> tuple[Any, ...]:
    """The RESERVATION_COLUMNS of a loaded reservation, following its relations."""

    def value(path: str) -> Any:
        if path in INSTANTS:  # whole seconds, as EpochSeconds reads them (exactly)
            return (getattr(reservation, INSTANTS[path]) - _EPOCH) // timedelta(seconds=1)
        target: Any = reservation
        for name in path.split("__"):
            target = getattr(target, name)
        return target

    return tuple(value(column) for column in RESERVATION_COLUMNS)


class EquipmentHead(NamedTuple):
    """What an equipment feed shows of its equipment (its name, its place, its time)."""

    pk: int
    code: str
    name: str
    room: str
    site_id: int
    site_name: str
    updated_at: datetime

    @classmethod
    def of(cls, equipment: Equipment) -> EquipmentHead:
        return cls(
            equipment.pk,
            equipment.code,
            equipment.name,
            equipment.room,
            equipment.site_id,
            equipment.site.name,
            equipment.updated_at,
        )


def site_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def closure_uid(pk: int) -> str:
    return f"closure-{pk}@{site_host()}"


def _location(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


def equipment_url(pk: int) -> str:
    """The equipment's page, as a feed's events link to it."""
    return settings.SITE_URL + reverse("equipment:detail", args=[pk])


class _Labels:
    """Translated labels and URLs, computed once per feed."""

    def __init__(self) -> None:
        self.site = settings.SITE_URL
        self.kinds = {value: str(label) for value, label in ProjectKind.choices}
        self.statuses = {value: str(label) for value, label in ReservationStatus.choices}
        self.reserved = {
            value: _("Reserved (%(priority)s)") % {"priority": label}
            for value, label in self.kinds.items()
        }
        self.reservation_prefix = self.site + reverse("reservation-list")
        self.project_line = _("Project: %(project)s (%(kind)s)")
        self.partner_line = _("Partner: %(partner)s")
        self.person_line = _("Booked by: %(person)s")
        self.count_line = _("Participants: %(count)d")
        self.status_line = _("Status: %(status)s")
        self._equipment_urls: dict[int, str] = {}

    def equipment_url(self, pk: int) -> str:
        url = self._equipment_urls.get(pk)
        if url is None:
            url = self._equipment_urls[pk] = equipment_url(pk)
        return url


@functools.lru_cache(maxsize=64)
def _labels_for(language: str | None, site: str, prefix: str, urlconf: Any) -> _Labels:
    return _Labels()


def _labels() -> _Labels:
    """The labels of the active language, site and URLs: translated once, not per feed."""
    urlconf = get_urlconf() or settings.ROOT_URLCONF
    return _labels_for(get_language(), settings.SITE_URL, get_script_prefix(), urlconf)


def reservation_events(rows: Iterable[Sequence[Any]], reader: Reader) -> list[EventData]:
    """One EventData per row of RESERVATION_COLUMNS (instants in epoch seconds); details
    only where the reader may see them."""
    labels = _labels()
    host = site_host()
    from_epoch = datetime.fromtimestamp
    instants: dict[int, datetime] = {}  # created and updated often the same second

    def instant(epoch: int) -> datetime:
        found = instants.get(epoch)
        if found is None:
            found = instants[epoch] = from_epoch(epoch, UTC)
        return found

    sees_in_full = reader.sees_in_full
    descriptions: dict[tuple[Any, ...], str] = {}  # most bookings share their details
    locations: dict[tuple[str, str, str], str] = {}
    events = []
    # Hot loop (thousands of rows a feed): columns unpacked in place, no call per row.
    for (
        pk,
        start,
        end,
        status,
        revision,
        created,
        updated,
        title,
        priority,
        participants,
        equipment_id,
        _code,
        equipment_name,
        room,
        site_name,
        project_id,
        project_name,
        partner_name,
        booked_by_id,
        username,
        first_name,
        last_name,
    ) in rows:
        full = sees_in_full(
            project_id=project_id, booked_by_id=booked_by_id, equipment_id=equipment_id
        )
        if full:
            summary = title
            key = (project_name, priority, partner_name, username, first_name, last_name,
                   participants, status)  # fmt: skip
            description = descriptions.get(key)
            if description is None:
                person = f"{first_name} {last_name}".strip() or username
                description = descriptions[key] = "\n".join(
                    [
                        labels.project_line
                        % {"project": project_name, "kind": labels.kinds.get(priority, priority)},
                        labels.partner_line % {"partner": partner_name},
                        labels.person_line % {"person": person},
                        labels.count_line % {"count": participants},
                        labels.status_line % {"status": labels.statuses.get(status, status)},
                    ]
                )
            url = f"{labels.reservation_prefix}{pk}/"
        else:
            # Busy time with its priority kind only: no title, project, partner or person.
            summary = labels.reserved.get(priority) or _("Reserved")
            description = ""
            url = labels.equipment_url(equipment_id)
        last_modified = instant(updated)
        place = (equipment_name, room, site_name)
        location = locations.get(place)
        if location is None:
            location = locations[place] = _location(*place)
        # EventData's fields in order: uid, summary, start, end, stamp, sequence, created,
        # last_modified, status, url, location, description.
        events.append(
            EventData(
                f"reservation-{pk}@{host}",
                summary,
                from_epoch(start, UTC),
                from_epoch(end, UTC),
                last_modified,
                revision,
                instant(created),
                last_modified,
                ICAL_STATUS[status],
                url,
                location,
                description,
            )
        )
    return events


def closure_events(
    closures: Iterable[Closure], equipment: EquipmentHead | Equipment
) -> list[EventData]:
    """Closures as confirmed events; whole local days become all-day events."""
    if isinstance(equipment, Equipment):
        equipment = EquipmentHead.of(equipment)
    tz = local_tz()
    url = _labels().equipment_url(equipment.pk)
    everywhere = _("All sites")
    events = []
    for closure in closures:
        start: datetime | date = closure.start
        end: datetime | date = closure.end
        local_start, local_end = closure.start.astimezone(tz), closure.end.astimezone(tz)
        if local_start.time() == time(0) and local_end.time() == time(0):
            start, end = local_start.date(), local_end.date()
        if closure.equipment_id is not None:
            where = _location(equipment.name, equipment.room, equipment.site_name)
        elif closure.site_id is not None:
            where = equipment.site_name
        else:
            where = everywhere
        events.append(
            EventData(
                uid=closure_uid(closure.pk),
                summary=_("Closed: %(reason)s") % {"reason": closure.reason},
                start=start,
                end=end,
                stamp=closure.created_at,
                sequence=0,
                created=closure.created_at,
                last_modified=closure.created_at,
                status="CONFIRMED",
                url=url,
                location=where,
            )
        )
    return events
