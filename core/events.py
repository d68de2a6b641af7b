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
#   reason: why, in the words of who acted (a cancellation, a rejection, a closure).
reservations_changed = Signal()

# Closures were created (closure_ids) or deleted (closure_ids, the rows are gone).
#   action: "created" or "deleted"; closure_ids; actor.
closures_changed = Signal()

# An equipment was created or moved to another site: site-wide closures of those sites
# now concern it. Arguments: equipment, site_ids (the previous and the new site).
equipment_sited = Signal()

# Training requests (SPEC §13) were created, accepted, declined or cancelled. Arguments:
#   action: "created", "accepted", "declined" or "cancelled";
#   requests: the TrainingRequest rows concerned, as the service holds them;
#   actor: the user who acted; now: the service's clock.
training_requests_changed = Signal()
