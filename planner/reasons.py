"""Why a request was left unplaced, in the reader's language.

The solver stores a code and its parameters (`PlanRequest.unplaced`); the words are
chosen when the plan is read. A rule's code takes the booking rule's own words (the
catalogue of core.errors), after the planner's lead-in.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.errors import CATALOGUE, words

PLANNER_REASONS = {
    "too_few_equipment": gettext_lazy(
        "It needs %(n)d equipment at once: choose at least that many."
    ),
    "no_candidate_slot": gettext_lazy(
        "No start fits its allowed slots: the slots are shorter than the class."
    ),
    "no_occurrence": gettext_lazy(
        "Every week of the term is a holiday or a closure for its allowed slots."
    ),
    "not_enough_slots": gettext_lazy(
        "Too few of its allowed slots are free for %(n)d sessions a week."
    ),
    "plan_full": gettext_lazy(
        "It would fit on its own, but the plan's other classes take its possible slots."
    ),
    "error": gettext_lazy("The solver failed: see the plan's error."),
}


def reason_words(reason: dict[str, Any] | None) -> str:
    """The words of a stored reason {code, params}, translated now."""
    if not reason:
        return ""
    code, params = reason.get("code", ""), reason.get("params") or {}
    if code in PLANNER_REASONS:
        text = str(PLANNER_REASONS[code])
        return text % params if params else text
    if code in CATALOGUE:
        try:
            rule = words(code, params)
        except (KeyError, TypeError, ValueError):
            rule = words(code) if "%(" not in str(CATALOGUE[code].words) else code
        return _("No allowed slot passes the booking rules on its equipment: %(rule)s") % {
            "rule": rule
        }
    return code
