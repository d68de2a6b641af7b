"""The error catalogue: every error the product answers with, its HTTP status and its words.

A raise site names a catalogue key and gives the words' parameters:

    raise DomainError("not_live")
    raise DomainError("too_short", params={"n": 30})

The key's first part (before a dot) is the machine `code` of the API's error body;
`permission_denied.cancel` answers `permission_denied` with its own words. Words are
translated when the error is raised, in the reader's language. The DRF exception handler
(core.api.errors) turns a DomainError into `{code, detail, ...extra}` with its status.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Entry:
    status: int
    words: Promise


CATALOGUE: dict[str, Entry] = {
    # --- input -------------------------------------------------------------------------------
    "invalid": Entry(400, _("Invalid input.")),
    "invalid.timezone": Entry(400, _("Start and end must be instants with a time zone.")),
    "invalid.years": Entry(400, _("Dates must lie between %(first)d and %(last)d.")),
    "invalid.order": Entry(400, _("The reservation must end after it starts.")),
    "invalid.unreadable_time": Entry(400, _("Expected an ISO 8601 date and time.")),
    "invalid.title": Entry(400, _("Give the reservation a title.")),
    "invalid.participants": Entry(400, _("At least one participant is expected.")),
    "invalid.report": Entry(400, _("Invalid report request.")),
    "required": Entry(400, _("This field is required.")),
    "required.reason": Entry(400, _("Give the requester a reason for the rejection.")),
    "bad_filter": Entry(400, _("Filters take numeric ids.")),
    "bad_scope": Entry(400, _("scope must be this, following or series.")),
    "bad_window": Entry(400, _("Give a window [start, end) of at most 62 days.")),
    "bad_years": Entry(400, _("Give years between %(first)d and %(last)d.")),
    "bad_group_by": Entry(400, _("Group by one or two different dimensions among: %(choices)s.")),
    "no_equipment": Entry(400, _("Choose at least one equipment.")),
    "too_many_equipment": Entry(400, _("Ask for at most %(n)d equipment at once.")),
    "equipment_repeated": Entry(400, _("The same equipment is listed twice.")),
    "equipment_and_site": Entry(400, _("Close either an equipment or a site, not both.")),
    "school_holidays_unknown": Entry(
        400,
        _(
            "The zone B school holidays of %(years)s are not known yet: the series "
            "cannot skip them. Book it without skipping school holidays, or up to "
            "the last known year."
        ),
    ),
    "school_calendar_unknown": Entry(
        400,
        _(
            "The zone B school holidays are published up to %(day)s only: a series that "
            "skips them cannot go beyond that day. End it by then, or book it without "
            "skipping the school holidays."
        ),
    ),
    # --- the booking rules (SPEC §3), in the order of its table -------------------------------
    "ambiguous_time": Entry(
        400, _("This local time does not exist or happens twice (daylight saving change).")
    ),
    "ambiguous_time.gap": Entry(
        400, _("%(time)s does not exist in %(tz)s (daylight saving change).")
    ),
    "ambiguous_time.fold": Entry(
        400, _("%(time)s happens twice in %(tz)s (daylight saving change): give the offset.")
    ),
    "in_past": Entry(400, _("The reservation cannot start in the past.")),
    "bad_granularity": Entry(400, _("Start and end must fall on a %(n)d-minute grid.")),
    "too_short": Entry(400, _("A reservation lasts at least %(n)d minutes.")),
    "too_long": Entry(400, _("A reservation lasts at most %(n)d minutes.")),
    "outside_opening_hours": Entry(400, _("The reservation is outside the opening hours.")),
    "closed": Entry(400, _("The equipment is closed during this period.")),
    "equipment_unavailable": Entry(400, _("The equipment is not available for booking.")),
    "beyond_horizon": Entry(400, _("Projects of this kind book at most %(n)d days ahead.")),
    "too_late": Entry(400, _("Book at least %(n)d minutes before the start.")),
    "not_project_member": Entry(400, _("You are not a member of this project.")),
    "project_inactive": Entry(400, _("The project is not active at these dates.")),
    "not_qualified": Entry(400, _("This equipment requires a valid qualification.")),
    "teaching_window": Entry(400, _("This slot is kept for teaching until %(days)d days before.")),
    "quota_exceeded": Entry(
        400, _("Your partner's weekly quota on this equipment is %(q)s hours.")
    ),
    "conflict": Entry(409, _("The equipment is already booked at this time.")),
    "conflict.series": Entry(
        409, _("Some occurrences conflict with other reservations: nothing was booked.")
    ),
    # A refused series or session that breaks another rule answers that rule's code.
    "series_refused": Entry(
        400, _("Some occurrences break the booking rules: nothing was booked.")
    ),
    "no_occurrence": Entry(400, _("No occurrence of the series can be booked.")),
    # --- the waitlist (SPEC §10) -------------------------------------------------------------
    "waitlist_full": Entry(
        400, _("You already hold %(n)d waiting requests: cancel one before queuing again.")
    ),
    "not_waiting": Entry(400, _("Only waiting requests can be cancelled.")),
    # --- a reservation's life ----------------------------------------------------------------
    "not_live": Entry(400, _("Only pending or confirmed reservations can be changed.")),
    "not_live.cancel": Entry(400, _("Only pending or confirmed reservations can be cancelled.")),
    "started": Entry(
        400, _("This reservation has started: check out to free the rest of its slot.")
    ),
    "started.move": Entry(
        400, _("This reservation has started: it can no longer be moved or resized.")
    ),
    "not_pending": Entry(400, _("Only pending reservations can be approved or rejected.")),
    "not_confirmed": Entry(400, _("Only confirmed reservations can be checked in.")),
    "no_show": Entry(400, _("The check-in grace has passed: this reservation is a no-show.")),
    "check_in_closed": Entry(400, _("Check in from shortly before the start until the end.")),
    "already_checked_in": Entry(400, _("This reservation is already checked in.")),
    "not_checked_in": Entry(400, _("Check in before checking out.")),
    # --- training requests (SPEC §13) --------------------------------------------------------
    "qualification_not_required": Entry(
        400, _("This equipment requires no qualification: book it directly.")
    ),
    "already_qualified": Entry(
        400, _("You are already qualified on this equipment until %(day)s.")
    ),
    # One pending request per user and equipment (a unique constraint guards it too).
    "training_request_pending": Entry(
        400, _("A training request for this equipment is already waiting for a decision.")
    ),
    "training_request_decided": Entry(
        400, _("Only pending training requests can be accepted, declined or cancelled.")
    ),
    "invalid.valid_until": Entry(400, _("The validity date cannot be in the past.")),
    "required.training_reason": Entry(400, _("Give the requester a reason for declining.")),
    # --- the term planner (SPEC §11) ---------------------------------------------------------
    "not_pedagogical": Entry(
        400, _("The term planner books classes: every project must be pedagogical.")
    ),
    "invalid.term": Entry(
        400, _("The term must end on or after its start, and start after today.")
    ),
    "plan_committed": Entry(400, _("This plan has already been committed.")),
    "plan_solving": Entry(400, _("This plan is being solved: wait for the solver's answer.")),
    "plan_not_solved": Entry(400, _("Solve the plan before committing it.")),
    "plan_empty": Entry(400, _("Nothing in this plan is placed: there is nothing to book.")),
    "conflict.plan": Entry(
        409,
        _("Some bookings of the plan are no longer free: nothing was booked. Solve it again."),
    ),
    "plan_refused": Entry(
        400,
        _("Some bookings of the plan now break the booking rules: nothing was booked."),
    ),
    # --- .ics import (SPEC §4) ---------------------------------------------------------------
    "file_too_large": Entry(400, _("The file is larger than %(size)d MB.")),
    "invalid_ics": Entry(400, _("This is not an iCalendar file: %(error)s")),
    "invalid_ics.no_calendar": Entry(400, _("This is not an iCalendar file: no VCALENDAR found.")),
    "invalid_ics.no_event": Entry(400, _("The file has no event (VEVENT) to import.")),
    "invalid_ics.entries": Entry(
        400, _("Events that cannot be read: %(count)d. Nothing was imported.")
    ),
    "invalid_ics.recurrences": Entry(400, _("The recurrences cannot be expanded: %(error)s")),
    "invalid_ics.refused": Entry(400, _("An event cannot be imported: nothing was imported.")),
    "too_many_occurrences": Entry(400, _("The file has more than %(max)d occurrences.")),
    "too_many_occurrences.repeats": Entry(
        400, _("The file repeats events too often: more than %(max)d occurrences.")
    ),
    # --- equipment documents (SPEC §13) -------------------------------------------------------
    "file_too_large.document": Entry(413, _("The file is larger than %(size)s.")),
    "unsupported_file_type": Entry(
        400,
        _(
            "Only PDF and office documents are accepted (%(extensions)s), and the file's "
            "content must match its extension."
        ),
    ),
    # --- access (SPEC §6) --------------------------------------------------------------------
    "not_authenticated": Entry(401, _("Log in first.")),
    "authentication_failed": Entry(401, _("Incorrect authentication credentials.")),
    "permission_denied": Entry(403, _("You do not have permission to perform this action.")),
    "permission_denied.change": Entry(403, _("You may not change this reservation.")),
    "permission_denied.cancel": Entry(403, _("You may not cancel this reservation.")),
    "permission_denied.waitlist_cancel": Entry(403, _("You may not cancel this waiting request.")),
    "permission_denied.check_in": Entry(403, _("You may not check in here.")),
    "permission_denied.check_out": Entry(403, _("You may not check out here.")),
    "permission_denied.override": Entry(
        403, _("Only the equipment's managers may override a rule.")
    ),
    "permission_denied.decide": Entry(403, _("Only the equipment's managers decide on requests.")),
    "permission_denied.cancel_training": Entry(
        403, _("Only the requester may cancel a training request.")
    ),
    "permission_denied.plan": Entry(
        403, _("Plan only the classes of the pedagogical projects you lead or belong to.")
    ),
    "permission_denied.close": Entry(403, _("You may not close this equipment or site.")),
    "permission_denied.reopen": Entry(403, _("You may not remove this closure.")),
    "permission_denied.reports": Entry(
        403, _("Usage reports are for platform managers, equipment managers and referents.")
    ),
    # --- HTTP and operations (SPEC §14): every error of the API has a code -------------------
    "bad_request": Entry(400, _("Malformed request.")),
    "bad_host": Entry(400, _("This server does not answer to the host named in the request.")),
    "not_found": Entry(404, _("Not found.")),
    "not_found.equipment": Entry(404, _("Unknown equipment: %(ids)s.")),
    "method_not_allowed": Entry(405, _("This method is not allowed here.")),
    "request_too_large": Entry(413, _("The request body is too large.")),
    "throttled": Entry(429, _("Too many attempts. Try again later.")),
    "server_error": Entry(500, _("Server error")),
    "service_unavailable": Entry(
        503, _("The service is temporarily unavailable. Please try again in a few minutes.")
    ),
}


def words(key: str, params: Mapping[str, Any] | None = None) -> str:
    """The words of a catalogue entry, translated now, with their parameters."""
    text = str(CATALOGUE[key].words)
    return text % dict(params) if params else text


def code_of(key: str) -> str:
    """The machine code of a catalogue key: `permission_denied.cancel` → `permission_denied`."""
    return key.split(".", 1)[0]


class DomainError(Exception):
    """A refused operation: a machine `code`, a translated `message`, an HTTP `status`.

    `key` names a catalogue entry, which gives the status and the words (with `params`);
    `message` replaces the words where they come from elsewhere (a parser's own error).
    `extra` is added to the API's error body (`fields`, `conflicts`, `occurrences`…).
    """

    def __init__(
        self,
        key: str,
        message: str | None = None,
        *,
        params: Mapping[str, Any] | None = None,
        status: int | None = None,
        **extra: Any,
    ):
        entry = CATALOGUE[key]  # an unknown key is a programming error: fail loudly
        self.key = key
        self.code = code_of(key)
        self.message = message if message is not None else words(key, params)
        self.status = status if status is not None else entry.status
        self.extra = extra
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "detail": str(self.message), **self.extra}
