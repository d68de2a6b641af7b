"""Effective booking policy: platform defaults, per-equipment overrides, validation."""

from __future__ import annotations

import pytest

from equipment.policy import (
    PLATFORM_DEFAULTS,
    PolicyError,
    effective_policy,
    merge_overrides,
    validate_policy,
)


def test_defaults_are_those_of_the_spec():
    policy = effective_policy({})
    assert policy.granularity_minutes == 15
    assert (policy.min_duration_minutes, policy.max_duration_minutes) == (30, 480)
    assert policy.opening_hours["mon"] == [["08:00", "19:00"]]
    assert policy.opening_hours["fri"] == [["08:00", "19:00"]]
    assert policy.opening_hours["sat"] == [] and policy.opening_hours["sun"] == []
    assert policy.horizon_days == {"pedagogical": 365, "research": 60, "industrial": 30}
    assert policy.min_notice_minutes == 60
    assert policy.buffer_minutes == 0
    assert policy.approval_required_for == ["industrial"]
    assert policy.weekly_quota_hours == {"research": None, "industrial": None}
    assert policy.teaching_windows == []
    assert policy.teaching_release_days == 14
    assert policy.preemption_notice_days == 14
    assert policy.late_cancellation_hours == 24
    assert policy.check_in_grace_minutes == 30
    assert policy.overridden == frozenset()


def test_override_replaces_one_setting_and_keeps_the_others():
    policy = effective_policy({"buffer_minutes": 30})
    assert policy.buffer_minutes == 30
    assert policy.granularity_minutes == 15
    assert policy.overridden == {"buffer_minutes"}


def test_mapping_override_merges_key_by_key():
    policy = effective_policy(
        {"horizon_days": {"research": 90}, "opening_hours": {"sat": [["09:00", "12:00"]]}}
    )
    assert policy.horizon_days == {"pedagogical": 365, "research": 90, "industrial": 30}
    assert policy.opening_hours["sat"] == [["09:00", "12:00"]]
    assert policy.opening_hours["mon"] == [["08:00", "19:00"]]


def test_effective_policy_does_not_share_state_with_the_defaults():
    policy = effective_policy({})
    policy.opening_hours["mon"].append(["20:00", "21:00"])
    assert PLATFORM_DEFAULTS["opening_hours"]["mon"] == [["08:00", "19:00"]]


def test_merge_is_partial_and_null_restores_the_default():
    current = merge_overrides({}, {"buffer_minutes": 15, "min_notice_minutes": 120})
    current = merge_overrides(current, {"buffer_minutes": None})
    assert current == {"min_notice_minutes": 120}
    assert effective_policy(current).buffer_minutes == 0


def test_quota_null_means_no_quota_and_a_number_sets_one():
    current = merge_overrides({}, {"weekly_quota_hours": {"industrial": 10}})
    assert effective_policy(current).weekly_quota_hours == {"research": None, "industrial": 10}
    current = merge_overrides(current, {"weekly_quota_hours": {"industrial": None}})
    assert effective_policy(current).weekly_quota_hours["industrial"] is None


def test_opening_hours_accept_midnight_as_end():
    current = merge_overrides({}, {"opening_hours": {"sun": [["00:00", "24:00"]]}})
    assert effective_policy(current).opening_minutes(6) == [(0, 1440)]


def test_teaching_windows_are_parsed():
    current = merge_overrides(
        {}, {"teaching_windows": [{"weekday": "tue", "start": "08:00", "end": "12:00"}]}
    )
    [window] = effective_policy(current).windows()
    assert window.weekday == 1
    assert (window.start.hour, window.end.hour) == (8, 12)


@pytest.mark.parametrize(
    ("update", "field"),
    [
        ({"granularity_minutes": 7}, "granularity_minutes"),
        ({"granularity_minutes": 0}, "granularity_minutes"),
        ({"granularity_minutes": True}, "granularity_minutes"),
        ({"min_duration_minutes": 20}, "min_duration_minutes"),
        ({"min_duration_minutes": 600}, "max_duration_minutes"),
        ({"buffer_minutes": -5}, "buffer_minutes"),
        ({"buffer_minutes": "ten"}, "buffer_minutes"),
        ({"horizon_days": {"research": 0}}, "horizon_days"),
        ({"horizon_days": {"teaching": 10}}, "horizon_days"),
        ({"weekly_quota_hours": {"research": -1}}, "weekly_quota_hours"),
        ({"approval_required_for": ["everyone"]}, "approval_required_for"),
        ({"opening_hours": {"mon": [["19:00", "08:00"]]}}, "opening_hours"),
        ({"opening_hours": {"mon": [["8h", "19:00"]]}}, "opening_hours"),
        ({"opening_hours": {"mon": [["08:00", "12:00"], ["11:00", "14:00"]]}}, "opening_hours"),
        ({"opening_hours": {"mon": [["24:00", "24:00"]]}}, "opening_hours"),
        ({"opening_hours": {"funday": []}}, "opening_hours"),
        (
            {"teaching_windows": [{"weekday": "tue", "start": "12:00", "end": "08:00"}]},
            "teaching_windows",
        ),
        (
            {"teaching_windows": [{"weekday": "tuesday", "start": "08:00", "end": "12:00"}]},
            "teaching_windows",
        ),
        ({"teaching_windows": "tue"}, "teaching_windows"),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_bad_policy_values_are_refused_with_the_setting_named(update, field):
    with pytest.raises(PolicyError) as error:
        merge_overrides({}, update)
    assert field in error.value.errors


def test_policy_must_be_an_object():
    with pytest.raises(PolicyError):
        merge_overrides({}, ["buffer_minutes", 10])


def test_platform_defaults_are_valid():
    assert validate_policy(effective_policy({}).as_dict()) == {}
