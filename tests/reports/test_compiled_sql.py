"""Report SQL compiled once per shape (reports.services.compiled): later requests get the
text and parameters a fresh build would give them, and the same answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.roles import SYSTEM
from equipment.services import equipment_update
from reports.services import Filters, Scope, aggregation, compiled, detail, usage_report
from reports.services.reservation_sql import EquipmentFacts

from .conftest import END, EVERYTHING, NOW, PARIS, START, at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def empty_cache():
    compiled.clear()
    yield
    compiled.clear()


def exact(compiled_query):
    """SQL and parameters, instants with their offset (aware datetimes of one zone compare
    equal across a fold)."""
    sql, params = compiled_query
    return sql, [(p.isoformat(), p.tzinfo) if isinstance(p, datetime) else p for p in params]


def fresh(shape, build, *, start, end, now):
    sql, params = build(start, end, now)
    return sql, tuple(params)


# Windows in winter, in summer and across both daylight-saving changes; readers' clocks
# in UTC (timezone.now()) and in local time.
INSTANTS = [
    (START, END, NOW),
    (at("2026-01-01", "00:00"), at("2026-02-01", "00:00"), datetime(2026, 2, 3, 7, 5, 1, 17, UTC)),
    (at("2026-03-29", "00:00"), at("2026-03-30", "00:00"), at("2026-03-29", "02:30")),
    (
        at("2026-10-24", "22:15"),
        at("2026-10-25", "05:45"),
        datetime(2026, 10, 25, 1, 30, tzinfo=UTC),
    ),
    # The second 02:30 of the autumn change (fold 1), as start, end and now.
    (
        datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1),
        at("2026-10-26", "00:00"),
        at("2026-10-26", "00:00"),
    ),
    (
        at("2026-10-25", "00:00"),
        datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1),
        datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1),
    ),
    (START, START + timedelta(microseconds=1), START),
]


def scopes(campus):
    return [
        EVERYTHING,
        Scope(partner_ids=frozenset({campus.orleans.pk})),
        Scope(equipment_ids=frozenset({campus.hplc.pk}), partner_ids=frozenset({campus.lycee.pk})),
    ]


def filter_sets(campus):
    return [
        Filters(),
        Filters(partner=(campus.servier.pk, campus.orleans.pk)),
        Filters(equipment=(campus.rheometer.pk,), project_kind=("research", "pedagogical")),
    ]


@pytest.fixture
def grace(scenario):
    # A second per-equipment setting: the grace gives `now - grace` parameters per group.
    equipment_update(
        actor=SYSTEM,
        equipment=scenario.campus.rheometer,
        policy={"check_in_grace_minutes": 45},
    )
    return scenario


@pytest.mark.parametrize(
    "group_by", [["partner"], ["equipment", "month"], ["month", "user"], ["project_kind"]]
)
def test_aggregate_sql_matches_a_fresh_build(grace, monkeypatch, group_by):
    campus = grace.campus
    facts = EquipmentFacts.load()
    for scope in scopes(campus):
        for filters in filter_sets(campus):
            for start, end, now in INSTANTS:
                window = {"start": start, "end": end, "now": now}
                args = {"scope": scope, "filters": filters, "facts": facts, **window}
                cached = aggregation.aggregate_sql(group_by, **args)
                with monkeypatch.context() as m:
                    m.setattr(aggregation, "compiled_sql", fresh)
                    assert exact(cached) == exact(aggregation.aggregate_sql(group_by, **args))
    # One build per shape: 3 scopes × 3 filter sets.
    assert len(compiled._cache) == 9


def test_detail_sql_matches_a_fresh_build(grace, monkeypatch):
    campus = grace.campus
    for scope in scopes(campus):
        for filters in filter_sets(campus):
            for start, end, now in INSTANTS:
                args = {"start": start, "end": end, "now": now, "scope": scope, "filters": filters}
                cached = detail.reservation_rows_sql(**args)
                with monkeypatch.context() as m:
                    m.setattr(detail, "compiled_sql", fresh)
                    assert exact(cached) == exact(detail.reservation_rows_sql(**args))
    assert len(compiled._cache) == 9


def test_an_empty_window_is_built_as_it_is(grace, monkeypatch):
    args = {"start": END, "end": START, "now": NOW, "scope": EVERYTHING, "filters": None}
    cached = detail.reservation_rows_sql(**args)
    monkeypatch.setattr(detail, "compiled_sql", fresh)
    assert exact(cached) == exact(detail.reservation_rows_sql(**args))
    assert not compiled._cache


def test_reports_from_the_cache_give_the_same_answers(grace, monkeypatch):
    def run(**window):
        return usage_report(group_by=["partner", "month"], scope=EVERYTHING, **window).as_dict()

    windows = [
        {"start": START, "end": END, "now": NOW},
        {"start": at("2026-06-01", "00:00"), "end": at("2026-07-01", "00:00"), "now": NOW},
        {"start": START, "end": END, "now": at("2026-06-11", "09:20")},  # F within its grace
    ]
    cached = [run(**w) for w in windows]
    monkeypatch.setattr(aggregation, "compiled_sql", fresh)
    assert cached == [run(**w) for w in windows]


def test_a_changed_policy_is_a_new_shape(grace):
    campus = grace.campus

    def late_cancellations():
        return usage_report(
            start=START, end=END, group_by=["equipment"], scope=EVERYTHING, now=NOW
        ).totals["late_cancellations"]

    assert late_cancellations() == 1  # G, 28 h before, within the HPLC's 48 h
    equipment_update(actor=SYSTEM, equipment=campus.hplc, policy={"late_cancellation_hours": 24})
    assert late_cancellations() == 0


def test_instants_of_the_markers_only_are_replaced():
    derivation = compiled._derivation
    assert derivation(datetime(1500, 1, 1, tzinfo=UTC) - timedelta(minutes=15)) == (
        "now",
        timedelta(minutes=-15),
    )
    assert derivation("1100-01-01 00:00:00") == ("start", timedelta(0))
    assert derivation("1300-01-01 00:00:00.000001") == ("end", timedelta(microseconds=1))
    assert derivation(datetime(2026, 1, 1, tzinfo=PARIS)) is None
    assert derivation("2026-01-01 00:00:00") is None
    assert derivation("confirmed") is None
    assert derivation("1100-01-01 is not an instant") is None
    assert derivation(1100) is None
