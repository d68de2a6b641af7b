"""The interactive calendars' busy time (EventCalendar's events), from the planning's facts.

The equipment page and the planning page draw these with EventCalendar; the server grid
of reservations.planning stays for readers without JavaScript. What a reader may not see
in full (SPEC §6) never enters an event.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef, Q
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from core.timezones import day_bounds, local_tz
from equipment.models import Equipment
from partners.selectors import project_ids_with_full_view
from reservations.models import Closure, closed_equipment

from . import permissions
from .models import Reservation, ReservationStatus
from .planning import (
    SHOWN_STATUSES,
    clock,
    full_view_expression,
    priority_labels,
)

# The longest window the calendars ask for: a month view shows six weeks.
MAX_CALENDAR_DAYS = 62
# "mercredi 2 décembre 2026": the weekday and the month in words, never abbreviated.
DAY_IN_WORDS = "l j F Y"


def _floating(moment: datetime, tz: ZoneInfo) -> str:
    """A local wall-clock time without offset, as the browser calendar places it."""
    return moment.astimezone(tz).strftime("%Y-%m-%dT%H:%M:%S")


def _when(start: datetime, end: datetime, tz: ZoneInfo) -> str:
    """A period in words: "Wednesday 2 December 2026, 10:00–12:00", dates repeated across
    days."""
    first, last = start.astimezone(tz), end.astimezone(tz)
    if first.date() == last.date():
        return f"{date_format(first, DAY_IN_WORDS)}, {clock(start, tz)}–{clock(end, tz)}"
    return (
        f"{date_format(first, DAY_IN_WORDS)} {clock(start, tz)} – "
        f"{date_format(last, DAY_IN_WORDS)} {clock(end, tz)}"
    )


def _reservation_event(
    r: Any, *, editable: bool, tz: ZoneInfo, index: int, labels: Mapping[str, str]
) -> dict[str, Any]:
    """A reservation for the browser calendar: busy time with its priority (its words in
    `labels`, read once per request), its details only for a reader who sees it in full
    (SPEC §6)."""
    label = labels.get(r.priority, r.priority)
    names = ["block-reservation", f"prio-{r.priority}"]
    if r.status == ReservationStatus.PENDING:
        names.append("pending")
    lines = [_when(r.start, r.end, tz)]
    if r.full:
        booker = r.booked_by.get_full_name() or r.booked_by.username
        lines += [
            r.title,
            f"{r.project.name} ({r.project.partner.name})",
            _("Booked by %(name)s") % {"name": booker},
            f"{label} · {ReservationStatus(r.status).label}",
        ]
        title = r.title
    else:
        title = _("Busy (%(priority)s)") % {"priority": label}
        lines.append(title)
    return {
        "id": f"reservation-{r.pk}" if r.full else f"busy-{index}",
        "resourceId": r.equipment_id,
        "start": _floating(r.start, tz),
        "end": _floating(r.end, tz),
        "title": title,
        "editable": editable,
        "classNames": names,
        "extendedProps": {
            "kind": "reservation",
            "priority": r.priority,
            "reservation": r.pk if r.full else None,
            "lines": lines,
        },
    }


def _background(
    kind: str, pk: int, start: datetime, end: datetime, title: str, tz: ZoneInfo
) -> dict[str, Any]:
    """Busy time that is no reservation (buffer, closure, out of service), drawn behind."""
    return {
        "resourceId": pk,
        "start": _floating(start, tz),
        "end": _floating(end, tz),
        "title": title,
        "display": "background",
        "classNames": [f"block-{kind}"],
        "extendedProps": {"kind": kind, "lines": [_when(start, end, tz), title]},
    }


def calendar_events(
    *, equipment: Sequence[Equipment], first_day: date, last_day: date, user: Any, now: datetime
) -> list[dict[str, Any]]:
    """The busy time of `equipment` over the local days [first_day, last_day), for the
    browser calendars: reservations (editable when the reader may move them), buffers,
    closures, and the equipment out of service.

    Two queries (reservations, closures) whatever the number of equipment and bookings;
    the equipment come in already loaded. Callers record the no-shows first.
    """
    tz = local_tz()
    window = (day_bounds(first_day, tz)[0], day_bounds(last_day, tz)[0])
    if not equipment:
        return []
    ids = [e.pk for e in equipment]
    managers = Equipment.managers.through
    reservations = (
        Reservation.objects.overlapping(*window, buffers=True)
        .filter(equipment_id__in=ids, status__in=SHOWN_STATUSES)
        .select_related("project__partner", "booked_by")
        .annotate(
            full=full_view_expression(user),
            manages=Exists(
                managers.objects.filter(equipment_id=OuterRef("equipment_id"), user_id=user.pk)
            ),
            sees_project=ExpressionWrapper(
                Q(project_id__in=project_ids_with_full_view(user)), output_field=BooleanField()
            ),
        )
        .order_by("start", "pk")
    )
    events: list[dict[str, Any]] = []
    labels = priority_labels()
    for index, r in enumerate(reservations):
        editable = permissions.can_be_moved(r, now) and permissions.may_act_on(
            user, r, manages=r.manages, sees_project=r.sees_project
        )
        events.append(_reservation_event(r, editable=editable, tz=tz, index=index, labels=labels))
        if r.blocked_until > r.end:
            events.append(
                _background("buffer", r.equipment_id, r.end, r.blocked_until, _("Buffer"), tz)
            )
    by_site: dict[int, list[int]] = defaultdict(list)
    for e in equipment:
        by_site[e.site_id].append(e.pk)
    closures = (
        Closure.objects.touching(equipment_ids=ids, site_ids=set(by_site))
        .during(*window)
        .order_by("start", "pk")
    )
    for c in closures:
        targets = closed_equipment(c, by_site, ids)
        title = _("Closed: %(reason)s") % {"reason": c.reason} if c.reason else _("Closed")
        events += [_background("closure", pk, c.start, c.end, title, tz) for pk in targets]
    for e in equipment:
        if e.status == Equipment.Status.MAINTENANCE:
            events.append(
                _background("maintenance", e.pk, window[0], window[1], _("Out of service"), tz)
            )
    return events
