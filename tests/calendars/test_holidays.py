"""French public holidays as closures, and the zone B school holidays the platform knows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from calendars import sync
from calendars.holidays import (
    UnknownSchoolHolidays,
    public_holiday_closures,
    school_holiday_periods,
)
from calendars.management.commands.import_holidays import Command as ImportHolidays
from reservations.models import Closure
from reservations.services import reservation_create

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=PARIS)
HOLIDAYS_2026 = [
    date(2026, 1, 1),
    date(2026, 4, 6),  # Easter Monday
    date(2026, 5, 1),
    date(2026, 5, 8),
    date(2026, 5, 14),  # Ascension
    date(2026, 5, 25),  # Whit Monday
    date(2026, 7, 14),
    date(2026, 8, 15),
    date(2026, 11, 1),
    date(2026, 11, 11),
    date(2026, 12, 25),
]


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("calendars.management.commands.import_holidays.timezone.now", lambda: NOW)


@pytest.fixture(autouse=True)
def english():
    sync._pending.__dict__.clear()
    with translation.override("en"):
        yield
    sync._pending.__dict__.clear()


def run(*args: str) -> str:
    out = StringIO()
    call_command("import_holidays", *args, stdout=out)
    return out.getvalue()


def test_2026_public_holidays_close_every_site_for_whole_local_days(campus):
    output = run("2026")
    assert output == (
        "11 public holiday closures created for every site, 0 already there, "
        "0 reservations displaced.\n"
    )
    closures = list(Closure.objects.order_by("start"))
    assert [c.start.astimezone(PARIS).date() for c in closures] == HOLIDAYS_2026
    for closure in closures:
        local_start = closure.start.astimezone(PARIS)
        local_end = closure.end.astimezone(PARIS)
        assert (local_start.hour, local_start.minute, local_end.hour, local_end.minute) == (
            0,
            0,
            0,
            0,
        )
        assert local_end.date() - local_start.date() == timedelta(days=1)
        assert (closure.kind, closure.equipment_id, closure.site_id) == ("holiday", None, None)
        assert closure.source == f"holiday:{local_start.date().isoformat()}"
    by_day = {c.start.astimezone(PARIS).date(): c for c in closures}
    # Winter days are 23:00Z to 23:00Z, summer days 22:00Z to 22:00Z.
    new_year = by_day[date(2026, 1, 1)]
    assert (new_year.start, new_year.end) == (
        datetime(2025, 12, 31, 23, tzinfo=UTC),
        datetime(2026, 1, 1, 23, tzinfo=UTC),
    )
    assert new_year.reason == "Jour de l'an"
    easter = by_day[date(2026, 4, 6)]
    assert (easter.start, easter.end, easter.reason) == (
        datetime(2026, 4, 5, 22, tzinfo=UTC),
        datetime(2026, 4, 6, 22, tzinfo=UTC),
        "Lundi de Pâques",
    )
    assert by_day[date(2026, 5, 25)].reason == "Lundi de Pentecôte"


def test_running_again_creates_nothing(campus):
    run("2026")
    output = run("2026", "2027")
    assert output.startswith("11 public holiday closures created for every site, 11 already there")
    assert Closure.objects.count() == 22


def test_holidays_for_a_site_or_an_equipment(campus):
    assert run("2026", "--site", str(campus.site.pk)).startswith(
        "11 public holiday closures created for We Lab"
    )
    assert run("2026", "--equipment", "WL-HPLC-01").startswith(
        "11 public holiday closures created for WL-HPLC-01"
    )
    assert Closure.objects.filter(site=campus.site).count() == 11
    assert Closure.objects.filter(equipment=campus.hplc).count() == 11


def test_a_public_holiday_displaces_a_covered_reservation(campus):
    booked = reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=[campus.rheometer],
        start=datetime(2026, 4, 6, 9, 0, tzinfo=PARIS),
        end=datetime(2026, 4, 6, 12, 0, tzinfo=PARIS),
        title="Mesures",
        now=NOW,
    ).reservations[0]
    output = run("2026", "--equipment", "TO-RHEO-01")
    assert output.endswith("1 reservation displaced.\n")
    booked.refresh_from_db()
    assert booked.status == "displaced"


def test_school_holidays_are_listed_for_known_years(campus):
    output = run("2026", "--school-holidays")
    assert output.splitlines()[1:] == [
        "Zone B school holidays:",
        "  01/01/2026 – 04/01/2026  Vacances de Noël",
        "  14/02/2026 – 01/03/2026  Vacances d'hiver",
        "  11/04/2026 – 26/04/2026  Vacances de printemps",
        "  04/07/2026 – 31/08/2026  Vacances d'été",
        "  17/10/2026 – 01/11/2026  Vacances de la Toussaint",
        "  19/12/2026 – 31/12/2026  Vacances de Noël",
    ]


def test_a_partly_known_year_says_until_when(campus):
    output = run("2028", "--school-holidays")
    assert output.splitlines()[-1] == "School holidays are known only until 31/08/2028."


def test_an_uncovered_year_is_a_clear_error_and_writes_nothing(campus):
    with pytest.raises(CommandError) as error:
        run("2028", "2029", "2031", "--school-holidays")
    assert str(error.value) == (
        "Zone B school holidays are not known for 2029, 2031: the vacances-scolaires-france "
        "package has no data for them (update it)."
    )
    assert Closure.objects.count() == 0
    with pytest.raises(UnknownSchoolHolidays):
        school_holiday_periods([2029])


def test_an_uncovered_year_from_the_shell_prints_no_traceback(campus, capsys, monkeypatch):
    # run_from_argv closes the connections when done: keep the test's own open.
    monkeypatch.setattr("django.core.management.base.connections.close_all", lambda: None)
    command = ImportHolidays()
    with pytest.raises(SystemExit) as exit_:
        command.run_from_argv(["manage.py", "import_holidays", "2029", "--school-holidays"])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert "CommandError: Zone B school holidays are not known for 2029" in err
    assert "Traceback" not in err
    assert Closure.objects.count() == 0


def test_bad_years_and_scopes_are_refused(campus):
    with pytest.raises(CommandError) as error:
        run("12")
    assert str(error.value) == "Give years between 1900 and 2200."
    with pytest.raises(CommandError):
        run("2026", "--equipment", "NOPE")
    with pytest.raises(CommandError):
        run("2026", "--equipment", "WL-HPLC-01", "--site", str(campus.site.pk))
    assert Closure.objects.count() == 0


def test_holiday_closures_are_whole_days_across_both_changes():
    items = {c.source: c for c in public_holiday_closures([2027])}
    # 2027: Easter Monday 29 March is the day after the spring change (+02:00).
    easter = items["holiday:2027-03-29"]
    assert (easter.start, easter.end) == (
        datetime(2027, 3, 28, 22, tzinfo=UTC),
        datetime(2027, 3, 29, 22, tzinfo=UTC),
    )
    # 1 November 2027 is after the autumn change (+01:00).
    all_saints = items["holiday:2027-11-01"]
    assert (all_saints.start, all_saints.end) == (
        datetime(2027, 10, 31, 23, tzinfo=UTC),
        datetime(2027, 11, 1, 23, tzinfo=UTC),
    )
