"""Domain events: what a service did, told to the apps above it.

A lower app never imports an upper one (see the layers in pyproject.toml): the
reservation services do not know that calendars mirror bookings or that notifications
email them. They send these signals instead, and the upper apps connect their receivers
in `AppConfig.ready()` (as pretix links its plugins).

Signals are sent *inside* the service's transaction, once the change is written, so that
a receiver may write in the same transaction (an outbox row, a waitlist promotion) and
roll back with it. A receiver that reaches outside the database (mail, the calendar
mirror) must defer that work with `transaction.on_commit`, so that a rolled-back change
leaves no trace and a failing side effect never fails the change that caused it.
"""

from __future__ import annotations

from django.dispatch import Signal

# Reservations changed status or times. Arguments:
#   action: "created" (confirmed or pending), "displaced" (by a pedagogical booking),
#     "closed" (displaced by a closure), "moved", "cancelled", "approved", "rejected",
#     "no_show", "completed";
#   reservations: the Reservation rows concerned, as the service holds them;
#   actor: the user who acted (None for the platform's own jobs);
#   now: the service's clock;
#   reason: why, in the words of who acted (a cancellation, a rejection, a closure);
#   freed: for "moved", the time each reservation held before the move, as
#     [(equipment_id, start, blocked_until)] (empty for the other actions: what they free
#     is the reservations' own [start, blocked_until)).
# "completed" is sent by the worker for ended reservations and by an early check-out (the
# rest of the slot, from `now` to its end, is free again).
reservations_changed = Signal()

# Closures were created (closure_ids) or deleted (closure_ids, the rows are gone).
#   action: "created" or "deleted"; closure_ids; actor;
#   closures: what each closure covered, as dicts {id, equipment, site, start, end}
#     (equipment and site are ids or None; both None: every site). For "deleted" it is the
#     time that opens again (the waitlist offers it).
closures_changed = Signal()

# An equipment was created or moved to another site: site-wide closures of those sites
# now concern it. Arguments: equipment, site_ids (the previous and the new site).
equipment_sited = Signal()

# Training requests (SPEC §13) were created, accepted, declined or cancelled. Arguments:
#   action: "created", "accepted", "declined" or "cancelled";
#   requests: the TrainingRequest rows concerned, as the service holds them;
#   actor: the user who acted; now: the service's clock.
training_requests_changed = Signal()

# Waitlist entries (SPEC §10) were created, booked, cancelled or expired. Arguments:
#   action: "created", "booked", "cancelled" or "expired";
#   entries: the WaitlistEntry rows concerned (a booked one has its `reservation`);
#   actor: the user who acted (None for the platform's own jobs and for promotion);
#   now: the service's clock.
waitlist_changed = Signal()
