"""Every kind of change writes its audit entry (SPEC §14): who, when, from what to what, why.

Each test makes the change through its service, as the pages, the API, the admin and the
commands do, and reads the one trail (core.models.AuditEntry).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.audit import as_json
from core.errors import DomainError
from core.models import AuditEntry
from core.roles import SYSTEM
from equipment.models import Qualification
from equipment.services import (
    equipment_update,
    qualification_grant,
    qualification_revoke,
)
from partners.models import ProjectKind
from partners.services import project_create, project_update
from reservations.models import Closure, Reservation
from reservations.services import (
    closure_create,
    closure_delete,
    release_no_shows,
    reservation_check_in,
    reservation_check_out,
    reservation_create,
    reservation_update,
)
from reservations.services.closures import ClosureSpec, closures_create
from tests.conftest import reservation_row

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)  # a Monday
START = datetime(2026, 11, 25, 9, 0, tzinfo=PARIS)  # Wednesday


def entries(object_type: str, **filters) -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(object_type=object_type, **filters).order_by("pk"))


def book(campus, start: datetime, hours: int = 2, *, equipment=None, rrule=None, teach=False):
    """A booking of the rheometer (a teacher's class when `teach`: 365 days ahead)."""
    return reservation_create(
        user=campus.teacher if teach else campus.researcher,
        project=campus.teaching if teach else campus.open_research,
        equipment=[equipment or campus.rheometer],
        start=start,
        end=start + timedelta(hours=hours),
        title="Mesures",
        rrule=rrule,
        # Classes skip school holidays by default; these series count every week.
        skip_school_holidays=False if teach else None,
        now=NOW,
    )


# --- reservations -----------------------------------------------------------------------


def test_check_in_and_check_out_are_recorded_with_their_times(campus):
    equipment_update(actor=SYSTEM, equipment=campus.rheometer, requires_check_in=True)
    (booking,) = book(campus, START, 3).reservations
    reservation_check_in(reservation=booking, user=campus.researcher, now=START)
    reservation_check_out(
        reservation=booking, user=campus.researcher, now=START + timedelta(hours=2)
    )
    check_in, check_out = (booking.audit.get(action=a) for a in ("check_in", "check_out"))
    assert (check_in.by, check_in.at) == (campus.researcher, START)
    assert check_in.changes == {"checked_in_at": [None, as_json(START)]}
    assert check_in.equipment_id == campus.rheometer.pk
    assert check_out.changes == {
        "checked_out_at": [None, as_json(START + timedelta(hours=2))],
        "status": ["confirmed", "completed"],
    }


def test_the_platform_records_no_shows_and_completions_without_an_author(campus):
    equipment_update(actor=SYSTEM, equipment=campus.rheometer, requires_check_in=True)
    (missed,) = book(campus, START, 3).reservations
    (done,) = book(campus, START, 1, equipment=campus.hplc_free).reservations
    release_no_shows(now=START + timedelta(hours=4))
    (no_show,) = missed.audit.filter(action="no_show")
    (completed,) = done.audit.filter(action="completed")
    assert no_show.by is None and completed.by is None
    assert no_show.changes == {"status": ["confirmed", "no_show"]}
    assert completed.changes == {"status": ["confirmed", "completed"]}


@pytest.fixture
def hplc_free(campus):
    """A second equipment without check-in, anyone may book."""
    from equipment.services import equipment_create

    campus.hplc_free = equipment_create(
        actor=SYSTEM,
        code="TO-VISCO-01",
        name="Viscosimètre",
        category=campus.rheo,
        site=campus.other_site,
        managers=[campus.eq_manager],
    )
    return campus


@pytest.fixture(autouse=True)
def _more_equipment(hplc_free):
    return hplc_free


def test_a_manager_override_lists_the_rules_overridden(campus):
    outcome = reservation_create(
        user=campus.eq_manager,
        project=campus.open_research,
        equipment=[campus.hplc_free],
        start=datetime(2026, 11, 25, 20, 0, tzinfo=PARIS),
        end=datetime(2026, 11, 25, 21, 0, tzinfo=PARIS),
        title="Nuit",
        now=NOW,
        override=True,
    )
    (entry,) = outcome.reservations[0].audit.all()
    # Not a member of the project, and at night: both rules lifted, both named.
    assert entry.overridden == ["not_project_member", "outside_opening_hours"]
    assert entry.by == campus.eq_manager


# --- closures ------------------------------------------------------------------------------


def test_a_closure_is_recorded_and_displaces_with_its_reason(campus):
    (victim,) = book(campus, START).reservations
    closure, displaced = closure_create(
        user=campus.admin,
        equipment=campus.rheometer,
        start=START - timedelta(hours=1),
        end=START + timedelta(hours=5),
        reason="Panne moteur",
        kind=Closure.Kind.MAINTENANCE,
        now=NOW,
    )
    assert [r.pk for r in displaced] == [victim.pk]
    (entry,) = entries("closure", object_id=closure.pk)
    assert (entry.action, entry.by, entry.at, entry.reason) == (
        "create",
        campus.admin,
        NOW,
        "Panne moteur",
    )
    assert (entry.equipment_id, entry.site_id) == (campus.rheometer.pk, None)
    assert entry.changes["start"] == [None, as_json(START - timedelta(hours=1))]
    assert entry.changes["kind"] == [None, "maintenance"]
    (displacement,) = victim.audit.filter(action="displace")
    assert displacement.changes == {"status": ["confirmed", "displaced"]}
    assert "Panne moteur" in displacement.reason


def test_an_import_records_one_entry_per_closure_and_a_deletion_keeps_what_it_was(campus):
    specs = [
        ClosureSpec(
            start=datetime(2026, 12, d, 0, 0, tzinfo=PARIS),
            end=datetime(2026, 12, d + 1, 0, 0, tzinfo=PARIS),
            reason=f"Fermeture {d}",
            kind=Closure.Kind.HOLIDAY,
            source="ics:uid-{d}",
        )
        for d in (7, 8, 9)
    ]
    made, _ = closures_create(user=SYSTEM, specs=specs, now=NOW, site=campus.site)
    found = entries("closure")
    assert [e.object_id for e in found] == [c.pk for c in made]
    assert {(e.by, e.site_id, e.equipment_id) for e in found} == {(None, campus.site.pk, None)}
    pk = made[0].pk
    closure_delete(closure=made[0], user=campus.admin, now=NOW + timedelta(hours=1))
    assert not Closure.objects.filter(pk=pk).exists()
    deleted = AuditEntry.objects.get(object_type="closure", object_id=pk, action="delete")
    assert deleted.by == campus.admin
    assert deleted.changes["reason"] == ["Fermeture 7", None]
    assert deleted.changes["end"] == [as_json(datetime(2026, 12, 8, tzinfo=PARIS)), None]


# --- equipment policy and rates --------------------------------------------------------------


def test_policy_and_rates_changes_record_the_changed_keys_only(campus):
    equipment_update(
        actor=campus.eq_manager,
        equipment=campus.hplc,
        policy={"buffer_minutes": 15},
        rates={"industrial": "150.5"},
    )
    equipment_update(
        actor=campus.eq_manager, equipment=campus.hplc, policy={"buffer_minutes": None}
    )
    first, second = entries("equipment", object_id=campus.hplc.pk, action="update")
    assert first.by == campus.eq_manager
    assert first.equipment_id == campus.hplc.pk
    assert first.changes == {
        "policy.buffer_minutes": [None, 15],
        "rates.industrial": ["120.00", "150.50"],
    }
    # Back to the platform default.
    assert second.changes == {"policy.buffer_minutes": [15, None]}


def test_a_change_that_changes_nothing_audited_writes_nothing(campus):
    before = AuditEntry.objects.count()
    equipment_update(actor=campus.eq_manager, equipment=campus.hplc, room="B12")
    assert AuditEntry.objects.count() == before


def test_a_refused_policy_rolls_back_its_entry_with_it(campus):
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError):
        equipment_update(
            actor=campus.eq_manager,
            equipment=campus.hplc,
            rates={"teaching": 1},
            policy={"buffer_minutes": -5},
        )
    assert AuditEntry.objects.count() == before
    campus.hplc.refresh_from_db()
    assert campus.hplc.rate_teaching == Decimal("5.00")


def test_the_platform_s_own_changes_have_no_author(campus):
    equipment_update(actor=SYSTEM, equipment=campus.hplc, requires_check_in=True)
    (entry,) = entries("equipment", object_id=campus.hplc.pk, action="update")
    assert entry.by is None
    assert entry.changes == {"requires_check_in": [False, True]}


# --- projects --------------------------------------------------------------------------------


def test_project_team_changes_record_members_and_leader(campus):
    project = project_create(
        actor=campus.referent,
        name="Émulsions 2027",
        kind=ProjectKind.RESEARCH,
        partner=campus.orleans,
        leader=campus.researcher,
        members=[campus.teacher],
        active_from=date(2027, 1, 1),
    )
    (created,) = entries("project", object_id=project.pk)
    assert created.by == campus.referent
    assert created.changes["members"] == [None, sorted([campus.researcher.pk, campus.teacher.pk])]
    assert created.changes["leader"] == [None, campus.researcher.pk]
    assert created.equipment_id is None
    project_update(
        actor=campus.researcher,
        project=project,
        members=[campus.industrial],
    )
    project_update(actor=campus.referent, project=project, leader=campus.industrial)
    team, leader = entries("project", object_id=project.pk, action="update")
    assert team.by == campus.researcher
    assert team.changes == {
        "members": [
            sorted([campus.researcher.pk, campus.teacher.pk]),
            sorted([campus.researcher.pk, campus.industrial.pk]),
        ]
    }
    assert leader.changes == {"leader": [campus.researcher.pk, campus.industrial.pk]}


# --- qualifications --------------------------------------------------------------------------


def test_qualifications_granted_renewed_and_revoked(campus):
    granted = qualification_grant(
        actor=campus.eq_manager,
        user=campus.researcher,
        equipment=campus.hplc,
        valid_until=date(2027, 6, 30),
    )
    qualification_grant(
        actor=campus.eq_manager,
        user=campus.researcher,
        equipment=campus.hplc,
        valid_until=date(2027, 6, 30),
    )  # the same date: nothing changed, nothing recorded
    qualification_grant(
        actor=campus.admin,
        user=campus.researcher,
        equipment=campus.hplc,
        valid_until=date(2028, 6, 30),
    )
    pk = granted.pk
    qualification_revoke(actor=campus.eq_manager, qualification=granted)
    assert not Qualification.objects.filter(pk=pk).exists()
    grant, renew, revoke = entries("qualification", object_id=pk)
    assert (grant.action, grant.by, grant.equipment_id) == (
        "grant",
        campus.eq_manager,
        campus.hplc.pk,
    )
    assert grant.changes == {
        "user": [None, campus.researcher.pk],
        "valid_until": [None, "2027-06-30"],
    }
    assert (renew.action, renew.by) == ("renew", campus.admin)
    assert renew.changes == {"valid_until": ["2027-06-30", "2028-06-30"]}
    assert revoke.action == "revoke"
    assert revoke.changes == {
        "user": [campus.researcher.pk, None],
        "valid_until": ["2028-06-30", None],
    }


def test_only_those_who_grant_may_revoke(campus):
    granted = qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 6, 30)
    )
    with pytest.raises(DomainError):
        qualification_revoke(actor=campus.researcher, qualification=granted)
    assert Qualification.objects.filter(pk=granted.pk).exists()
    assert not entries("qualification", action="revoke")


def test_the_admin_deletes_a_qualification_through_the_revocation(client, campus):
    granted = qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 6, 30)
    )
    campus.admin.is_superuser = True
    campus.admin.save()
    client.force_login(campus.admin)
    response = client.post(f"/admin/equipment/qualification/{granted.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    (revoke,) = entries("qualification", action="revoke")
    assert revoke.by == campus.admin


def test_the_admin_neither_reassigns_a_qualification_nor_deletes_a_project(client, campus):
    """Changes the trail could not tell: a qualification handed to someone else (the old one
    would stay, unrevoked) and a project deleted with its members."""
    granted = qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 6, 30)
    )
    campus.admin.is_superuser = True
    campus.admin.save()
    client.force_login(campus.admin)
    form = client.get(f"/admin/equipment/qualification/{granted.pk}/change/").content.decode()
    assert 'name="valid_until' in form
    assert 'name="user"' not in form and 'name="equipment"' not in form
    project = f"/admin/partners/project/{campus.research.pk}/delete/"
    assert client.post(project, {"post": "yes"}).status_code == 403
    assert campus.research.__class__.objects.filter(pk=campus.research.pk).exists()


# --- bulk writes: one insert whatever the number of rows --------------------------------------


def _queries(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        call()
    return len(captured.captured_queries)


def test_a_closure_displacing_many_costs_the_same_queries_as_displacing_few(campus):
    def fill(day: int, count: int) -> None:
        for i in range(count):
            start = datetime(2026, 12, day, 8, 0, tzinfo=PARIS) + timedelta(minutes=30 * i)
            reservation_row(campus, start, 30, at=NOW)

    def close(day: int) -> None:
        closure_create(
            user=campus.admin,
            equipment=campus.rheometer,
            start=datetime(2026, 12, day, 0, 0, tzinfo=PARIS),
            end=datetime(2026, 12, day + 1, 0, 0, tzinfo=PARIS),
            reason="Panne",
            now=NOW,
        )

    fill(7, 2)
    fill(9, 20)
    few, many = _queries(lambda: close(7)), _queries(lambda: close(9))
    assert AuditEntry.objects.filter(object_type="reservation", action="displace").count() == 22
    assert many == few


def test_a_series_of_thirteen_costs_the_same_queries_as_a_series_of_three(campus):
    three = _queries(lambda: book(campus, START, rrule="FREQ=WEEKLY;COUNT=3", teach=True))
    thirteen = _queries(
        lambda: book(campus, START + timedelta(days=1), rrule="FREQ=WEEKLY;COUNT=13", teach=True)
    )
    assert AuditEntry.objects.filter(object_type="reservation", action="create").count() == 16
    assert thirteen == three


def test_a_new_title_and_head_count_are_recorded_without_a_move(campus):
    (booking,) = book(campus, START).reservations
    reservation_update(
        reservation=booking,
        user=campus.researcher,
        now=NOW,
        title="Mesures de viscosité",
        expected_participants=3,
    )
    (entry,) = booking.audit.filter(action="update")
    assert entry.by == campus.researcher
    assert entry.changes == {
        "title": ["Mesures", "Mesures de viscosité"],
        "expected_participants": [booking.expected_participants, 3],
    }
    assert not booking.audit.filter(action="move").exists()


def test_a_title_saved_from_a_stale_copy_keeps_the_move_made_meanwhile(campus):
    """Someone moves the booking while someone else, holding the old times, saves a title:
    the booking stays where it was moved, and the title change is recorded alone."""
    (booking,) = book(campus, START).reservations
    stale = Reservation.objects.get(pk=booking.pk)
    later = START + timedelta(hours=3)
    reservation_update(
        reservation=booking,
        user=campus.researcher,
        now=NOW,
        start=later,
        end=later + timedelta(hours=2),
    )
    reservation_update(reservation=stale, user=campus.researcher, now=NOW, title="Rhéologie")
    booking.refresh_from_db()
    assert (booking.start, booking.title) == (later, "Rhéologie")
    (update,) = booking.audit.filter(action="update")
    assert set(update.changes) == {"title"}
