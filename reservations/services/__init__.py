"""Every write of the reservations app; the API, pages, admin and commands call these."""

from .projects import (
    PROJECT_FIELDS,
    feed_token_for,
    feed_token_rotate,
    partner_create,
    partner_update,
    project_create,
    project_update,
    user_language,
    user_language_set,
)

__all__ = [
    "PROJECT_FIELDS",
    "feed_token_for",
    "feed_token_rotate",
    "partner_create",
    "partner_update",
    "project_create",
    "project_update",
    "user_language",
    "user_language_set",
]

from .booking import (
    BookingOutcome,
    reservation_approve,
    reservation_cancel,
    reservation_create,
    reservation_reject,
    reservation_update,
)

__all__ += [
    "BookingOutcome",
    "reservation_approve",
    "reservation_cancel",
    "reservation_create",
    "reservation_reject",
    "reservation_update",
]

from .closures import closure_create, closure_delete  # noqa: E402

__all__ += ["closure_create", "closure_delete"]

from .usage import (  # noqa: E402
    release_no_shows,
    reservation_check_in,
    reservation_check_out,
    send_reminders,
)

__all__ += ["release_no_shows", "reservation_check_in", "reservation_check_out", "send_reminders"]
