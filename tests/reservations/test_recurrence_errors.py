"""The RRULE subset of SPEC §3 (reservations.recurrence.expand): what it refuses, and why.

Every refusal is a RecurrenceError whose message names the problem (checked in English:
the message is what the booking form shows next to the rule). Then the limits that
are accepted, and occurrences that keep their local time across daylight-saving changes.
No database.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from reservations.recurrence import MAX_OCCURRENCES, RecurrenceError, expand

TZ = ZoneInfo("Europe/Paris")
UTC = ZoneInfo("UTC")
# Tuesday 16 March 2027, 09:00-11:00 in Paris: the first occurrence of most rules here.
START = datetime(2027, 3, 16, 9, 0, tzinfo=TZ)
END = datetime(2027, 3, 16, 11, 0, tzinfo=TZ)


def refused(rule: str, start: datetime = START, end: datetime = END) -> str:
    """The (English) message of the RecurrenceError that `rule` raises."""
    with translation.override("en"), pytest.raises(RecurrenceError) as caught:
        expand(rule, start, end, TZ)
    return str(caught.value)


def local(occurrences):
    return [(s.astimezone(TZ), e.astimezone(TZ)) for s, e in occurrences]


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MONTHLY;COUNT=3",
        "FREQ=YEARLY;COUNT=3",
        "FREQ=HOURLY;COUNT=3",
        "FREQ=MINUTELY;COUNT=3",
        "FREQ=SECONDLY;COUNT=3",
        "FREQ=FORTNIGHTLY;COUNT=3",
        "COUNT=3",
        "INTERVAL=2;COUNT=3",
    ],
)
def test_freq_other_than_daily_or_weekly_is_refused(rule):
    assert "FREQ must be DAILY or WEEKLY" in refused(rule)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=WEEKLY;INTERVAL=0;COUNT=3", "INTERVAL must be between 1 and 52"),
        ("FREQ=WEEKLY;INTERVAL=-1;COUNT=3", "INTERVAL must be between 1 and 52"),
        ("FREQ=WEEKLY;INTERVAL=53;COUNT=3", "INTERVAL must be between 1 and 52"),
        ("FREQ=DAILY;INTERVAL=1000;COUNT=3", "INTERVAL must be between 1 and 52"),
        ("FREQ=WEEKLY;INTERVAL=two;COUNT=3", "INTERVAL and COUNT must be whole numbers"),
        ("FREQ=WEEKLY;INTERVAL=1.5;COUNT=3", "INTERVAL and COUNT must be whole numbers"),
        ("FREQ=WEEKLY;INTERVAL=;COUNT=3", "Malformed RRULE part"),
    ],
)
def test_bad_interval_is_refused(rule, message):
    assert message in refused(rule)


@pytest.mark.parametrize(
    "byday",
    ["XX", "MO,XX", "MONDAY", "1MO", "-1FR", "MO;TU", "MO,,TU", "MO, TU", "LU"],
)
def test_bad_byday_is_refused(byday):
    message = refused(f"FREQ=WEEKLY;BYDAY={byday};COUNT=3")
    # "MO;TU" splits into a part "TU" without "=".
    assert "BYDAY takes MO, TU, WE, TH, FR, SA, SU" in message or "Malformed RRULE part" in message


def test_empty_byday_is_refused():
    assert "Malformed RRULE part: BYDAY=" in refused("FREQ=WEEKLY;BYDAY=;COUNT=3")


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;COUNT=3;UNTIL=20270601",
        "FREQ=DAILY;UNTIL=20270601T000000Z;COUNT=1",
        "FREQ=WEEKLY",
        "FREQ=DAILY;INTERVAL=2",
        "FREQ=WEEKLY;BYDAY=TU",
    ],
    ids=["count-and-until", "until-and-count", "weekly-neither", "daily-neither", "byday-neither"],
)
def test_count_and_until_exactly_one_of_them(rule):
    assert "Give either UNTIL or COUNT" in refused(rule)


@pytest.mark.parametrize(
    "rule",
    [
        f"FREQ=DAILY;COUNT={MAX_OCCURRENCES + 1}",
        "FREQ=DAILY;COUNT=10000",
        "FREQ=DAILY;COUNT=0",
        "FREQ=DAILY;COUNT=-3",
        # 16 March 2027 + 200 days is 2 October: one more occurrence than allowed.
        "FREQ=DAILY;UNTIL=20271002",
        "FREQ=DAILY;UNTIL=20991231",
        "FREQ=WEEKLY;UNTIL=20310601T000000Z",
        "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR;UNTIL=20280601",
    ],
)
def test_more_than_200_occurrences_is_refused(rule):
    assert f"at most {MAX_OCCURRENCES} occurrences" in refused(rule)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("", "FREQ must be DAILY or WEEKLY"),
        ("   ", "FREQ must be DAILY or WEEKLY"),
        (";;;", "FREQ must be DAILY or WEEKLY"),
        ("RRULE:", "FREQ must be DAILY or WEEKLY"),
        ("every tuesday", "Malformed RRULE part: every tuesday"),
        ("FREQ", "Malformed RRULE part: FREQ"),
        ("FREQ=", "Malformed RRULE part: FREQ="),
        ("=WEEKLY", "Unsupported RRULE parts"),
        ("FREQ=WEEKLY;COUNT=3;BYMONTH=4", "Unsupported RRULE parts: BYMONTH"),
        ("FREQ=WEEKLY;COUNT=3;WKST=MO;BYSETPOS=1", "Unsupported RRULE parts: BYSETPOS, WKST"),
        ("DTSTART:20270316T090000\nRRULE:FREQ=WEEKLY;COUNT=3", "Unsupported RRULE parts"),
        ("FREQ=WEEKLY;FREQ=DAILY;COUNT=3", "RRULE part given twice: FREQ"),
        ("FREQ=WEEKLY;COUNT=3;count=4", "RRULE part given twice: COUNT"),
        ("FREQ=WEEKLY;COUNT=three", "INTERVAL and COUNT must be whole numbers"),
        ("FREQ=WEEKLY;UNTIL=tomorrow", "UNTIL must be a date"),
        ("FREQ=WEEKLY;UNTIL=20271345", "UNTIL must be a date"),
        ("FREQ=WEEKLY;UNTIL=2027-06-01", "UNTIL must be a date"),
        ("FREQ=WEEKLY;UNTIL=20270601T25", "UNTIL must be a date"),
        ("FREQ=WEEKLY;UNTIL=20270315", "UNTIL is before the first occurrence"),
        ("FREQ=WEEKLY;UNTIL=20270316T075959Z", "UNTIL is before the first occurrence"),
    ],
)
def test_garbage_is_refused_with_a_message_naming_the_problem(rule, message):
    assert message in refused(rule)


def test_a_rule_that_gives_no_occurrence_is_refused():
    # UNTIL the first instant, but BYDAY excludes its day and the next Monday is later.
    message = refused("FREQ=WEEKLY;BYDAY=MO;UNTIL=20270316T120000")
    assert "The rule gives no occurrence" in message


def test_recurrence_error_is_a_value_error_with_a_translated_message():
    assert issubclass(RecurrenceError, ValueError)
    with translation.override("en"), pytest.raises(RecurrenceError) as english:
        expand("FREQ=MONTHLY;COUNT=3", START, END, TZ)
    with translation.override("fr"), pytest.raises(RecurrenceError) as french:
        expand("FREQ=MONTHLY;COUNT=3", START, END, TZ)
    assert str(english.value) != str(french.value)
    assert "FREQ" in str(french.value)


# --- what is accepted at the limits ---------------------------------------------------------


def test_exactly_200_occurrences_by_count_or_until():
    by_count = expand(f"FREQ=DAILY;COUNT={MAX_OCCURRENCES}", START, END, TZ)
    assert len(by_count) == MAX_OCCURRENCES
    # The 200th day after 16 March 2027 (day 1) is 1 October.
    by_until = expand("FREQ=DAILY;UNTIL=20271001", START, END, TZ)
    assert by_until == by_count
    assert by_until[-1][0].astimezone(TZ).date() == date(2027, 10, 1)


@pytest.mark.parametrize("interval", [1, 52])
def test_interval_bounds_are_accepted(interval):
    occurrences = expand(f"FREQ=WEEKLY;INTERVAL={interval};COUNT=2", START, END, TZ)
    assert occurrences[1][0].astimezone(TZ).date() == date(2027, 3, 16) + timedelta(weeks=interval)


def test_prefix_case_and_spaces_are_tolerated():
    expected = expand("FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4", START, END, TZ)
    for rule in (
        "RRULE:FREQ=WEEKLY;BYDAY=TU,TH;COUNT=4",
        "rrule:freq=weekly;byday=tu,th;count=4",
        " FREQ = WEEKLY ; BYDAY = TU,TH ; COUNT = 4 ;",
    ):
        assert expand(rule, START, END, TZ) == expected, rule
    assert [s.astimezone(TZ).date() for s, _e in expected] == [
        date(2027, 3, 16),
        date(2027, 3, 18),
        date(2027, 3, 23),
        date(2027, 3, 25),
    ]


def test_until_forms_date_utc_and_floating_local():
    # A date includes the whole local day; a UTC time is read in Paris; a floating time
    # is local. UNTIL equal to an occurrence's start includes it.
    def days(rule: str) -> list[date]:
        return [s.astimezone(TZ).date() for s, _e in expand(rule, START, END, TZ)]

    three = [date(2027, 3, 16), date(2027, 3, 23), date(2027, 3, 30)]
    assert days("FREQ=WEEKLY;UNTIL=20270330") == three
    # 07:00 UTC on 30 March is 09:00 in Paris (summer time since the 28th).
    assert days("FREQ=WEEKLY;UNTIL=20270330T070000Z") == three
    assert days("FREQ=WEEKLY;UNTIL=20270330T065959Z") == three[:2]
    assert days("FREQ=WEEKLY;UNTIL=20270330T090000") == three
    assert days("FREQ=WEEKLY;UNTIL=20270330T085959") == three[:2]


# --- daylight saving ------------------------------------------------------------------------


def test_weekly_09_00_stays_09_00_local_across_the_spring_change():
    # Clocks go forward on Sunday 28 March 2027: Tuesdays before are UTC+1, after UTC+2.
    occurrences = expand("FREQ=WEEKLY;BYDAY=TU;COUNT=4", START, END, TZ)
    assert [(s.hour, s.minute, e.hour, e.minute) for s, e in local(occurrences)] == [
        (9, 0, 11, 0)
    ] * 4
    assert [s.astimezone(TZ).date() for s, _e in occurrences] == [
        date(2027, 3, 16),
        date(2027, 3, 23),
        date(2027, 3, 30),
        date(2027, 4, 6),
    ]
    # As instants: 08:00 UTC before the change, 07:00 UTC after it.
    assert [s.astimezone(UTC).hour for s, _e in occurrences] == [8, 8, 7, 7]
    # The week across the change is one hour shorter in real time, never in local time.
    assert occurrences[2][0] - occurrences[1][0] == timedelta(weeks=1, hours=-1)
    for start, end in occurrences:
        assert end - start == timedelta(hours=2)


def test_daily_09_00_keeps_its_local_time_on_the_change_day_and_in_autumn():
    first = datetime(2027, 3, 27, 9, 0, tzinfo=TZ)
    occurrences = expand("FREQ=DAILY;COUNT=3", first, first + timedelta(hours=1), TZ)
    assert [s.astimezone(TZ).hour for s, _e in occurrences] == [9, 9, 9]
    assert [s.astimezone(UTC).hour for s, _e in occurrences] == [8, 7, 7]
    # Back on Sunday 31 October 2027.
    autumn = datetime(2027, 10, 26, 9, 0, tzinfo=TZ)
    weekly = expand("FREQ=WEEKLY;COUNT=2", autumn, autumn + timedelta(hours=2), TZ)
    assert [s.astimezone(TZ).hour for s, _e in weekly] == [9, 9]
    assert [s.astimezone(UTC).hour for s, _e in weekly] == [7, 8]
    assert weekly[1][0] - weekly[0][0] == timedelta(weeks=1, hours=1)


def test_the_first_occurrence_given_in_utc_is_expanded_in_local_time():
    # The same first occurrence given as UTC instants: the series still follows Paris.
    occurrences = expand("FREQ=WEEKLY;COUNT=3", START.astimezone(UTC), END.astimezone(UTC), TZ)
    assert occurrences == expand("FREQ=WEEKLY;COUNT=3", START, END, TZ)
    assert [s.astimezone(TZ).hour for s, _e in occurrences] == [9, 9, 9]


def test_no_occurrence_is_empty_across_the_spring_gap():
    first = datetime(2027, 3, 27, 2, 30, tzinfo=TZ)
    occurrences = expand("FREQ=DAILY;COUNT=3", first, first + timedelta(hours=1), TZ)
    assert len(occurrences) == 3
    for start, end in occurrences:
        assert end - start == timedelta(hours=1), (start.astimezone(TZ), end.astimezone(TZ))
    # The one in the gap moves forward with the clocks, whole.
    gap_start, gap_end = occurrences[1]
    assert (
        gap_start.astimezone(TZ).strftime("%H:%M"),
        gap_end.astimezone(TZ).strftime("%H:%M"),
    ) == (
        "03:30",
        "04:30",
    )
