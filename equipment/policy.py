"""Booking policy: platform defaults, per-equipment overrides and their validation.

Pure code (no ORM): an equipment stores only the settings it overrides, as JSON;
`effective_policy()` merges them over the platform defaults of SPEC §3.
"""

from __future__ import annotations

import copy
import re
from dataclasses import asdict, dataclass, field
from datetime import time
from typing import Any

from django.utils.translation import gettext as _

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PROJECT_KINDS = ("pedagogical", "research", "industrial")
QUOTA_KINDS = ("research", "industrial")
_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")

PLATFORM_DEFAULTS: dict[str, Any] = {
    "granularity_minutes": 15,
    "min_duration_minutes": 30,
    "max_duration_minutes": 8 * 60,
    "opening_hours": {
        **{day: [["08:00", "19:00"]] for day in WEEKDAYS[:5]},
        "sat": [],
        "sun": [],
    },
    "horizon_days": {"pedagogical": 365, "research": 60, "industrial": 30},
    "min_notice_minutes": 60,
    "buffer_minutes": 0,
    "approval_required_for": ["industrial"],
    "weekly_quota_hours": {"research": None, "industrial": None},
    "teaching_windows": [],
    "teaching_release_days": 14,
    "preemption_notice_days": 14,
    "late_cancellation_hours": 24,
    "check_in_grace_minutes": 30,
}
SETTINGS = tuple(PLATFORM_DEFAULTS)
# Settings whose value is a mapping: a partial update merges key by key.
_MAPPING_SETTINGS = ("opening_hours", "horizon_days", "weekly_quota_hours")


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

    def __init__(self, errors: dict[str, list[str]]):
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
    errors: dict[str, list[str]] = {}
    merged = copy.deepcopy(current or {})
    for key, value in update.items():
        if key not in PLATFORM_DEFAULTS:
            errors[key] = [_("Unknown policy setting.")]
            continue
        if value is None:
            merged.pop(key, None)
            continue
        if key in _MAPPING_SETTINGS:
            if not isinstance(value, dict):
                errors[key] = [_("Expected an object.")]
                continue
            allowed = PLATFORM_DEFAULTS[key].keys()
            unknown = sorted(set(value) - set(allowed))
            if unknown:
                errors[key] = [_("Unknown keys: %(keys)s.") % {"keys": ", ".join(unknown)}]
                continue
            entry = dict(merged.get(key, {}))
            for sub, subvalue in value.items():
                if subvalue is None and key != "weekly_quota_hours":
                    entry.pop(sub, None)
                else:
                    entry[sub] = subvalue
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


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_hhmm(value: Any) -> bool:
    return isinstance(value, str) and bool(_HHMM.match(value)) and to_minutes(value) <= 24 * 60


# Upper bounds of the settings: generous, but far from what overflows date arithmetic.
LIMITS = {
    "min_duration_minutes": 366 * 24 * 60,
    "max_duration_minutes": 366 * 24 * 60,
    "min_notice_minutes": 366 * 24 * 60,
    "buffer_minutes": 7 * 24 * 60,
    "check_in_grace_minutes": 24 * 60,
    "teaching_release_days": 3660,
    "preemption_notice_days": 3660,
    "late_cancellation_hours": 366 * 24,
    "horizon_days": 3660,
    "weekly_quota_hours": 168,
}


def validate_policy(values: dict[str, Any]) -> dict[str, list[str]]:
    """Return the errors of a complete policy, keyed by setting (empty when valid)."""
    errors: dict[str, list[str]] = {}

    def add(key: str, message: str) -> None:
        errors.setdefault(key, []).append(message)

    granularity = values["granularity_minutes"]
    if not _is_int(granularity) or granularity <= 0 or (24 * 60) % granularity:
        add("granularity_minutes", _("Must be a positive number of minutes dividing a day."))
        granularity = None
    for key in ("min_duration_minutes", "max_duration_minutes"):
        value = values[key]
        if not _is_int(value) or value <= 0:
            add(key, _("Must be a positive whole number of minutes."))
        elif value > LIMITS[key]:
            add(key, _("At most %(limit)d.") % {"limit": LIMITS[key]})
        elif granularity and value % granularity:
            add(key, _("Must be a multiple of the slot granularity."))
    if (
        "min_duration_minutes" not in errors
        and "max_duration_minutes" not in errors
        and values["min_duration_minutes"] > values["max_duration_minutes"]
    ):
        add("max_duration_minutes", _("Must not be shorter than the minimum duration."))

    for key in (
        "min_notice_minutes",
        "buffer_minutes",
        "teaching_release_days",
        "preemption_notice_days",
        "late_cancellation_hours",
        "check_in_grace_minutes",
    ):
        if not _is_int(values[key]) or values[key] < 0:
            add(key, _("Must be a whole number, zero or more."))
        elif values[key] > LIMITS[key]:
            add(key, _("At most %(limit)d.") % {"limit": LIMITS[key]})

    for kind in PROJECT_KINDS:
        days = values["horizon_days"].get(kind)
        if not _is_int(days) or days <= 0 or days > LIMITS["horizon_days"]:
            add(
                "horizon_days",
                _("%(kind)s: must be a positive number of days, at most %(limit)d.")
                % {"kind": kind, "limit": LIMITS["horizon_days"]},
            )

    for kind in QUOTA_KINDS:
        hours = values["weekly_quota_hours"].get(kind)
        if hours is not None and (
            isinstance(hours, bool)
            or not isinstance(hours, int | float)
            or not 0 <= hours <= LIMITS["weekly_quota_hours"]
        ):
            add(
                "weekly_quota_hours",
                _("%(kind)s: must be a number of hours, or null for no quota.") % {"kind": kind},
            )

    kinds = values["approval_required_for"]
    if not isinstance(kinds, list) or any(k not in PROJECT_KINDS for k in kinds):
        add(
            "approval_required_for",
            _("Must be a list of project kinds (pedagogical, research, industrial)."),
        )

    for day in WEEKDAYS:
        ranges = values["opening_hours"].get(day)
        if not isinstance(ranges, list):
            add("opening_hours", _("%(day)s: expected a list of [start, end].") % {"day": day})
            continue
        previous_end = -1
        for item in ranges:
            if (
                not isinstance(item, list | tuple)
                or len(item) != 2
                or not all(_check_hhmm(x) for x in item)
                or item[0] == "24:00"
            ):
                add(
                    "opening_hours",
                    _('%(day)s: each range is ["HH:MM", "HH:MM"].') % {"day": day},
                )
                break
            start, end = to_minutes(item[0]), to_minutes(item[1])
            if start >= end:
                add("opening_hours", _("%(day)s: a range must end after it starts.") % {"day": day})
                break
            if start < previous_end:
                add(
                    "opening_hours",
                    _("%(day)s: ranges must be in order and not overlap.") % {"day": day},
                )
                break
            previous_end = end

    windows = values["teaching_windows"]
    if not isinstance(windows, list):
        add("teaching_windows", _("Expected a list of windows."))
    else:
        for window in windows:
            if (
                not isinstance(window, dict)
                or set(window) != {"weekday", "start", "end"}
                or window["weekday"] not in WEEKDAYS
                or not _check_hhmm(window["start"])
                or not _check_hhmm(window["end"])
                or window["start"] == "24:00"
            ):
                add(
                    "teaching_windows",
                    _('Each window is {weekday: "mon"…"sun", start: "HH:MM", end: "HH:MM"}.'),
                )
                break
            if to_minutes(window["start"]) >= to_minutes(window["end"]):
                add("teaching_windows", _("A window must end after it starts."))
                break
    return errors
