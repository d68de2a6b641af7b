"""The pure booking rules of SPEC §3 (reservations.rules), table by table, without a database.

Each table has one row per edge case and asserts the `code` of the first violation (None
when the request is accepted): messages are translated, codes are the contract.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from equipment.policy import WEEKDAYS, effective_policy
from reservations.rules import (
    INDUSTRIAL,
    ORDER,
    PEDAGOGICAL,
    RESEARCH,
    BookingFacts,
    Busy,
    Interval,
    Verdict,
    check_booking,
    teaching_intervals,
    week_hours,
)

TZ = ZoneInfo("Europe/Paris")
# Monday 1 June 2026, 09:00 in Paris (UTC+2): the fixed "now" of most tables.
NOW = datetime(2026, 6, 1, 9, 0, tzinfo=TZ)
ALWAYS_OPEN = {"opening_hours": {day: [["00:00", "24:00"]] for day in WEEKDAYS}}
TUE_MORNING = {"teaching_windows": [{"weekday": "tue", "start": "08:00", "end": "12:00"}]}


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, **kw: int) -> datetime:
    """A local Paris time (aware)."""
    return datetime(year, month, day, hour, minute, tzinfo=TZ, **kw)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def wed(hour: int, minute: int = 0, **kw: int) -> datetime:
    """Wednesday 10 June 2026 (9 days after NOW), local time."""
    return at(2026, 6, 10, hour, minute, **kw)


def verdict(
    start: datetime,
    end: datetime,
    *,
    policy: dict[str, Any] | None = None,
    kind: str = RESEARCH,
    now: datetime = NOW,
    **facts: Any,
) -> Verdict:
    return check_booking(
        BookingFacts(
            start=start,
            end=end,
            now=now,
            tz=TZ,
            policy=effective_policy(policy or {}),
            kind=kind,
            **facts,
        )
    )


def first_code(start: datetime, end: datetime, **kw: Any) -> str | None:
    answer = verdict(start, end, **kw)
    return answer.first.code if answer.first else None


def busy(
    id: int, start: datetime, end: datetime, priority: str = RESEARCH, buffer: int = 0
) -> Busy:
    return Busy(id, start, end, end + timedelta(minutes=buffer), priority)


def test_a_plain_request_is_accepted():
    answer = verdict(wed(10), wed(11))
    assert answer.ok
    assert answer.first is None
    assert answer.displace == () and answer.conflicts == ()


# --- invalid, in_past, bad_granularity -------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        pytest.param(wed(10), wed(10), id="end-equals-start"),
        pytest.param(wed(11), wed(10), id="end-before-start"),
        pytest.param(datetime(2026, 6, 10, 10), wed(11), id="naive-start"),
        pytest.param(wed(10), datetime(2026, 6, 10, 11), id="naive-end"),
    ],
)
def test_invalid_shape(start, end):
    assert first_code(start, end) == "invalid"


def test_invalid_shape_answers_alone():
    # In the past, off the grid, on a closed day... and backwards: only `invalid` is said.
    answer = verdict(at(2026, 5, 30, 10, 7), at(2026, 5, 30, 9, 0), equipment_active=False)
    assert [v.code for v in answer.violations] == ["invalid"]


@pytest.mark.parametrize(
    ("start", "end", "now", "expected"),
    [
        pytest.param(at(2026, 6, 1, 8, 45), at(2026, 6, 1, 9, 45), NOW, "in_past", id="15min-ago"),
        pytest.param(at(2026, 5, 29, 10), at(2026, 5, 29, 11), NOW, "in_past", id="last-week"),
        pytest.param(NOW, NOW + timedelta(hours=1), NOW, "too_late", id="starts-now"),
        pytest.param(
            utc(2026, 6, 1, 6, 45), utc(2026, 6, 1, 8), NOW, "in_past", id="utc-before-now"
        ),
        pytest.param(wed(10), wed(11), NOW, None, id="future"),
    ],
)
def test_in_past(start, end, now, expected):
    assert first_code(start, end, now=now) == expected


@pytest.mark.parametrize(
    ("start", "end", "policy", "expected"),
    [
        pytest.param(wed(9, 10), wed(10, 10), {}, "bad_granularity", id="start-0910"),
        pytest.param(wed(10), wed(11, 5), {}, "bad_granularity", id="end-1105"),
        pytest.param(wed(10, second=30), wed(11), {}, "bad_granularity", id="start-seconds"),
        pytest.param(wed(10), wed(11, second=1), {}, "bad_granularity", id="end-seconds"),
        pytest.param(wed(10, microsecond=1), wed(11), {}, "bad_granularity", id="microseconds"),
        pytest.param(wed(10, 15), wed(11, 15), {}, None, id="quarter-past-on-15"),
        pytest.param(
            wed(10, 15),
            wed(11, 15),
            {"granularity_minutes": 30},
            "bad_granularity",
            id="quarter-past-on-30",
        ),
        pytest.param(wed(10, 30), wed(11, 30), {"granularity_minutes": 30}, None, id="half-on-30"),
        pytest.param(
            wed(10), wed(10, 45), {"granularity_minutes": 30}, "bad_granularity", id="end-on-30"
        ),
        pytest.param(utc(2026, 6, 10, 8, 15), utc(2026, 6, 10, 9), {}, None, id="given-in-utc"),
    ],
)
def test_bad_granularity(start, end, policy, expected):
    assert first_code(start, end, policy=policy) == expected


# --- duration ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minutes", "policy", "expected"),
    [
        pytest.param(30, {}, None, id="exactly-min-30"),
        pytest.param(15, {}, "too_short", id="one-step-below-min"),
        pytest.param(480, {}, None, id="exactly-max-8h"),
        pytest.param(495, {}, "too_long", id="one-step-above-max"),
        pytest.param(60, {"min_duration_minutes": 60}, None, id="override-min-exact"),
        pytest.param(45, {"min_duration_minutes": 60}, "too_short", id="override-min-below"),
        pytest.param(120, {"max_duration_minutes": 120}, None, id="override-max-exact"),
        pytest.param(135, {"max_duration_minutes": 120}, "too_long", id="override-max-above"),
    ],
)
def test_duration(minutes, policy, expected):
    start = wed(9)
    assert first_code(start, start + timedelta(minutes=minutes), policy=policy) == expected


# --- opening hours -------------------------------------------------------------------------

MIDNIGHT = {"opening_hours": {"mon": [["00:00", "24:00"]], "tue": [["00:00", "24:00"]]}}


@pytest.mark.parametrize(
    ("start", "end", "policy", "expected"),
    [
        pytest.param(wed(7, 45), wed(9), {}, "outside_opening_hours", id="starts-0745"),
        pytest.param(wed(18), wed(19, 15), {}, "outside_opening_hours", id="ends-1915"),
        pytest.param(wed(8), wed(19), {"max_duration_minutes": 660}, None, id="exactly-0800-1900"),
        pytest.param(
            at(2026, 6, 13, 10), at(2026, 6, 13, 11), {}, "outside_opening_hours", id="saturday"
        ),
        pytest.param(
            at(2026, 6, 14, 10), at(2026, 6, 14, 11), {}, "outside_opening_hours", id="sunday"
        ),
        pytest.param(
            wed(18),
            at(2026, 6, 11, 9),
            {"max_duration_minutes": 900},
            "outside_opening_hours",
            id="overnight-with-default-hours",
        ),
        pytest.param(
            at(2026, 6, 8, 22), at(2026, 6, 9, 2), MIDNIGHT, None, id="crosses-midnight-mon-tue"
        ),
        pytest.param(
            at(2026, 6, 9, 22),
            at(2026, 6, 10, 2),
            MIDNIGHT,
            "outside_opening_hours",
            id="crosses-into-closed-wednesday-night",
        ),
        pytest.param(
            at(2026, 6, 12, 22),
            at(2026, 6, 13, 1),
            {"opening_hours": {"fri": [["20:00", "24:00"]], "sat": [["00:00", "02:00"]]}},
            None,
            id="fri-evening-into-sat-night",
        ),
        pytest.param(
            wed(11),
            wed(15),
            {"opening_hours": {"wed": [["08:00", "12:00"], ["14:00", "18:00"]]}},
            "outside_opening_hours",
            id="spans-lunch-break",
        ),
        pytest.param(
            wed(14),
            wed(15),
            {"opening_hours": {"wed": [["08:00", "12:00"], ["14:00", "18:00"]]}},
            None,
            id="inside-afternoon-range",
        ),
        pytest.param(
            wed(10),
            wed(14),
            {"opening_hours": {"wed": [["08:00", "12:00"], ["12:00", "18:00"]]}},
            None,
            id="adjacent-ranges-merge",
        ),
    ],
)
def test_outside_opening_hours(start, end, policy, expected):
    assert first_code(start, end, policy=policy) == expected


# --- closures, equipment ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("closure", "expected"),
    [
        pytest.param(Interval(wed(10, 30), wed(12)), "closed", id="overlaps-the-end"),
        pytest.param(Interval(wed(8), wed(10, 15)), "closed", id="overlaps-the-start"),
        pytest.param(Interval(at(2026, 6, 9), at(2026, 6, 12)), "closed", id="covers-it"),
        pytest.param(Interval(wed(10, 15), wed(10, 30)), "closed", id="inside-it"),
        pytest.param(Interval(wed(8), wed(10)), None, id="ends-exactly-at-start"),
        pytest.param(Interval(wed(11), wed(12)), None, id="starts-exactly-at-end"),
        pytest.param(Interval(at(2026, 6, 11), at(2026, 6, 12)), None, id="another-day"),
    ],
)
def test_closed(closure, expected):
    assert first_code(wed(10), wed(11), closures=(closure,)) == expected


@pytest.mark.parametrize(("active", "expected"), [(False, "equipment_unavailable"), (True, None)])
def test_equipment_unavailable(active, expected):
    assert first_code(wed(10), wed(11), equipment_active=active) == expected


# --- horizon and notice ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "ahead", "expected"),
    [
        pytest.param(PEDAGOGICAL, timedelta(days=365), None, id="pedagogical-exactly-365d"),
        pytest.param(
            PEDAGOGICAL, timedelta(days=365, minutes=15), "beyond_horizon", id="pedagogical-beyond"
        ),
        pytest.param(RESEARCH, timedelta(days=60), None, id="research-exactly-60d"),
        pytest.param(
            RESEARCH, timedelta(days=60, minutes=15), "beyond_horizon", id="research-beyond"
        ),
        pytest.param(RESEARCH, timedelta(days=365), "beyond_horizon", id="research-at-365d"),
        pytest.param(INDUSTRIAL, timedelta(days=30), None, id="industrial-exactly-30d"),
        pytest.param(
            INDUSTRIAL, timedelta(days=30, minutes=15), "beyond_horizon", id="industrial-beyond"
        ),
        pytest.param(INDUSTRIAL, timedelta(days=60), "beyond_horizon", id="industrial-at-60d"),
    ],
)
def test_beyond_horizon(kind, ahead, expected):
    # NOW is a Monday 09:00; +30, +60 and +365 days fall on a Wednesday, Friday and Tuesday.
    start = NOW + ahead
    assert start.weekday() < 5
    assert first_code(start, start + timedelta(hours=1), kind=kind) == expected


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Monday 14 September 09:00 + 60 local days = Friday 13 November 09:00, across the
        # October change: 60 days are 1,441 hours here, not 60 x 24.
        pytest.param(at(2026, 11, 13, 9), None, id="60-local-days-across-autumn"),
        pytest.param(at(2026, 11, 13, 9, 15), "beyond_horizon", id="just-beyond"),
    ],
)
def test_horizon_counts_local_days_across_daylight_saving(start, expected):
    now = at(2026, 9, 14, 9)
    assert first_code(start, start + timedelta(hours=1), now=now) == expected


def test_beyond_horizon_follows_an_override():
    start = NOW + timedelta(days=7)
    policy = {"horizon_days": {"research": 5}}
    assert first_code(start, start + timedelta(hours=1), policy=policy) == "beyond_horizon"


@pytest.mark.parametrize(
    ("start", "policy", "expected"),
    [
        pytest.param(at(2026, 6, 1, 9), {}, "too_late", id="starts-now"),
        pytest.param(at(2026, 6, 1, 9, 45), {}, "too_late", id="in-45-minutes"),
        pytest.param(at(2026, 6, 1, 10), {}, None, id="exactly-one-hour"),
        pytest.param(at(2026, 6, 1, 9), {"min_notice_minutes": 0}, None, id="no-notice"),
        pytest.param(
            at(2026, 6, 2, 8, 45), {"min_notice_minutes": 1440}, "too_late", id="24h-notice-inside"
        ),
        pytest.param(at(2026, 6, 2, 9), {"min_notice_minutes": 1440}, None, id="24h-notice-exact"),
    ],
)
def test_too_late(start, policy, expected):
    assert first_code(start, start + timedelta(hours=1), policy=policy) == expected


# --- project, qualification -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("is_member", "project_active", "expected"),
    [
        (False, True, "not_project_member"),
        (True, False, "project_inactive"),
        (False, False, "not_project_member"),
        (True, True, None),
    ],
)
def test_project_membership(is_member, project_active, expected):
    answer = verdict(wed(10), wed(11), is_member=is_member, project_active=project_active)
    assert (answer.first.code if answer.first else None) == expected
    assert len(answer.violations) == (expected is not None)


@pytest.mark.parametrize(
    ("kind", "required", "qualified", "expected"),
    [
        (RESEARCH, True, False, "not_qualified"),
        (PEDAGOGICAL, True, False, "not_qualified"),
        (INDUSTRIAL, True, False, "not_qualified"),
        (RESEARCH, True, True, None),
        (RESEARCH, False, False, None),
    ],
)
def test_not_qualified(kind, required, qualified, expected):
    code = first_code(
        wed(10), wed(11), kind=kind, qualification_required=required, qualified=qualified
    )
    assert code == expected


# --- teaching windows ---------------------------------------------------------------------

TUE_FAR = date(2026, 6, 30)  # a Tuesday 29 days after NOW


@pytest.mark.parametrize(
    ("kind", "start", "end", "now", "holidays", "expected"),
    [
        pytest.param(
            RESEARCH,
            at(2026, 6, 30, 9),
            at(2026, 6, 30, 10),
            NOW,
            (),
            "teaching_window",
            id="research-far-ahead",
        ),
        pytest.param(
            INDUSTRIAL,
            at(2026, 6, 30, 9),
            at(2026, 6, 30, 10),
            NOW,
            (),
            "teaching_window",
            id="industrial-far-ahead",
        ),
        pytest.param(
            PEDAGOGICAL,
            at(2026, 6, 30, 9),
            at(2026, 6, 30, 10),
            NOW,
            (),
            None,
            id="pedagogical-far-ahead",
        ),
        pytest.param(
            RESEARCH,
            at(2026, 6, 30, 11, 30),
            at(2026, 6, 30, 12, 30),
            NOW,
            (),
            "teaching_window",
            id="overlaps-window-end",
        ),
        pytest.param(
            RESEARCH,
            at(2026, 6, 30, 12),
            at(2026, 6, 30, 13),
            NOW,
            (),
            None,
            id="starts-at-window-end",
        ),
        pytest.param(
            RESEARCH,
            at(2026, 7, 1, 9),
            at(2026, 7, 1, 10),
            NOW,
            (),
            None,
            id="wednesday",
        ),
        pytest.param(
            RESEARCH,
            at(2026, 6, 9, 9),
            at(2026, 6, 9, 10),
            NOW,
            (),
            None,
            id="released-8-days-ahead",
        ),
        pytest.param(
            RESEARCH,
            at(2026, 6, 16, 9),
            at(2026, 6, 16, 10),
            at(2026, 6, 2, 8),
            (),
            None,
            id="released-exactly-14-days-before-window",
        ),
        pytest.param(
            RESEARCH,
            at(2026, 6, 16, 9),
            at(2026, 6, 16, 10),
            at(2026, 6, 2, 7, 45),
            (),
            "teaching_window",
            id="14-days-15-minutes-before-window",
        ),
        pytest.param(
            RESEARCH,
            at(2026, 6, 30, 9),
            at(2026, 6, 30, 10),
            NOW,
            (TUE_FAR,),
            None,
            id="school-holiday",
        ),
        pytest.param(
            RESEARCH,
            at(2026, 6, 30, 9),
            at(2026, 6, 30, 10),
            NOW,
            (date(2026, 6, 29),),
            "teaching_window",
            id="holiday-on-another-day",
        ),
    ],
)
def test_teaching_window(kind, start, end, now, holidays, expected):
    code = first_code(
        start, end, kind=kind, now=now, policy=TUE_MORNING, school_holidays=frozenset(holidays)
    )
    assert code == expected


def test_teaching_window_release_follows_an_override():
    policy = {**TUE_MORNING, "teaching_release_days": 30}
    assert first_code(at(2026, 6, 30, 9), at(2026, 6, 30, 10), policy=policy) is None


# --- quotas ---------------------------------------------------------------------------------

WEEK = date(2026, 6, 8)  # the Monday of Wednesday 10 June
NEXT_WEEK = date(2026, 6, 15)
QUOTA_4 = {"weekly_quota_hours": {"research": 4}}


@pytest.mark.parametrize(
    ("kind", "hours", "used", "policy", "expected"),
    [
        pytest.param(RESEARCH, 2, {WEEK: 3}, QUOTA_4, "quota_exceeded", id="3h-used-2h-asked"),
        pytest.param(RESEARCH, 1, {WEEK: 3}, QUOTA_4, None, id="3h-used-1h-asked-exact"),
        pytest.param(RESEARCH, 5, {}, QUOTA_4, "quota_exceeded", id="alone-above-quota"),
        pytest.param(RESEARCH, 4, {}, QUOTA_4, None, id="alone-exactly-quota"),
        pytest.param(RESEARCH, 2, {NEXT_WEEK: 4}, QUOTA_4, None, id="other-week-used"),
        pytest.param(RESEARCH, 1, {WEEK: 3.5}, QUOTA_4, "quota_exceeded", id="half-hours"),
        pytest.param(INDUSTRIAL, 2, {WEEK: 3}, QUOTA_4, None, id="industrial-no-quota"),
        pytest.param(
            INDUSTRIAL,
            1,
            {},
            {"weekly_quota_hours": {"industrial": 0}},
            "quota_exceeded",
            id="industrial-zero-quota",
        ),
        pytest.param(RESEARCH, 8, {WEEK: 100}, {}, None, id="no-quota-by-default"),
        pytest.param(PEDAGOGICAL, 2, {WEEK: 3}, QUOTA_4, None, id="pedagogical-never"),
        pytest.param(
            PEDAGOGICAL,
            2,
            {WEEK: 3},
            {"weekly_quota_hours": {"pedagogical": 1}},
            None,
            id="pedagogical-even-with-a-stray-quota",
        ),
    ],
)
def test_quota_exceeded(kind, hours, used, policy, expected):
    code = first_code(wed(9), wed(9 + hours), kind=kind, policy=policy, quota_used=used)
    assert code == expected


# Sunday 14 June 22:00 -> Monday 15 June 02:00: two hours in each week.
SPLIT = (at(2026, 6, 14, 22), at(2026, 6, 15, 2))


def test_week_hours_splits_a_booking_at_monday_midnight():
    assert week_hours(*SPLIT, TZ) == {WEEK: 2.0, NEXT_WEEK: 2.0}


@pytest.mark.parametrize(
    ("used", "expected"),
    [
        pytest.param({WEEK: 3}, "quota_exceeded", id="first-week-over"),
        pytest.param({WEEK: 2}, None, id="first-week-exact"),
        pytest.param({NEXT_WEEK: 2.5}, "quota_exceeded", id="second-week-over"),
        pytest.param({WEEK: 2, NEXT_WEEK: 2}, None, id="both-weeks-exact"),
    ],
)
def test_quota_of_a_booking_spanning_two_weeks(used, expected):
    policy = {**ALWAYS_OPEN, **QUOTA_4}
    assert first_code(*SPLIT, policy=policy, quota_used=used) == expected


# --- conflicts and displacement --------------------------------------------------------------

# Pedagogical requests displace lower kinds starting at least 14 days after NOW (15 June 09:00).
FAR = at(2026, 6, 24, 10)  # Wednesday, 23 days ahead
FAR_END = FAR + timedelta(hours=1)


@pytest.mark.parametrize(
    ("kind", "start", "end", "busy_list", "expected", "displaced"),
    [
        pytest.param(
            RESEARCH,
            wed(10),
            wed(11),
            [busy(1, wed(10, 30), wed(11, 30))],
            "conflict",
            (),
            id="research-vs-research",
        ),
        pytest.param(
            RESEARCH,
            wed(10),
            wed(11),
            [busy(1, wed(9), wed(12), INDUSTRIAL)],
            "conflict",
            (),
            id="research-vs-industrial",
        ),
        pytest.param(
            RESEARCH,
            wed(10),
            wed(11),
            [busy(1, wed(10), wed(11), PEDAGOGICAL)],
            "conflict",
            (),
            id="research-vs-pedagogical",
        ),
        pytest.param(
            RESEARCH,
            FAR,
            FAR_END,
            [busy(1, FAR, FAR_END)],
            "conflict",
            (),
            id="research-vs-research-far-ahead",
        ),
        pytest.param(
            PEDAGOGICAL,
            FAR,
            FAR_END,
            [busy(7, FAR, FAR_END)],
            None,
            (7,),
            id="pedagogical-displaces-research-beyond-notice",
        ),
        pytest.param(
            PEDAGOGICAL,
            FAR,
            FAR_END,
            [busy(7, FAR, FAR_END, INDUSTRIAL)],
            None,
            (7,),
            id="pedagogical-displaces-industrial-beyond-notice",
        ),
        pytest.param(
            PEDAGOGICAL,
            at(2026, 6, 15, 9),
            at(2026, 6, 15, 10),
            [busy(7, at(2026, 6, 15, 9), at(2026, 6, 15, 10))],
            None,
            (7,),
            id="displaces-exactly-at-notice",
        ),
        pytest.param(
            PEDAGOGICAL,
            at(2026, 6, 15, 9),
            at(2026, 6, 15, 10),
            [busy(7, at(2026, 6, 15, 8, 45), at(2026, 6, 15, 9, 30))],
            "conflict",
            (),
            id="busy-starting-15-minutes-inside-notice",
        ),
        pytest.param(
            PEDAGOGICAL,
            wed(10),
            wed(11),
            [busy(7, wed(10), wed(11))],
            "conflict",
            (),
            id="pedagogical-vs-research-inside-notice",
        ),
        pytest.param(
            PEDAGOGICAL,
            FAR,
            FAR_END,
            [busy(7, FAR, FAR_END, PEDAGOGICAL)],
            "conflict",
            (),
            id="pedagogical-vs-pedagogical",
        ),
        pytest.param(
            PEDAGOGICAL,
            FAR,
            FAR + timedelta(hours=2),
            [busy(7, FAR, FAR_END), busy(8, FAR_END, FAR_END + timedelta(hours=1), PEDAGOGICAL)],
            "conflict",
            (),
            id="research-and-pedagogical-displaces-nothing",
        ),
        pytest.param(
            PEDAGOGICAL,
            at(2026, 6, 15, 9),
            at(2026, 6, 15, 10),
            [
                busy(7, at(2026, 6, 15, 8), at(2026, 6, 15, 9, 30)),
                busy(8, at(2026, 6, 15, 9, 30), at(2026, 6, 15, 10)),
            ],
            "conflict",
            (),
            id="one-inside-notice-displaces-nothing",
        ),
        pytest.param(
            PEDAGOGICAL,
            FAR,
            FAR + timedelta(hours=2),
            [busy(7, FAR, FAR_END), busy(8, FAR_END, FAR_END + timedelta(hours=1), INDUSTRIAL)],
            None,
            (7, 8),
            id="displaces-research-and-industrial",
        ),
        pytest.param(
            RESEARCH,
            wed(10),
            wed(11),
            [busy(1, wed(11), wed(12))],
            None,
            (),
            id="back-to-back-after",
        ),
        pytest.param(
            RESEARCH,
            wed(10),
            wed(11),
            [busy(1, wed(9), wed(10))],
            None,
            (),
            id="back-to-back-before",
        ),
    ],
)
def test_conflict_and_displacement(kind, start, end, busy_list, expected, displaced):
    answer = verdict(start, end, kind=kind, busy=tuple(busy_list))
    assert (answer.first.code if answer.first else None) == expected
    assert answer.ok == (expected is None)
    assert answer.displace == displaced
    if expected == "conflict":
        assert answer.conflicts == tuple(busy_list)
    else:
        assert answer.conflicts == ()


BUFFER_30 = {"buffer_minutes": 30}


@pytest.mark.parametrize(
    ("start", "end", "existing", "expected"),
    [
        # The busy 09:00-10:00 holds its slot until 10:30.
        pytest.param(
            wed(10, 15),
            wed(11, 15),
            busy(1, wed(9), wed(10), buffer=30),
            "conflict",
            id="starts-15-min-before-blocked-until",
        ),
        pytest.param(
            wed(10),
            wed(11),
            busy(1, wed(9), wed(10), buffer=30),
            "conflict",
            id="starts-at-busy-end",
        ),
        pytest.param(
            wed(10, 30),
            wed(11, 30),
            busy(1, wed(9), wed(10), buffer=30),
            None,
            id="starts-exactly-at-blocked-until",
        ),
        # The request's own buffer runs to 11:30.
        pytest.param(
            wed(10),
            wed(11),
            busy(1, wed(11, 15), wed(12), buffer=30),
            "conflict",
            id="own-buffer-hits-next",
        ),
        pytest.param(
            wed(10),
            wed(11),
            busy(1, wed(11), wed(12), buffer=30),
            "conflict",
            id="own-buffer-hits-back-to-back",
        ),
        pytest.param(
            wed(10),
            wed(11),
            busy(1, wed(11, 30), wed(12), buffer=30),
            None,
            id="next-starts-exactly-after-own-buffer",
        ),
    ],
)
def test_buffers(start, end, existing, expected):
    code = first_code(start, end, policy=BUFFER_30, busy=(existing,))
    assert code == expected


# --- rule order --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "kw", "expected"),
    [
        pytest.param(
            at(2026, 6, 1, 8, 10),
            at(2026, 6, 1, 9, 10),
            {},
            "in_past",
            id="in_past-before-bad_granularity",
        ),
        pytest.param(
            wed(10, 5),
            wed(11, 5),
            {"busy": (busy(1, wed(10), wed(11)),)},
            "bad_granularity",
            id="bad_granularity-before-conflict",
        ),
        pytest.param(
            wed(18, 45), wed(19, 0), {}, "too_short", id="too_short-before-outside_opening_hours"
        ),
        pytest.param(wed(7), wed(16), {}, "too_long", id="too_long-before-outside_opening_hours"),
        pytest.param(
            at(2026, 6, 13, 10),
            at(2026, 6, 13, 11),
            {"closures": (Interval(at(2026, 6, 13), at(2026, 6, 14)),)},
            "outside_opening_hours",
            id="outside_opening_hours-before-closed",
        ),
        pytest.param(
            wed(10),
            wed(11),
            {"closures": (Interval(wed(8), wed(19)),), "equipment_active": False},
            "closed",
            id="closed-before-equipment_unavailable",
        ),
        pytest.param(
            NOW + timedelta(days=63),
            NOW + timedelta(days=63, hours=1),
            {"is_member": False},
            "beyond_horizon",
            id="beyond_horizon-before-not_project_member",
        ),
        pytest.param(
            at(2026, 6, 1, 9, 30),
            at(2026, 6, 1, 10, 30),
            {"project_active": False},
            "too_late",
            id="too_late-before-project_inactive",
        ),
        pytest.param(
            wed(10),
            wed(11),
            {"project_active": False, "qualification_required": True, "qualified": False},
            "project_inactive",
            id="project_inactive-before-not_qualified",
        ),
        pytest.param(
            wed(9),
            wed(11),
            {
                "qualification_required": True,
                "qualified": False,
                "quota_used": {WEEK: 3},
                "policy": QUOTA_4,
            },
            "not_qualified",
            id="not_qualified-before-quota_exceeded",
        ),
        pytest.param(
            at(2026, 6, 30, 9),
            at(2026, 6, 30, 11),
            {"quota_used": {date(2026, 6, 29): 3}, "policy": {**TUE_MORNING, **QUOTA_4}},
            "teaching_window",
            id="teaching_window-before-quota_exceeded",
        ),
        pytest.param(
            wed(9),
            wed(11),
            {"quota_used": {WEEK: 3}, "policy": QUOTA_4, "busy": (busy(1, wed(9), wed(10)),)},
            "quota_exceeded",
            id="quota_exceeded-before-conflict",
        ),
    ],
)
def test_rule_order_first_violation(start, end, kw, expected):
    assert first_code(start, end, **kw) == expected


def test_every_broken_rule_is_listed_in_the_table_order():
    # Saturday 30 May 2026 10:05-10:20, in the past, on a closed, inactive equipment, by a
    # non-member without qualification, over another reservation.
    start, end = at(2026, 5, 30, 10, 5), at(2026, 5, 30, 10, 20)
    answer = verdict(
        start,
        end,
        closures=(Interval(start, end),),
        equipment_active=False,
        is_member=False,
        qualification_required=True,
        qualified=False,
        busy=(busy(1, start, end),),
    )
    codes = [v.code for v in answer.violations]
    assert codes == [
        "in_past",
        "bad_granularity",
        "too_short",
        "outside_opening_hours",
        "closed",
        "equipment_unavailable",
        "not_project_member",
        "not_qualified",
        "conflict",
    ]
    assert codes == sorted(codes, key=ORDER.index)


# --- daylight saving -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # Monday 29 March 2027, the day after the spring change: Paris is UTC+2.
        pytest.param(utc(2027, 3, 29, 6), utc(2027, 3, 29, 7), None, id="spring-0600Z-is-0800"),
        pytest.param(
            utc(2027, 3, 29, 5, 45),
            utc(2027, 3, 29, 7),
            "outside_opening_hours",
            id="spring-0545Z-is-0745",
        ),
        pytest.param(utc(2027, 3, 29, 16), utc(2027, 3, 29, 17), None, id="spring-1700Z-is-1900"),
        pytest.param(
            utc(2027, 3, 29, 16),
            utc(2027, 3, 29, 17, 15),
            "outside_opening_hours",
            id="spring-1715Z-is-1915",
        ),
        # Monday 26 October 2026, the day after the autumn change: Paris is UTC+1.
        pytest.param(utc(2026, 10, 26, 7), utc(2026, 10, 26, 8), None, id="autumn-0700Z-is-0800"),
        pytest.param(
            utc(2026, 10, 26, 6),
            utc(2026, 10, 26, 7),
            "outside_opening_hours",
            id="autumn-0600Z-is-0700",
        ),
        pytest.param(utc(2026, 10, 26, 17), utc(2026, 10, 26, 18), None, id="autumn-1800Z-is-1900"),
        pytest.param(
            utc(2026, 10, 26, 17),
            utc(2026, 10, 26, 18, 15),
            "outside_opening_hours",
            id="autumn-1815Z-is-1915",
        ),
    ],
)
def test_opening_hours_are_local_across_daylight_saving(start, end, expected):
    now = start - timedelta(days=7)
    assert first_code(start, end, now=now) == expected


SUNDAY_OPEN = {"opening_hours": {"sun": [["00:00", "24:00"]]}}
SPRING_SUNDAY = date(2027, 3, 28)  # 23 hours long in Paris
AUTUMN_SUNDAY = date(2026, 10, 25)  # 25 hours long in Paris


def whole_day(day: date, zone: ZoneInfo | None) -> tuple[datetime, datetime]:
    """Local midnight to local midnight, given in Paris time (zone None) or converted."""
    start = datetime(day.year, day.month, day.day, tzinfo=TZ)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=TZ)
    if zone is not None:
        start, end = start.astimezone(zone), end.astimezone(zone)
    return start, end


@pytest.mark.parametrize("zone", [pytest.param(None, id="paris"), pytest.param(UTC, id="utc")])
@pytest.mark.parametrize(
    ("day", "max_minutes", "expected"),
    [
        pytest.param(SPRING_SUNDAY, 23 * 60, None, id="spring-23h-fits-23h-max"),
        pytest.param(SPRING_SUNDAY, 23 * 60 - 15, "too_long", id="spring-23h-over-2245-max"),
        pytest.param(AUTUMN_SUNDAY, 25 * 60, None, id="autumn-25h-fits-25h-max"),
        pytest.param(AUTUMN_SUNDAY, 24 * 60, "too_long", id="autumn-25h-over-24h-max"),
    ],
)
def test_a_whole_local_day_lasts_its_real_length(day, max_minutes, expected, zone):
    start, end = whole_day(day, zone)
    policy = {**SUNDAY_OPEN, "max_duration_minutes": max_minutes}
    now = start - timedelta(days=7)
    assert first_code(start, end, policy=policy, now=now) == expected


@pytest.mark.parametrize("zone", [pytest.param(None, id="paris"), pytest.param(UTC, id="utc")])
@pytest.mark.parametrize(
    ("first_day", "days", "expected"),
    [
        pytest.param(SPRING_SUNDAY, 1, {date(2027, 3, 22): 23.0}, id="spring-sunday"),
        pytest.param(date(2027, 3, 22), 7, {date(2027, 3, 22): 167.0}, id="spring-week"),
        pytest.param(AUTUMN_SUNDAY, 1, {date(2026, 10, 19): 25.0}, id="autumn-sunday"),
        pytest.param(date(2026, 10, 19), 7, {date(2026, 10, 19): 169.0}, id="autumn-week"),
        pytest.param(
            date(2027, 3, 28),
            2,
            {date(2027, 3, 22): 23.0, date(2027, 3, 29): 24.0},
            id="spring-sunday-and-monday",
        ),
    ],
)
def test_week_hours_counts_real_hours_across_daylight_saving(first_day, days, expected, zone):
    start, _ = whole_day(first_day, zone)
    _, end = whole_day(first_day + timedelta(days=days - 1), zone)
    assert week_hours(start, end, TZ) == expected


def test_teaching_intervals_keep_local_time_across_the_autumn_change():
    policy = effective_policy(TUE_MORNING)
    intervals = teaching_intervals(
        policy, at(2026, 10, 19), at(2026, 11, 2), TZ, school_holidays=frozenset()
    )
    assert [(i.start.astimezone(UTC), i.end.astimezone(UTC)) for i in intervals] == [
        (utc(2026, 10, 20, 6), utc(2026, 10, 20, 10)),  # UTC+2: 08:00 local is 06:00Z
        (utc(2026, 10, 27, 7), utc(2026, 10, 27, 11)),  # UTC+1: 08:00 local is 07:00Z
    ]


def test_teaching_intervals_skip_school_holidays_and_unrelated_days():
    policy = effective_policy(TUE_MORNING)
    holidays = frozenset({date(2026, 10, 20)})
    intervals = teaching_intervals(policy, at(2026, 10, 19), at(2026, 11, 2), TZ, holidays)
    assert [(i.start.astimezone(UTC), i.end.astimezone(UTC)) for i in intervals] == [
        (utc(2026, 10, 27, 7), utc(2026, 10, 27, 11)),
    ]
    # A request that misses the windows gets none.
    assert teaching_intervals(policy, at(2026, 10, 21, 8), at(2026, 10, 21, 12), TZ, holidays) == []


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(
            utc(2026, 10, 27, 10), utc(2026, 10, 27, 11), "teaching_window", id="1000Z-is-1100"
        ),
        pytest.param(utc(2026, 10, 27, 11), utc(2026, 10, 27, 12), None, id="1100Z-is-1200"),
        pytest.param(
            utc(2026, 10, 20, 9), utc(2026, 10, 20, 10), "teaching_window", id="0900Z-is-1100-cest"
        ),
        pytest.param(utc(2026, 10, 20, 10), utc(2026, 10, 20, 11), None, id="1000Z-is-1200-cest"),
    ],
)
def test_teaching_window_in_utc_around_the_autumn_change(start, end, expected):
    now = at(2026, 10, 1, 9)
    assert first_code(start, end, now=now, policy=TUE_MORNING) == expected


@pytest.mark.parametrize(
    ("codes", "override", "remaining", "lifted"),
    [
        (["too_late", "conflict"], False, ["too_late", "conflict"], []),
        (["too_late", "conflict"], True, ["conflict"], ["too_late"]),
        (["in_past", "not_qualified"], True, ["in_past"], ["not_qualified"]),
        (["invalid"], True, ["invalid"], []),
        ([], True, [], []),
    ],
)
def test_apply_override_lifts_only_overridable_rules(codes, override, remaining, lifted):
    from reservations.rules import Violation, apply_override

    left, overridden = apply_override([Violation(c, c) for c in codes], override)
    assert [v.code for v in left] == remaining
    assert overridden == lifted


def test_preemption_notice_counts_local_days_across_spring():
    """Tuesday 17 March 09:00 + 14 local days = Tuesday 31 March 09:00 (clocks went forward
    on the 29th): a research booking starting then is exactly at the notice, displaced."""
    # `now` as the services get it (timezone.now() is UTC): days are still local days.
    now = at(2026, 3, 17, 9).astimezone(UTC)
    start = at(2026, 3, 31, 9)
    research = busy(7, start, start + timedelta(hours=1))
    answer = verdict(start, start + timedelta(hours=1), kind=PEDAGOGICAL, now=now, busy=(research,))
    assert answer.first is None
    assert list(answer.displace) == [7]
