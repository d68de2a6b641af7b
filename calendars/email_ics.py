"""The event attached to reservation emails (RFC 5546): same UID and SEQUENCE as the feeds."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.utils.translation import gettext as _
from icalendar import Calendar, vCalAddress

from reservations.models import Reservation, ReservationStatus

from .events import reservation_events, row_of
from .ics_writer import PRODID, event_component
from .reader import Reader
from .vtimezone import local_vtimezone

# Live reservations are sent as invitations, ended ones as cancellations (RFC 5546).
EMAIL_METHOD = {
    ReservationStatus.PENDING: "REQUEST",
    ReservationStatus.CONFIRMED: "REQUEST",
    ReservationStatus.CANCELLED: "CANCEL",
    ReservationStatus.REJECTED: "CANCEL",
    ReservationStatus.DISPLACED: "CANCEL",
}


def email_method(reservation: Reservation) -> str | None:
    """REQUEST, CANCEL, or None when no calendar message fits the status."""
    return EMAIL_METHOD.get(ReservationStatus(reservation.status))


def email_calendar(reservation: Reservation, *, now: datetime) -> tuple[str, bytes]:
    """The (method, .ics bytes) of one reservation for its booker: same UID and SEQUENCE
    as the feeds, the platform as ORGANIZER and the booker as ATTENDEE."""
    method = email_method(reservation)
    if method is None:
        raise ValueError(f"no calendar message for status {reservation.status!r}")
    booker = reservation.booked_by
    # The booker reads their own reservation: every detail.
    (data,) = reservation_events(
        [row_of(reservation)], Reader(booker.pk, True, frozenset(), frozenset())
    )
    organizer = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL}")
    organizer.params["CN"] = _("Equipment platform")
    attendee = vCalAddress(f"mailto:{booker.email}")
    attendee.params["CN"] = booker.get_full_name() or booker.get_username()
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    attendee.params["PARTSTAT"] = "ACCEPTED"
    attendee.params["RSVP"] = "FALSE"
    cal = Calendar.new(prodid=PRODID, method=method, uid=f"message-{data.uid}-{data.sequence}")
    cal.add_component(local_vtimezone(settings.TIME_ZONE))
    # In a message, DTSTAMP is when the message was made (RFC 5546).
    cal.add_component(event_component(data, stamp=now, organizer=organizer, attendees=[attendee]))
    cal.add_missing_timezones()  # any other zone a value might carry
    return method, cal.to_ical()
