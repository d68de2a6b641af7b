"""Every write of the reservations app; the API, pages, admin and commands call these."""

from .booking import (
    BookingOutcome,
    reservation_approve,
    reservation_cancel,
    reservation_create,
    reservation_reject,
    reservation_update,
)

__all__ = [
    "BookingOutcome",
    "reservation_approve",
    "reservation_cancel",
    "reservation_create",
    "reservation_reject",
    "reservation_update",
]

from .closures import closure_create, closure_delete

__all__ += ["closure_create", "closure_delete"]

from .usage import (  # noqa: E402
    release_no_shows,
    reservation_check_in,
    reservation_check_out,
)

__all__ += ["release_no_shows", "reservation_check_in", "reservation_check_out"]
