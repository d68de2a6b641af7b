"""Every figure of SPEC §5 on known reservations, computed by the database (SQLite and
PostgreSQL give the same): clipping at both window edges, daylight saving, no-shows
recorded and implied, late and early cancellations, displacement, short check-ins,
amounts at the three rates, utilisation against opening hours and closures."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.errors import DomainError
from core.roles import SYSTEM
from equipment.services import equipment_update
from reports.services import Filters, report_scope, usage_report
from reservations.models import Closure
from reservations.services import release_no_shows

from .conftest import (
    END,
    EVERYTHING,
    LYCEE,
    NOW,
    ORLEANS,
    PARIS,
    SERVIER,
    START,
    TOTALS,
    at,
    figures,
    reserve,
)

pytestmark = pytest.mark.django_db


def report(group_by, *, start=START, end=END, now=NOW, scope=EVERYTHING, **filters):
    return usage_report(
        start=start, end=end, group_by=group_by, scope=scope, now=now, filters=Filters(**filters)
    )


def by_name(rows, dimension="partner"):
    return {
        row[dimension]["name"]: {k: v for k, v in row.items() if k != dimension} for row in rows
    }


def test_per_partner_every_figure(scenario):
    result = report(["partner"])
    c = scenario.campus
    assert [row["partner"] for row in result.rows] == [
        {"id": c.lycee.pk, "name": "Lycée Jean Zay"},
        {"id": c.servier.pk, "name": "Servier"},
        {"id": c.orleans.pk, "name": "Université d'Orléans"},
    ]
    assert by_name(result.rows) == {
        "Lycée Jean Zay": LYCEE,
        "Servier": SERVIER,
        "Université d'Orléans": ORLEANS,
    }
    assert result.totals == TOTALS


def test_per_partner_and_month_uses_local_months_of_the_clipped_start(scenario):
    result = report(["partner", "month"])
    rows = [(row["partner"]["name"], row["month"]) for row in result.rows]
    # A starts on 28 February but counts from the window's start: 1 March local, which is
    # still 28 February in UTC. B starts on 31 October 23:00 local.
    assert rows == [
        ("Lycée Jean Zay", "2026-06"),
        ("Lycée Jean Zay", "2026-10"),
        ("Servier", "2026-06"),
        ("Université d'Orléans", "2026-03"),
        ("Université d'Orléans", "2026-06"),
        ("Université d'Orléans", "2026-10"),
    ]
    figures_of = {
        key: {k: v for k, v in r.items() if k not in ("partner", "month")}
        for key, r in zip(rows, result.rows, strict=True)
    }
    assert figures_of[("Université d'Orléans", "2026-03")] == figures(
        2, "4.00", "2.00", "4.00", 1, 0, 0, 0, 1, "40.00"
    )
    assert figures_of[("Université d'Orléans", "2026-06")] == figures(
        2, "4.00", "2.00", "4.00", 1, 2, 1, 1, 2, "120.00"
    )
    assert figures_of[("Université d'Orléans", "2026-10")] == figures(
        1, "4.00", "4.00", "4.00", 0, 0, 0, 0, 1, "40.00"
    )
    assert figures_of[("Lycée Jean Zay", "2026-06")] == figures(
        2, "2.00", "2.00", "2.00", 0, 0, 0, 0, 1, "4.00"
    )
    assert figures_of[("Lycée Jean Zay", "2026-10")] == figures(
        1, "1.00", "1.00", "1.00", 0, 0, 0, 0, 1, "2.00"
    )
    assert result.totals == TOTALS


def test_clipping_at_both_edges_and_daylight_saving(scenario):
    c = scenario.campus
    # Only the rheometer's completed and no-show research and teaching hours: A (2 of 4 h),
    # B (1 of 2 h), C (4 real hours for 3 on the clock), D (2 real hours for 3).
    result = report(["project"], equipment=(c.rheometer.pk,))
    rows = {row["project"]["name"]: row for row in result.rows}
    assert rows["Thèse émulsions"]["booked_hours"] == Decimal("6.00")  # A + C
    assert rows["Projet ouvert"]["booked_hours"] == Decimal("2.00")  # D
    assert rows["Projet ouvert"]["billable_hours"] == Decimal("2.00")
    assert rows["TP formulation"]["booked_hours"] == Decimal("3.00")  # B + J
    # A window that ends inside C: 01:00 CEST to 02:30 CET is 2.5 real hours.
    inside = report(
        ["equipment"],
        start=at("2026-10-25", "00:00"),
        end=datetime(2026, 10, 25, 2, 30, tzinfo=PARIS, fold=1),
        equipment=(c.rheometer.pk,),
    )
    assert inside.rows[0]["booked_hours"] == Decimal("2.50")


def test_per_project_kind(scenario):
    result = report(["project_kind"])
    assert [row["project_kind"] for row in result.rows] == [
        "pedagogical",
        "research",
        "industrial",
    ]
    assert result.rows[0] == {"project_kind": "pedagogical", **LYCEE}
    assert result.rows[1] == {"project_kind": "research", **ORLEANS}
    assert result.rows[2] == {"project_kind": "industrial", **SERVIER}


def test_per_user_counts_the_booker(scenario):
    result = report(["user"])
    names = {row["user"]["name"]: row for row in result.rows}
    assert set(names) == {"chercheur", "enseignant", "industriel", "Inès Martin"}
    assert names["Inès Martin"]["reservations"] == 1
    assert names["Inès Martin"]["used_hours"] == Decimal("2.00")
    assert names["chercheur"]["reservations"] == 4  # A, C, D, F
    assert names["chercheur"]["cancellations"] == 2


def test_check_in_shorter_than_the_booking_and_open_check_in(scenario):
    c = scenario.campus
    result = report(["project"], equipment=(c.hplc.pk,))
    rows = {row["project"]["name"]: row for row in result.rows}
    industrial = rows["Servier – validation HPLC"]
    assert (industrial["booked_hours"], industrial["used_hours"]) == (
        Decimal("3.00"),
        Decimal("1.75"),
    )
    assert industrial["amount"] == Decimal("210.00")  # 1.75 h × 120 €
    research = rows["Thèse émulsions"]
    # F (implied no-show, 2 h) and M (checked in, never out: used until its end).
    assert research["used_hours"] == Decimal("2.00")
    assert research["billable_hours"] == Decimal("4.00")
    assert research["no_shows"] == 1
    assert research["amount"] == Decimal("120.00")  # 4 h × 30 €
    teaching = rows["TP formulation"]  # K is pending: counted, not booked
    assert (teaching["reservations"], teaching["booked_hours"]) == (1, Decimal("0.00"))


def test_implied_no_show_follows_the_grace_and_matches_the_command(rates):
    c = rates
    start = at("2026-06-11", "09:00")
    booking = reserve(
        equipment=c.hplc,
        project=c.research,
        user=c.researcher,
        start=start,
        end=start + timedelta(hours=2),
        status="confirmed",
    )
    window = {"start": at("2026-06-11", "00:00"), "end": at("2026-06-12", "00:00")}
    before = report(["partner"], now=start + timedelta(minutes=29), **window).totals
    assert (before["no_shows"], before["booked_hours"], before["billable_hours"]) == (
        0,
        Decimal("2.00"),
        Decimal("0.00"),
    )
    after = report(["partner"], now=start + timedelta(minutes=30), **window).totals
    assert (after["no_shows"], after["billable_hours"], after["amount"]) == (
        1,
        Decimal("2.00"),
        Decimal("60.00"),
    )
    # The command records what the report already said.
    assert release_no_shows(now=start + timedelta(minutes=31))["no_show"] == 1
    booking.refresh_from_db()
    assert booking.status == "no_show"
    assert report(["partner"], now=start + timedelta(minutes=31), **window).totals == after
    # A longer grace on the equipment delays it.
    equipment_update(actor=SYSTEM, equipment=c.hplc, policy={"check_in_grace_minutes": 60})
    booking.status = "confirmed"
    booking.save()
    later = report(["partner"], now=start + timedelta(minutes=45), **window).totals
    assert later["no_shows"] == 0


def test_implied_completion_needs_a_check_in_like_the_command(rates):
    """Ended but within a grace longer than the booking: neither no-show nor completed."""
    from reports.services import reservation_rows

    c = rates
    equipment_update(actor=SYSTEM, equipment=c.hplc, policy={"check_in_grace_minutes": 60})
    start = at("2026-06-11", "09:00")
    booking = reserve(
        equipment=c.hplc,
        project=c.research,
        user=c.researcher,
        start=start,
        end=start + timedelta(minutes=30),
        status="confirmed",
    )
    now = start + timedelta(minutes=45)
    window = {"start": at("2026-06-11", "00:00"), "end": at("2026-06-12", "00:00")}
    ((_pk, _s, _e, status, *_rest),) = reservation_rows(scope=EVERYTHING, now=now, **window)
    assert status == "confirmed"
    assert release_no_shows(now=now) == {"no_show": 0, "completed": 0}
    booking.refresh_from_db()
    assert booking.status == status


def test_late_cancellation_threshold_per_equipment(rates):
    c = rates
    start = at("2026-06-12", "14:00")

    def cancel(equipment, hours_before):
        return reserve(
            equipment=equipment,
            project=c.research,
            user=c.researcher,
            start=start,
            end=start + timedelta(hours=1),
            status="cancelled",
            changed=start - timedelta(hours=hours_before),
        )

    cancel(c.hplc, 48)  # exactly the threshold: not late
    cancel(c.hplc, 47.5)  # late
    cancel(c.rheometer, 24)  # exactly: not late
    cancel(c.rheometer, 23)  # late
    cancel(c.rheometer, -1)  # after the start: late
    result = report(["equipment"], start=at("2026-06-12", "00:00"), end=at("2026-06-13", "00:00"))
    rows = {row["equipment"]["code"]: row for row in result.rows}
    assert (rows["WL-HPLC-01"]["cancellations"], rows["WL-HPLC-01"]["late_cancellations"]) == (
        2,
        1,
    )
    assert (rows["TO-RHEO-01"]["cancellations"], rows["TO-RHEO-01"]["late_cancellations"]) == (
        3,
        2,
    )
    assert result.totals["reservations"] == 0
    assert result.totals["booked_hours"] == Decimal("0.00")


def test_utilisation_against_opening_hours_minus_closures_across_dst(rates):
    c = rates
    # The HPLC is open round the clock: the week of the autumn change has 7 × 24 + 1 hours.
    equipment_update(
        actor=SYSTEM,
        equipment=c.hplc,
        policy={
            "opening_hours": {
                day: [["00:00", "24:00"]]
                for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
            }
        },
    )
    # The rheometer keeps Mon–Fri 08:00–19:00 (55 h), less a closure of its own (2 h) and
    # one of its site that covers 1 h on Thursday evening and 1 h on Friday morning.
    Closure.objects.create(
        equipment=c.rheometer,
        start=at("2026-10-21", "10:00"),
        end=at("2026-10-21", "12:00"),
        reason="Maintenance",
    )
    Closure.objects.create(
        site=c.other_site,
        start=at("2026-10-22", "18:00"),
        end=at("2026-10-23", "09:00"),
        reason="Électricité",
    )
    Closure.objects.create(  # the HPLC's site: 11 of its 169 hours, none of the rheometer's
        site=c.site, start=at("2026-10-20", "08:00"), end=at("2026-10-20", "19:00"), reason="x"
    )
    reserve(  # 5 h
        equipment=c.rheometer,
        project=c.research,
        user=c.researcher,
        start=at("2026-10-20", "09:00"),
        end=at("2026-10-20", "14:00"),
    )
    reserve(  # Sunday night across the change, outside opening hours: 4 real hours
        equipment=c.rheometer,
        project=c.research,
        user=c.researcher,
        start=at("2026-10-25", "01:00"),
        end=at("2026-10-25", "04:00"),
    )
    reserve(  # Saturday 20:00 CEST to Sunday 04:00 CET: 9 real hours
        equipment=c.hplc,
        project=c.research,
        user=c.researcher,
        start=at("2026-10-24", "20:00"),
        end=at("2026-10-25", "04:00"),
        checked_in=at("2026-10-24", "20:00"),
        checked_out=at("2026-10-25", "04:00"),
    )
    window = {"start": at("2026-10-19", "00:00"), "end": at("2026-10-26", "00:00")}
    result = report(["equipment"], **window)
    rows = {row["equipment"]["code"]: row for row in result.rows}
    assert (rows["TO-RHEO-01"]["open_hours"], rows["TO-RHEO-01"]["utilisation"]) == (
        Decimal("51.00"),
        Decimal("0.1765"),  # 9 / 51
    )
    assert (rows["WL-HPLC-01"]["open_hours"], rows["WL-HPLC-01"]["utilisation"]) == (
        Decimal("158.00"),
        Decimal("0.0570"),  # 9 / 158
    )
    assert (result.totals["open_hours"], result.totals["utilisation"]) == (
        Decimal("209.00"),
        Decimal("0.0861"),  # 18 / 209
    )
    # Without equipment among the dimensions there is no utilisation.
    assert "utilisation" not in report(["partner"], **window).totals


def test_utilisation_per_equipment_and_month(rates):
    c = rates
    for day, hours in (("2026-10-27", 2), ("2026-11-02", 1)):
        reserve(
            equipment=c.rheometer,
            project=c.research,
            user=c.researcher,
            start=at(day, "09:00"),
            end=at(day, "09:00") + timedelta(hours=hours),
        )
    window = {"start": at("2026-10-26", "00:00"), "end": at("2026-11-03", "00:00")}
    result = report(["equipment", "month"], **window, equipment=(c.rheometer.pk,))
    assert [(r["month"], r["open_hours"], r["utilisation"]) for r in result.rows] == [
        ("2026-10", Decimal("55.00"), Decimal("0.0364")),  # Mon 26 – Fri 30: 2 / 55
        ("2026-11", Decimal("11.00"), Decimal("0.0909")),  # Mon 2: 1 / 11
    ]
    # The totals are those of the equipment over the whole window, split or not.
    whole = report(["equipment"], **window, equipment=(c.rheometer.pk,))
    assert result.totals["open_hours"] == whole.totals["open_hours"] == Decimal("66.00")
    assert result.totals["utilisation"] == whole.totals["utilisation"] == Decimal("0.0455")


def test_totals_count_the_months_without_reservations(rates):
    c = rates
    for day in ("2026-09-01", "2026-11-02"):  # nothing booked in October
        reserve(
            equipment=c.rheometer,
            project=c.research,
            user=c.researcher,
            start=at(day, "09:00"),
            end=at(day, "10:00"),
        )
    window = {"start": at("2026-09-01", "00:00"), "end": at("2026-12-01", "00:00")}
    split = report(["equipment", "month"], **window, equipment=(c.rheometer.pk,))
    # October has a row too: the equipment stood idle that month.
    assert [(r["month"], r["booked_hours"]) for r in split.rows] == [
        ("2026-09", Decimal("1.00")),
        ("2026-10", Decimal("0.00")),
        ("2026-11", Decimal("1.00")),
    ]
    assert split.rows[1]["utilisation"] == Decimal("0.0000") < split.rows[1]["open_hours"]
    whole = report(["equipment"], **window, equipment=(c.rheometer.pk,))
    assert split.totals["open_hours"] == whole.totals["open_hours"]
    assert split.totals["utilisation"] == whole.totals["utilisation"]


def test_scope_of_referent_and_equipment_manager(scenario):
    c = scenario.campus
    referent = report(["partner"], scope=report_scope(c.referent))
    assert by_name(referent.rows) == {"Université d'Orléans": ORLEANS}
    assert referent.totals == ORLEANS
    manager = report(["partner"], scope=report_scope(c.eq_manager))
    # The HPLC's reservations only: E (Servier), F, G, M (Orléans), K (lycée).
    assert by_name(manager.rows) == {
        "Lycée Jean Zay": figures(1, "0.00", "0.00", "0.00", 0, 0, 0, 0, 1, "0.00"),
        "Servier": SERVIER,
        "Université d'Orléans": figures(2, "4.00", "2.00", "4.00", 1, 1, 1, 0, 2, "120.00"),
    }
    with pytest.raises(DomainError) as refused:
        report_scope(c.outsider)
    assert refused.value.status == 403


def test_filters(scenario):
    c = scenario.campus
    assert report(["partner"], partner=(c.servier.pk,)).totals == SERVIER
    assert report(["partner"], project_kind=("pedagogical",)).totals == LYCEE
    assert report(["partner"], equipment=(c.hplc.pk,), project_kind=("industrial",)).totals == (
        SERVIER
    )


def test_a_fixed_number_of_queries(scenario, rates):
    def count(group_by):
        with CaptureQueriesContext(connection) as ctx:
            report(group_by)
        return len(ctx.captured_queries)

    small = {g: count(list(g)) for g in (("partner",), ("equipment", "month"), ("user", "site"))}
    c = scenario.campus
    for n in range(30):
        day = at("2026-09-01", "08:00") + timedelta(days=n)
        reserve(
            equipment=c.rheometer,
            project=c.research,
            user=c.researcher,
            start=day,
            end=day + timedelta(hours=1),
        )
    large = {g: count(list(g)) for g in small}
    assert small == large
    # Policies, the aggregate and one lookup per object dimension (+ closures by
    # equipment); PostgreSQL adds a savepoint, its release and one statement of two
    # transaction-local settings around the aggregate.
    extra = 3 if connection.vendor == "postgresql" else 0
    assert large == {
        ("partner",): 3 + extra,
        ("equipment", "month"): 4 + extra,
        ("user", "site"): 4 + extra,
    }


def test_unknown_dimension_is_refused(scenario):
    with pytest.raises(DomainError) as error:
        report(["colour"])
    assert error.value.code == "bad_group_by"
    with pytest.raises(DomainError):
        report(["partner", "partner"])
    with pytest.raises(DomainError):
        report(["partner", "month", "site"])


@pytest.fixture
def idle(scenario):
    """A third equipment, managed by the HPLC's manager, never booked; and a retired one."""
    from equipment.models import Equipment
    from equipment.services import equipment_create

    c = scenario.campus
    spare = equipment_create(
        actor=SYSTEM,
        code="WL-SPARE-01",
        name="Balance de réserve",
        category=c.chroma,
        site=c.site,
        managers=[c.eq_manager],
    )
    old = equipment_create(
        actor=SYSTEM, code="WL-OLD-01", name="Ancienne étuve", category=c.chroma, site=c.site
    )
    Equipment.objects.filter(pk=old.pk).update(status=Equipment.Status.RETIRED)
    return spare


ZERO_USE = figures(0, "0.00", "0.00", "0.00", 0, 0, 0, 0, 0, "0.00")


def test_idle_equipment_shows_with_zero_use(scenario, idle):
    result = report(["equipment"])
    rows = {row["equipment"]["code"]: row for row in result.rows}
    # Sorted with the others; the retired equipment without reservations is left out.
    assert [row["equipment"]["code"] for row in result.rows] == [
        "TO-RHEO-01",
        "WL-HPLC-01",
        "WL-SPARE-01",
    ]
    spare = rows["WL-SPARE-01"]
    assert spare["equipment"] == {
        "id": idle.pk,
        "code": "WL-SPARE-01",
        "name": "Balance de réserve",
    }
    assert {k: spare[k] for k in ZERO_USE} == ZERO_USE
    assert spare["utilisation"] == Decimal("0.0000")
    # It stood open (weekdays' opening hours), so it lowers the platform's utilisation.
    assert spare["open_hours"] == rows["WL-HPLC-01"]["open_hours"] > 0
    assert result.totals["open_hours"] == sum(row["open_hours"] for row in result.rows)
    # The figures of the others and the totals of use do not change.
    assert {k: result.totals[k] for k in TOTALS} == TOTALS


def test_idle_equipment_per_month(scenario, idle):
    result = report(["month", "equipment"], equipment=(idle.pk,))
    assert [row["month"] for row in result.rows] == [f"2026-{m:02d}" for m in range(3, 11)]
    assert all(row["booked_hours"] == Decimal("0.00") for row in result.rows)
    assert all(row["open_hours"] > 0 for row in result.rows)


def test_idle_equipment_within_scope_and_filters(scenario, idle):
    c = scenario.campus
    # The equipment manager: their own idle equipment, not the rheometer.
    manager = report(["equipment"], scope=report_scope(c.eq_manager))
    assert [row["equipment"]["code"] for row in manager.rows] == ["WL-HPLC-01", "WL-SPARE-01"]
    # The referent answers for their partner's reservations, not for equipment.
    referent = report(["equipment"], scope=report_scope(c.referent))
    assert "WL-SPARE-01" not in {row["equipment"]["code"] for row in referent.rows}
    # The equipment filter keeps only the chosen equipment.
    chosen = report(["equipment"], equipment=(c.rheometer.pk,))
    assert [row["equipment"]["code"] for row in chosen.rows] == ["TO-RHEO-01"]
    # A kind filter selects reservations: equipment they did not use shows zero.
    industrial = report(["equipment"], project_kind=("industrial",))
    rows = {row["equipment"]["code"]: row for row in industrial.rows}
    assert set(rows) == {"TO-RHEO-01", "WL-HPLC-01", "WL-SPARE-01"}
    assert rows["TO-RHEO-01"]["booked_hours"] == Decimal("0.00")
    # Grouped by another dimension too, idle equipment has no group to go in.
    by_partner = report(["equipment", "partner"])
    assert "WL-SPARE-01" not in {row["equipment"]["code"] for row in by_partner.rows}
