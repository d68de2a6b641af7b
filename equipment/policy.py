"""Booking policy: platform defaults, per-equipment overrides and their validation.

Pure code (no queries): an equipment stores only the settings it overrides, as JSON;
`effective_policy()` merges them over the platform defaults of SPEC §3.

`POLICY_SETTINGS` is the one description of the settings (default, shape, bounds):
the validator below and the API's documentation schema (equipment.api.serializers)
are both derived from it, so what is documented is what is enforced.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import asdict, dataclass, field
from datetime import time
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from partners.models import ProjectKind

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PROJECT_KINDS: tuple[str, ...] = tuple(ProjectKind.values)
# Pedagogical reservations have no weekly quota (SPEC §3).
QUOTA_KINDS = tuple(kind for kind in PROJECT_KINDS if kind != ProjectKind.PEDAGOGICAL)
DAY_MINUTES = 24 * 60
Values = dict[str, Any]  # a complete policy, setting by setting
Errors = dict[str, list[str]]  # the messages of each refused setting

# "HH:MM" as the validator reads it: 00:00 to 24:00 (checked with to_minutes), ASCII
# digits and nothing after the minutes (Python's \d and $ would let other digits and a
# final newline through).
_HHMM = re.compile(r"^([01][0-9]|2[0-4]):([0-5][0-9])\Z")
# The same as documented in the API (tests/equipment/test_policy_schema.py checks they
# agree on "HH:MM" text); 24:00 only ends a range or a window.
START_TIME_PATTERN = r"^([01]\d|2[0-3]):[0-5]\d$"
END_TIME_PATTERN = r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"


# --- the shapes a setting's value can take -------------------------------------------------


@dataclass(frozen=True)
class WholeNumber:
    """A whole number of `unit` from `minimum` to `maximum`, with its cross-setting rules."""

    unit: str
    minimum: int
    maximum: int
    invalid: Promise  # the words for "not a whole number, or below the minimum"
    divides_a_day: bool = False
    on_the_grid: bool = False  # a multiple of the slot granularity
    not_below: str | None = None  # another setting it must be at least

    def problems(self, name: str, values: Values, errors: Errors) -> list[str]:
        value = values[name]
        if (
            not _is_int(value)
            or value < self.minimum
            or (self.divides_a_day and DAY_MINUTES % value)
        ):
            return [str(self.invalid)]
        if value > self.maximum:
            return [_("At most %(limit)d.") % {"limit": self.maximum}]
        # A rule relating two settings is checked only when the other one is valid.
        granularity = None if "granularity_minutes" in errors else values["granularity_minutes"]
        if self.on_the_grid and granularity and value % granularity:
            return [_("Must be a multiple of the slot granularity.")]
        if self.not_below and self.not_below not in errors and value < values[self.not_below]:
            return [_("Must not be shorter than the minimum duration.")]
        return []


@dataclass(frozen=True)
class PerKind:
    """One number of `unit` per project kind in `kinds`, from `minimum` to `maximum`.

    A mapping: an update merges key by key, and a key given as null goes back to the
    default, unless `nullable` (then null is a value, e.g. "no quota").
    """

    kinds: tuple[str, ...]
    unit: str
    minimum: int
    maximum: int
    whole: bool  # whole numbers only; otherwise fractions too
    nullable: bool
    invalid: Promise  # takes %(kind)s and %(limit)d

    @property
    def keys(self) -> tuple[str, ...]:
        return self.kinds

    def accepts(self, value: Any) -> bool:
        if value is None:
            return self.nullable
        if isinstance(value, bool) or not isinstance(value, int if self.whole else int | float):
            return False
        return self.minimum <= value <= self.maximum

    def problems(self, name: str, values: Values, errors: Errors) -> list[str]:
        return [
            str(self.invalid) % {"kind": kind, "limit": self.maximum}
            for kind in self.kinds
            if not self.accepts(values[name].get(kind))
        ]


@dataclass(frozen=True)
class KindList:
    """A list of project kinds among `choices`."""

    choices: tuple[str, ...]

    def problems(self, name: str, values: Values, errors: Errors) -> list[str]:
        kinds = values[name]
        if not isinstance(kinds, list) or any(k not in self.choices for k in kinds):
            return [_("Must be a list of project kinds (pedagogical, research, industrial).")]
        return []


@dataclass(frozen=True)
class OpeningHours:
    """Per weekday of `days`, ranges ["HH:MM", "HH:MM"] in order and not overlapping.

    A mapping: an update merges day by day; a day given as null goes back to the default.
    """

    days: tuple[str, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return self.days

    def problems(self, name: str, values: Values, errors: Errors) -> list[str]:
        found = (_day_problem(day, values[name].get(day)) for day in self.days)
        return [problem for problem in found if problem]


@dataclass(frozen=True)
class TeachingWindows:
    """A list of weekly windows {weekday: one of `weekdays`, start: "HH:MM", end: "HH:MM"}."""

    weekdays: tuple[str, ...]

    def problems(self, name: str, values: Values, errors: Errors) -> list[str]:
        windows = values[name]
        if not isinstance(windows, list):
            return [_("Expected a list of windows.")]
        for window in windows:
            if not self._well_formed(window):
                return [_('Each window is {weekday: "mon"…"sun", start: "HH:MM", end: "HH:MM"}.')]
            if to_minutes(window["start"]) >= to_minutes(window["end"]):
                return [_("A window must end after it starts.")]
        return []

    def _well_formed(self, window: Any) -> bool:
        return (
            isinstance(window, dict)
            and set(window) == {"weekday", "start", "end"}
            and window["weekday"] in self.weekdays
            and _check_hhmm(window["start"])
            and _check_hhmm(window["end"])
            and window["start"] != "24:00"
        )


Shape = WholeNumber | PerKind | KindList | OpeningHours | TeachingWindows
MappingShape = PerKind | OpeningHours


@dataclass(frozen=True)
class Setting:
    """One policy setting: its platform default (SPEC §3), the shape of its value, its meaning."""

    default: Any
    shape: Shape
    about: str  # for the API documentation


# Upper bounds are generous, but far from what overflows date arithmetic.
_YEAR_MINUTES = 366 * 24 * 60
_POSITIVE_MINUTES = gettext_lazy("Must be a positive whole number of minutes.")
_ZERO_OR_MORE = gettext_lazy("Must be a whole number, zero or more.")


def _zero_or_more(unit: str, maximum: int) -> WholeNumber:
    return WholeNumber(unit=unit, minimum=0, maximum=maximum, invalid=_ZERO_OR_MORE)


def _duration(**rules: Any) -> WholeNumber:
    return WholeNumber(
        unit="minutes",
        minimum=1,
        maximum=_YEAR_MINUTES,
        invalid=_POSITIVE_MINUTES,
        on_the_grid=True,
        **rules,
    )


POLICY_SETTINGS: dict[str, Setting] = {
    "granularity_minutes": Setting(
        default=15,
        shape=WholeNumber(
            unit="minutes",
            minimum=1,
            maximum=DAY_MINUTES,
            invalid=gettext_lazy("Must be a positive number of minutes dividing a day."),
            divides_a_day=True,
        ),
        about="Slot granularity: reservations start and end on it.",
    ),
    "min_duration_minutes": Setting(default=30, shape=_duration(), about="Shortest reservation."),
    "max_duration_minutes": Setting(
        default=8 * 60,
        shape=_duration(not_below="min_duration_minutes"),
        about="Longest reservation.",
    ),
    "opening_hours": Setting(
        default={**{day: [["08:00", "19:00"]] for day in WEEKDAYS[:5]}, "sat": [], "sun": []},
        shape=OpeningHours(days=WEEKDAYS),
        about="Opening hours per weekday, local time: a reservation lies inside one range.",
    ),
    "horizon_days": Setting(
        default={"pedagogical": 365, "research": 60, "industrial": 30},
        shape=PerKind(
            kinds=PROJECT_KINDS,
            unit="days",
            minimum=1,
            maximum=3660,
            whole=True,
            nullable=False,
            invalid=gettext_lazy("%(kind)s: must be a positive number of days, at most %(limit)d."),
        ),
        about="Booking horizon per project kind: how far ahead a reservation may start.",
    ),
    "min_notice_minutes": Setting(
        default=60,
        shape=_zero_or_more("minutes", _YEAR_MINUTES),
        about="Minimum notice before the start.",
    ),
    "buffer_minutes": Setting(
        default=0,
        shape=_zero_or_more("minutes", 7 * 24 * 60),
        about="Kept free after each reservation (cleaning, set-up).",
    ),
    "approval_required_for": Setting(
        default=["industrial"],
        shape=KindList(choices=PROJECT_KINDS),
        about="Project kinds whose reservations a manager approves.",
    ),
    "weekly_quota_hours": Setting(
        default={"research": None, "industrial": None},
        shape=PerKind(
            kinds=QUOTA_KINDS,
            unit="hours",
            minimum=0,
            maximum=7 * 24,
            whole=False,
            nullable=True,
            invalid=gettext_lazy("%(kind)s: must be a number of hours, or null for no quota."),
        ),
        about="Weekly hours a partner may book on this equipment per project kind (null: none).",
    ),
    "teaching_windows": Setting(
        default=[],
        shape=TeachingWindows(weekdays=WEEKDAYS),
        about="Weekly slots kept for pedagogical reservations during school terms.",
    ),
    "teaching_release_days": Setting(
        default=14,
        shape=_zero_or_more("days", 3660),
        about="Before its start, a teaching window opens to all project kinds.",
    ),
    "preemption_notice_days": Setting(
        default=14,
        shape=_zero_or_more("days", 3660),
        about="A pedagogical reservation may displace lower kinds starting this far ahead or more.",
    ),
    "late_cancellation_hours": Setting(
        default=24,
        shape=_zero_or_more("hours", 366 * 24),
        about="Cancelling less than this before the start is a late cancellation.",
    ),
    "check_in_grace_minutes": Setting(
        default=30,
        shape=_zero_or_more("minutes", DAY_MINUTES),
        about="After the start, an unchecked reservation becomes a no-show.",
    ),
}
PLATFORM_DEFAULTS: dict[str, Any] = {name: s.default for name, s in POLICY_SETTINGS.items()}
SETTINGS = tuple(POLICY_SETTINGS)
# Settings whose value is a mapping: a partial update merges key by key.
_MAPPING_SETTINGS: dict[str, MappingShape] = {
    name: s.shape
    for name, s in POLICY_SETTINGS.items()
    if isinstance(s.shape, PerKind | OpeningHours)
}


@dataclass(frozen=True)
class TeachingWindow:
    weekday: int  # 0 = Monday
    start: time
    end: time  # time(0, 0) never; 24:00 is represented by time.max


@dataclass(frozen=True)
class Policy:
    """The effective booking policy of one equipment (times are local, Europe/Paris)."""

    granularity_minutes: int
    min_duration_minutes: int
    max_duration_minutes: int
    opening_hours: dict[str, list[list[str]]]
    horizon_days: dict[str, int]
    min_notice_minutes: int
    buffer_minutes: int
    approval_required_for: list[str]
    weekly_quota_hours: dict[str, float | None]
    teaching_windows: list[dict[str, str]]
    teaching_release_days: int
    preemption_notice_days: int
    late_cancellation_hours: int
    check_in_grace_minutes: int
    overridden: frozenset[str] = field(default=frozenset(), compare=False)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("overridden")
        return data

    def opening_minutes(self, weekday: int) -> list[tuple[int, int]]:
        """Return the opening intervals of a weekday (0 = Monday) as minutes since midnight."""
        return [(to_minutes(a), to_minutes(b)) for a, b in self.opening_hours[WEEKDAYS[weekday]]]

    def windows(self) -> list[TeachingWindow]:
        return [
            TeachingWindow(
                weekday=WEEKDAYS.index(w["weekday"]),
                start=_to_time(w["start"]),
                end=_to_time(w["end"]),
            )
            for w in self.teaching_windows
        ]


def to_minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)


def _to_time(hhmm: str) -> time:
    if hhmm == "24:00":
        return time.max
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


def overrides_key(overrides: dict[str, Any] | None) -> str:
    """One text per set of overrides, for caching what is computed from a policy (equal
    overrides, equal text; `effective_policy` deep-copies the defaults, so a page computes
    it once per distinct key rather than once per equipment)."""
    # Most equipment override nothing: json.dumps's own answers, without its cost.
    if overrides is None:
        return "null"
    if type(overrides) is dict and not overrides:
        return "{}"
    return json.dumps(overrides, sort_keys=True, default=str)


def effective_policy(overrides: dict[str, Any] | None) -> Policy:
    """Merge an equipment's stored overrides over the platform defaults."""
    values = copy.deepcopy(PLATFORM_DEFAULTS)
    overrides = overrides or {}
    for key, value in overrides.items():
        if key not in values:
            continue  # a setting removed from the product: ignore stale data
        if key in _MAPPING_SETTINGS:
            values[key] = {**values[key], **value}
        else:
            values[key] = copy.deepcopy(value)
    return Policy(**values, overridden=frozenset(k for k in overrides if k in values))


class PolicyError(ValueError):
    """Invalid policy input; `errors` maps each setting to its messages."""

    def __init__(self, errors: Errors):
        super().__init__(errors)
        self.errors = errors


def merge_overrides(current: dict[str, Any] | None, update: Any) -> dict[str, Any]:
    """Apply a partial policy update to the stored overrides and validate the result.

    A setting given as `null` goes back to the platform default (for the mappings,
    a key of `horizon_days` or `opening_hours` given as null does the same; in
    `weekly_quota_hours`, null is a real value: no quota). Raise PolicyError.
    """
    if not isinstance(update, dict):
        raise PolicyError({"policy": [_("Expected an object of policy settings.")]})
    errors: Errors = {}
    merged = copy.deepcopy(current or {})
    for key, value in update.items():
        if key not in POLICY_SETTINGS:
            errors[key] = [_("Unknown policy setting.")]
        elif value is None:
            merged.pop(key, None)
        elif key in _MAPPING_SETTINGS:
            shape = _MAPPING_SETTINGS[key]
            problem = _mapping_problem(shape, value)
            if problem:
                errors[key] = [problem]
                continue
            entry = _merge_mapping(shape, merged.get(key, {}), value)
            if entry:
                merged[key] = entry
            else:
                merged.pop(key, None)
        else:
            merged[key] = value
    if errors:
        raise PolicyError(errors)
    errors = validate_policy(effective_policy(merged).as_dict())
    if errors:
        raise PolicyError(errors)
    return merged


def _mapping_problem(shape: MappingShape, update: Any) -> str | None:
    if not isinstance(update, dict):
        return _("Expected an object.")
    unknown = sorted(set(update) - set(shape.keys))
    if unknown:
        return _("Unknown keys: %(keys)s.") % {"keys": ", ".join(unknown)}
    return None


def _merge_mapping(
    shape: MappingShape, current: dict[str, Any], update: dict[str, Any]
) -> dict[str, Any]:
    """Merge a mapping setting's update into its stored overrides, key by key."""
    null_is_a_value = isinstance(shape, PerKind) and shape.nullable
    entry = dict(current)
    for key, value in update.items():
        if value is None and not null_is_a_value:
            entry.pop(key, None)
        else:
            entry[key] = value
    return entry


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_hhmm(value: Any) -> bool:
    return isinstance(value, str) and bool(_HHMM.match(value)) and to_minutes(value) <= DAY_MINUTES


# Whole numbers first, then the other shapes: an error body lists its settings as it always has.
_CHECK_ORDER = (WholeNumber, PerKind, KindList, OpeningHours, TeachingWindows)
_CHECKED = sorted(POLICY_SETTINGS.items(), key=lambda item: _CHECK_ORDER.index(type(item[1].shape)))


def validate_policy(values: Values) -> Errors:
    """Return the errors of a complete policy, keyed by setting (empty when valid)."""
    errors: Errors = {}
    for name, setting in _CHECKED:
        problems = setting.shape.problems(name, values, errors)
        if problems:
            errors[name] = problems
    return errors


def _day_problem(day: str, ranges: Any) -> str | None:
    """Return what is wrong with a weekday's opening ranges, if anything (the first problem)."""
    if not isinstance(ranges, list):
        return _("%(day)s: expected a list of [start, end].") % {"day": day}
    previous_end = -1
    for item in ranges:
        if (
            not isinstance(item, list | tuple)
            or len(item) != 2
            or not all(_check_hhmm(x) for x in item)
            or item[0] == "24:00"
        ):
            return _('%(day)s: each range is ["HH:MM", "HH:MM"].') % {"day": day}
        start, end = to_minutes(item[0]), to_minutes(item[1])
        if start >= end:
            return _("%(day)s: a range must end after it starts.") % {"day": day}
        if start < previous_end:
            return _("%(day)s: ranges must be in order and not overlap.") % {"day": day}
        previous_end = end
    return None
