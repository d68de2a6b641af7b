"""The policy as the API documents it (OpenAPI) is the policy the validator enforces.

Both are derived from equipment.policy.POLICY_SETTINGS; these tests read the generated
schema and try, against the validator, the documented bounds and the values just outside.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest
from drf_spectacular.generators import SchemaGenerator

from equipment.policy import (
    PLATFORM_DEFAULTS,
    POLICY_SETTINGS,
    QUOTA_KINDS,
    WEEKDAYS,
    KindList,
    PerKind,
    Policy,
    PolicyError,
    WholeNumber,
    effective_policy,
    merge_overrides,
    validate_policy,
)
from partners.models import ProjectKind


def _names(shape: type) -> list[str]:
    return [name for name, s in POLICY_SETTINGS.items() if isinstance(s.shape, shape)]


# "HH:MM" candidates: every two-digit pair around the valid ones, and a few malformed.
TIMES = [f"{h:02d}:{m:02d}" for h in range(30) for m in range(70)] + [
    "8:00",
    "08:0",
    "0800",
    "08h00",
    " 08:00",
    "08:00 ",
    "-1:00",
    "",
]


@pytest.fixture(scope="module")
def components() -> dict[str, Any]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return schema["components"]["schemas"]


def _resolve(prop: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Follow a property's `$ref` (alone or in an `allOf`) to its component."""
    ref = prop.get("$ref") or prop.get("allOf", [{}])[0].get("$ref")
    return components[ref.rsplit("/", 1)[-1]] if ref else prop


def _documented(components: dict[str, Any], name: str, *, request: bool = False) -> dict:
    policy = components["PolicySchemaRequest" if request else "PolicySchema"]
    return _resolve(policy["properties"][name], components)


# Other settings at their loosest, so that a value is judged on its own bounds.
LOOSE = {"granularity_minutes": 1, "min_duration_minutes": 1, "max_duration_minutes": 366 * 1440}


def _refused(name: str, value: Any) -> bool:
    values = effective_policy(LOOSE).as_dict() | {name: value}
    return name in validate_policy(values)


def test_documented_settings_are_the_policy_settings_in_order(components):
    read = components["PolicySchema"]
    settings = list(POLICY_SETTINGS)
    assert list(read["properties"]) == settings == list(PLATFORM_DEFAULTS)
    assert settings == [f.name for f in dataclasses.fields(Policy) if f.name != "overridden"]
    assert sorted(read["required"]) == sorted(settings)
    assert validate_policy(effective_policy(LOOSE).as_dict()) == {}


def test_project_kinds_come_from_the_partners_app():
    assert POLICY_SETTINGS["approval_required_for"].shape == KindList(tuple(ProjectKind.values))
    assert POLICY_SETTINGS["horizon_days"].shape.keys == tuple(ProjectKind.values)
    assert QUOTA_KINDS == (ProjectKind.RESEARCH, ProjectKind.INDUSTRIAL)


@pytest.mark.parametrize("name", _names(WholeNumber))
def test_whole_number_setting_is_enforced_as_documented(components, name):
    prop = components["PolicySchema"]["properties"][name]
    assert prop["type"] == "integer"
    low, high = prop["minimum"], prop["maximum"]
    shape = POLICY_SETTINGS[name].shape
    assert (low, high) == (shape.minimum, shape.maximum)
    assert not _refused(name, low)
    assert not _refused(name, high)
    assert _refused(name, low - 1)
    assert _refused(name, high + 1)
    for wrong_type in (low + 0.5, float(high), True, str(low), None, [low]):
        assert _refused(name, wrong_type), wrong_type


@pytest.mark.parametrize("name", _names(PerKind))
def test_per_kind_setting_is_enforced_as_documented(components, name):
    component = _documented(components, name)
    assert list(component["properties"]) == list(PLATFORM_DEFAULTS[name])
    assert sorted(component["required"]) == sorted(PLATFORM_DEFAULTS[name])
    for kind, prop in component["properties"].items():

        def refused(value: Any, kind: str = kind) -> bool:
            return _refused(name, {**PLATFORM_DEFAULTS[name], kind: value})

        whole = prop["type"] == "integer"
        step = 1 if whole else 0.001
        low, high = prop["minimum"], prop["maximum"]
        assert not refused(low) and not refused(high)
        assert refused(low - step) and refused(high + step)
        assert refused(low + 0.5) == whole
        assert refused(None) != prop.get("nullable", False)
        assert refused(True) and refused(str(low))
    with pytest.raises(PolicyError) as error:
        merge_overrides({}, {name: {"colour": 1}})
    assert name in error.value.errors


@pytest.mark.parametrize("name", _names(KindList))
def test_kind_list_setting_is_enforced_as_documented(components, name):
    prop = components["PolicySchema"]["properties"][name]
    assert prop["type"] == "array"
    kinds = _resolve(prop["items"], components)["enum"]
    assert kinds == ProjectKind.values
    assert not _refused(name, kinds) and not _refused(name, [])
    assert _refused(name, ["everyone"]) and _refused(name, kinds[0])


def test_opening_hours_are_enforced_as_documented(components):
    component = _documented(components, "opening_hours")
    assert list(component["properties"]) == list(WEEKDAYS)
    assert sorted(component["required"]) == sorted(WEEKDAYS)
    day = component["properties"]["mon"]
    assert (day["items"]["minItems"], day["items"]["maxItems"]) == (2, 2)
    end_pattern = day["items"]["items"]["pattern"]

    def refused(ranges: Any) -> bool:
        return _refused("opening_hours", {**PLATFORM_DEFAULTS["opening_hours"], "mon": ranges})

    for text in TIMES:
        if text != "00:00":  # a valid time, but a range must end after it starts
            assert refused([["00:00", text]]) != bool(re.fullmatch(end_pattern, text)), text
    assert refused([["08:00"]]) and refused([["08:00", "09:00", "10:00"]])
    assert refused("08:00-19:00") and not refused([])


def test_teaching_windows_are_enforced_as_documented(components):
    prop = components["PolicySchema"]["properties"]["teaching_windows"]
    assert prop["type"] == "array"
    window = _resolve(prop["items"], components)
    assert sorted(window["required"]) == ["end", "start", "weekday"]
    assert _resolve(window["properties"]["weekday"], components)["enum"] == list(WEEKDAYS)
    start_pattern = window["properties"]["start"]["pattern"]
    end_pattern = window["properties"]["end"]["pattern"]

    def refused(start: str = "08:00", end: str = "12:00", **other: Any) -> bool:
        window = {"weekday": "tue", "start": start, "end": end, **other}
        return _refused("teaching_windows", [window])

    for text in TIMES:
        assert refused(start=text, end="24:00") != bool(re.fullmatch(start_pattern, text)), text
        if text != "00:00":
            assert refused(start="00:00", end=text) != bool(re.fullmatch(end_pattern, text)), text
    assert refused(weekday="tuesday") and refused(room="A1")
    assert _refused("teaching_windows", [{"weekday": "tue", "start": "08:00"}])


def test_a_write_may_leave_out_or_null_any_documented_setting_or_key(components):
    request = components["PolicySchemaRequest"]
    assert "required" not in request
    for name in POLICY_SETTINGS:
        prop = request["properties"][name]
        assert prop.get("nullable"), name
        assert merge_overrides({"buffer_minutes": 10}, {name: None}) == (
            {} if name == "buffer_minutes" else {"buffer_minutes": 10}
        )
        component = _documented(components, name, request=True)
        for key, key_prop in component.get("properties", {}).items():
            if name == "teaching_windows":
                continue  # a window is given whole
            assert key_prop.get("nullable") and "required" not in component, (name, key)
            merge_overrides({}, {name: {key: None}})  # accepted


def test_documented_bounds_are_those_of_the_written_policy_too(components):
    for name in _names(WholeNumber):
        read = components["PolicySchema"]["properties"][name]
        written = components["PolicySchemaRequest"]["properties"][name]
        assert (written["minimum"], written["maximum"]) == (read["minimum"], read["maximum"])


@pytest.mark.parametrize("text", ["08:00\n", "٠٨:٠٠", "08:00 ", " 08:00", "8:00"])
def test_times_are_plain_ascii_hh_mm(text):
    from equipment.policy import PolicyError, merge_overrides

    with pytest.raises(PolicyError):
        merge_overrides({}, {"opening_hours": {"mon": [[text, "19:00"]]}})
