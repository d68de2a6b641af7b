"""Local time: reading wall-clock times in Europe/Paris, across the daylight-saving changes."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from core.timezones import FIRST_YEAR, LAST_YEAR, TimeError, make_aware, parse_local

TZ = ZoneInfo("Europe/Paris")


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, **kw: int) -> datetime:
    """A local Paris time (aware)."""
    return datetime(year, month, day, hour, minute, tzinfo=TZ, **kw)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


# --- make_aware: local times without offset ------------------------------------------


@pytest.mark.parametrize(
    ("naive", "expected_utc"),
    [
        pytest.param(datetime(2026, 6, 10, 10, 0), utc(2026, 6, 10, 8), id="summer-utc+2"),
        pytest.param(datetime(2026, 12, 10, 10, 0), utc(2026, 12, 10, 9), id="winter-utc+1"),
        pytest.param(datetime(2027, 3, 28, 1, 59), utc(2027, 3, 28, 0, 59), id="just-before-gap"),
        pytest.param(datetime(2027, 3, 28, 3, 0), utc(2027, 3, 28, 1), id="just-after-gap"),
        pytest.param(datetime(2026, 10, 25, 1, 59), utc(2026, 10, 24, 23, 59), id="before-fold"),
        pytest.param(datetime(2026, 10, 25, 3, 0), utc(2026, 10, 25, 2), id="after-fold"),
    ],
)
def test_make_aware_reads_a_naive_time_in_paris(naive, expected_utc):
    aware = make_aware(naive, TZ)
    assert aware.tzinfo is TZ
    assert aware.replace(tzinfo=None) == naive
    assert aware.astimezone(UTC) == expected_utc


@pytest.mark.parametrize(
    "naive",
    [
        pytest.param(datetime(2027, 3, 28, 2, 30), id="spring-gap-does-not-exist"),
        pytest.param(datetime(2027, 3, 28, 2, 0), id="spring-gap-start"),
        pytest.param(datetime(2027, 3, 28, 2, 45), id="spring-gap-end"),
        pytest.param(datetime(2026, 10, 25, 2, 30), id="autumn-fold-happens-twice"),
        pytest.param(datetime(2026, 10, 25, 2, 0), id="autumn-fold-start"),
        pytest.param(datetime(2026, 10, 25, 2, 45), id="autumn-fold-end"),
    ],
)
def test_make_aware_refuses_a_time_that_does_not_exist_or_happens_twice(naive):
    with pytest.raises(TimeError) as caught:
        make_aware(naive, TZ)
    assert caught.value.code == "ambiguous_time"
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("naive", "words"),
    [
        pytest.param(datetime(2027, 3, 28, 2, 30), "does not exist", id="spring-gap"),
        pytest.param(datetime(2026, 10, 25, 2, 30), "happens twice", id="autumn-fold"),
    ],
)
def test_make_aware_explains_which_daylight_saving_problem(naive, words):
    # Both cases share the code, so only the (English, untranslated) message tells them apart.
    with translation.override("en"), pytest.raises(TimeError) as caught:
        make_aware(naive, TZ)
    assert words in caught.value.message


@pytest.mark.parametrize(
    "aware",
    [
        pytest.param(utc(2026, 6, 10, 8), id="utc"),
        pytest.param(at(2026, 6, 10, 10), id="paris"),
        pytest.param(datetime(2026, 10, 25, 2, 30, tzinfo=TZ, fold=1), id="paris-second-0230"),
        pytest.param(
            datetime(2027, 3, 28, 2, 30, tzinfo=ZoneInfo("America/New_York")), id="other-zone"
        ),
    ],
)
def test_make_aware_passes_an_aware_time_through_unchanged(aware):
    result = make_aware(aware, TZ)
    assert result is aware


# --- parse_local: the one reader of typed instants ------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected_utc"),
    [
        pytest.param("2026-06-10T10:00", utc(2026, 6, 10, 8), id="naive-summer"),
        pytest.param("2026-12-10T10:00:00", utc(2026, 12, 10, 9), id="naive-winter"),
        pytest.param("2026-06-10T10:00:00+00:00", utc(2026, 6, 10, 10), id="with-offset"),
        pytest.param("2026-06-10T10:00:00Z", utc(2026, 6, 10, 10), id="zulu"),
    ],
)
def test_parse_local_reads_iso_instants_in_paris(text, expected_utc):
    assert parse_local(text).astimezone(UTC) == expected_utc


@pytest.mark.parametrize(
    ("text", "code", "unreadable"),
    [
        pytest.param("tomorrow", "invalid", True, id="words"),
        pytest.param("2026-02-30T10:00", "invalid", True, id="february-30th"),
        pytest.param(None, "invalid", True, id="not-text"),
        pytest.param(f"{FIRST_YEAR - 1}-06-01T10:00", "invalid", False, id="year-too-early"),
        pytest.param(f"{LAST_YEAR + 1}-06-01T10:00", "invalid", False, id="year-too-late"),
        pytest.param("0001-01-01T00:30", "invalid", False, id="would-overflow"),
        pytest.param("2027-03-28T02:30", "ambiguous_time", False, id="spring-gap"),
        pytest.param("2026-10-25T02:30", "ambiguous_time", False, id="autumn-fold"),
    ],
)
def test_parse_local_refuses_with_a_code(text, code, unreadable):
    with pytest.raises(TimeError) as caught:
        parse_local(text)
    assert (caught.value.code, caught.value.unreadable) == (code, unreadable)


def test_parse_local_accepts_an_autumn_fold_time_with_its_offset():
    second = parse_local("2026-10-25T02:30:00+01:00")
    assert second.astimezone(UTC) == utc(2026, 10, 25, 1, 30)
