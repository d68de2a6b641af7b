"""What the apps above add to the booking pages, without reservations importing them.

The booking pages are reservations'; the waitlist (an upper app) offers "join the
waitlist" beside a conflict and lists the user's entries on "my reservations". As with the
domain events (core.events), the lower app sends a signal and the upper apps connect their
receivers in `AppConfig.ready()`; here a receiver answers what to show: a `Section` (a
template and its context), or None for nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.dispatch import Signal

# A booking from the form was refused. Arguments: request, form (the bound BookingForm),
# error (the BookingError). Shown inside the refusal, after the alternatives.
booking_refused = Signal()

# "My reservations" is shown. Arguments: request, now. Shown after the upcoming reservations.
my_reservations_shown = Signal()


@dataclass
class Section:
    """A part of a page from another app: its template, rendered with `section` = context."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)


def sections(signal: Signal, **kwargs: Any) -> list[Section]:
    """The sections the receivers answer, in the order they were connected."""
    answers: list[Any] = [answer for _receiver, answer in signal.send(sender=Section, **kwargs)]
    return [answer for answer in answers if isinstance(answer, Section)]
