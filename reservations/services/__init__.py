"""Every write of the reservations app; the API, pages, admin and commands call these.

Split by job: `create` (booking), `changes` (move, cancel, approve, reject), `closures`,
`usage` (check-in and check-out), `noshows` (no-shows and completion), with their parts
`transactions` (retries, the database's overlap refusal), `records` (audit, inserts,
transitions), `refusals` (errors with alternatives), `access` (the facts of the
permission rules) and `announce` (the domain events).
"""

from .changes import reservation_approve, reservation_cancel, reservation_reject, reservation_update
from .closures import closure_create, closure_delete
from .create import BookingOutcome, reservation_create
from .noshows import release_no_shows
from .usage import reservation_check_in, reservation_check_out

__all__ = [
    "BookingOutcome",
    "closure_create",
    "closure_delete",
    "release_no_shows",
    "reservation_approve",
    "reservation_cancel",
    "reservation_check_in",
    "reservation_check_out",
    "reservation_create",
    "reservation_reject",
    "reservation_update",
]
