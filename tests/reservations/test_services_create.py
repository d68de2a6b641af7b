"""The write path of reservations, called directly (reservations.services.booking).

`reservation_create`, `reservation_update`, `reservation_cancel`, `reservation_approve`
and `reservation_reject` with `now` passed in: what they write (rows, statuses, audit
entries), what they refuse (the error code, its status and details), and that a refusal
writes nothing. The HTTP layer is tested in tests/api/test_reservations_api.py.

"Now" is Monday 2026-11-23 08:00 in Paris; the preemption notice (14 days) ends on
Monday 2026-12-07 08:00.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.audit import as_json
from core.models import AuditEntry
from core.roles import SYSTEM
from equipment.services import equipment_create, equipment_update, qualification_grant
from reservations.exceptions import BookingError
from reservations.models import Reservation, ReservationStatus, Series, Session
from reservations.services import (
    BookingOutcome,
    reservation_approve,
    reservation_cancel,
    reservation_create,
    reservation_reject,
    reservation_update,
)

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)  # a Monday
WED = date(2026, 12, 2)  # 9 days ahead: inside the preemption notice
THU = date(2026, 12, 3)
FAR = date(2026, 12, 23)  # 30 days ahead: beyond the notice, inside the research horizon
IND = date(2026, 12, 16)  # 23 days ahead: inside the industrial horizon (30 days)
CONFIRMED, PENDING = ReservationStatus.CONFIRMED, ReservationStatus.PENDING
CANCELLED, DISPLACED = ReservationStatus.CANCELLED, ReservationStatus.DISPLACED


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime(day.year, day.month, day.day, int(hours), int(minutes), tzinfo=PARIS)


def book(
    user: Any,
    project: Any,
    equipment: Any,
    day: date,
    start: str,
    end: str,
    *,
    now: datetime = NOW,
    title: str = "Mesures",
    **extra: Any,
) -> BookingOutcome:
    items = equipment if isinstance(equipment, list) else [equipment]
    return reservation_create(
        user=user,
        project=project,
        equipment=items,
        start=at(day, start),
        end=at(day, end),
        title=title,
        now=now,
        **extra,
    )


def one(outcome: BookingOutcome) -> Reservation:
    (reservation,) = outcome.reservations
    return reservation


def refused(call, *args: Any, **kwargs: Any) -> BookingError:
    with pytest.raises(BookingError) as caught:
        call(*args, **kwargs)
    return caught.value


def counts() -> tuple[int, int, int, int]:
    """Rows that a refused write must leave untouched."""
    return (
        Reservation.objects.count(),
        AuditEntry.objects.filter(object_type="reservation").count(),
        Series.objects.count(),
        Session.objects.count(),
    )


def statuses(*reservations: Reservation) -> list[str]:
    by_pk = dict(
        Reservation.objects.filter(pk__in=[r.pk for r in reservations]).values_list("pk", "status")
    )
    return [by_pk[r.pk] for r in reservations]


def audits(reservation: Reservation, action: str) -> list[AuditEntry]:
    return list(reservation.audit.filter(action=action).order_by("pk"))


@pytest.fixture
def qualified(campus):
    """Everyone who books the HPLC here is trained on it."""
    for user in (campus.researcher, campus.industrial, campus.teacher, campus.eq_manager):
        qualification_grant(
            actor=SYSTEM, user=user, equipment=campus.hplc, valid_until=date(2027, 12, 31)
        )
    return campus


# --- a single booking -------------------------------------------------------------------


def test_single_booking_is_confirmed_and_audited(campus):
    outcome = book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        WED,
        "10:00",
        "12:00",
        title="  Mesures  ",
        expected_participants=3,
    )

    made = one(outcome)
    assert outcome.displaced == []
    assert outcome.skipped == []
    assert outcome.series is None
    assert outcome.session is None
    row = Reservation.objects.get()
    assert row.pk == made.pk
    assert row.equipment_id == campus.rheometer.pk
    assert row.project_id == campus.research.pk
    assert row.booked_by_id == campus.researcher.pk
    assert (row.start, row.end) == (at(WED, "10:00"), at(WED, "12:00"))
    assert row.blocked_until == row.end  # no buffer by default
    assert row.title == "Mesures"
    assert row.expected_participants == 3
    assert row.status == CONFIRMED
    assert row.priority == "research"
    assert row.revision == 0
    assert row.series_id is None and row.session_id is None
    assert row.created_at == row.updated_at == row.status_changed_at == NOW
    (entry,) = AuditEntry.objects.filter(object_type="reservation")
    assert entry.object_id == made.pk
    assert entry.equipment_id == campus.rheometer.pk
    assert entry.action == "create"
    assert entry.by_id == campus.researcher.pk
    assert entry.at == NOW
    assert entry.changes == {
        "status": [None, CONFIRMED],
        "start": [None, as_json(row.start)],
        "end": [None, as_json(row.end)],
    }
    assert entry.overridden == []


def test_the_buffer_is_held_after_the_reservation(campus):
    equipment_update(actor=SYSTEM, equipment=campus.rheometer, policy={"buffer_minutes": 15})
    campus.rheometer.refresh_from_db()
    made = one(book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"))
    assert Reservation.objects.get(pk=made.pk).blocked_until == at(WED, "12:15")
    error = refused(
        book, campus.researcher, campus.open_research, campus.rheometer, WED, "12:00", "13:00"
    )
    assert error.code == "conflict"
    one(book(campus.researcher, campus.open_research, campus.rheometer, WED, "12:15", "13:00"))


@pytest.mark.parametrize(
    ("start", "end", "code"),
    [
        ("12:00", "10:00", "invalid"),
        ("10:10", "11:00", "bad_granularity"),
        ("10:00", "10:15", "too_short"),
        ("18:00", "20:00", "outside_opening_hours"),
    ],
)
def test_a_broken_rule_is_refused_with_its_code_and_nothing_written(campus, start, end, code):
    error = refused(book, campus.researcher, campus.research, campus.rheometer, WED, start, end)
    assert (error.code, error.status) == (code, 400)
    assert counts() == (0, 0, 0, 0)


def test_blank_title_and_no_equipment_are_invalid(campus):
    error = refused(
        book, campus.researcher, campus.research, campus.rheometer, WED, "10:00", "11:00", title=" "
    )
    assert error.code == "invalid"
    assert "title" in error.extra["fields"]
    assert refused(book, campus.researcher, campus.research, [], WED, "10:00", "11:00").code == (
        "no_equipment"
    )
    twice = [campus.rheometer, campus.rheometer]
    assert (
        refused(book, campus.researcher, campus.research, twice, WED, "10:00", "11:00").code
        == "equipment_repeated"
    )
    assert counts() == (0, 0, 0, 0)


# --- approval ---------------------------------------------------------------------------


def test_industrial_booking_is_pending_until_a_manager_decides(qualified):
    campus = qualified
    made = one(book(campus.industrial, campus.confidential, campus.hplc, IND, "14:00", "16:00"))
    assert made.status == PENDING
    assert made.priority == "industrial"
    assert audits(made, "create")[0].changes["status"] == [None, PENDING]
    # A pending request holds its slot.
    error = refused(book, campus.researcher, campus.research, campus.hplc, IND, "15:00", "16:00")
    assert (error.code, error.status) == ("conflict", 409)


def test_approval_is_per_equipment_its_manager_is_confirmed_at_once(qualified):
    campus = qualified
    campus.confidential.members.add(campus.eq_manager)
    # The HPLC's manager books it for an industrial project: no one to ask.
    on_hplc = one(book(campus.eq_manager, campus.confidential, campus.hplc, IND, "10:00", "12:00"))
    assert on_hplc.status == CONFIRMED
    # They do not manage the rheometer: there the same request waits.
    on_rheo = one(
        book(campus.eq_manager, campus.confidential, campus.rheometer, IND, "10:00", "12:00")
    )
    assert on_rheo.status == PENDING


def test_research_bookings_need_no_approval(qualified):
    made = one(
        book(qualified.researcher, qualified.research, qualified.hplc, WED, "10:00", "11:00")
    )
    assert made.status == CONFIRMED


# --- displacement -----------------------------------------------------------------------


def test_pedagogical_request_displaces_research_booking_beyond_the_notice(campus):
    research = one(
        book(campus.researcher, campus.research, campus.rheometer, FAR, "10:00", "12:00")
    )
    later = NOW + timedelta(hours=1)

    outcome = book(
        campus.teacher, campus.teaching, campus.rheometer, FAR, "09:00", "11:00", now=later
    )

    lesson = one(outcome)
    assert lesson.status == CONFIRMED
    assert lesson.priority == "pedagogical"
    assert [r.pk for r in outcome.displaced] == [research.pk]
    research.refresh_from_db()
    assert research.status == DISPLACED
    assert research.revision == 1
    assert research.status_changed_at == later
    (entry,) = audits(research, "displace")
    assert entry.by_id == campus.teacher.pk
    assert entry.changes == {"status": [CONFIRMED, DISPLACED]}
    assert entry.at == later
    assert entry.reason
    # Only the teaching booking holds the slot now.
    live = Reservation.objects.filter(status__in=[CONFIRMED, PENDING])
    assert list(live.values_list("pk", flat=True)) == [lesson.pk]


def test_pedagogical_request_inside_the_notice_is_a_plain_conflict(campus):
    research = one(
        book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    )
    before = counts()

    error = refused(book, campus.teacher, campus.teaching, campus.rheometer, WED, "09:00", "11:00")

    assert (error.code, error.status) == ("conflict", 409)
    assert error.extra["conflicts"] == [{"start": research.start, "end": research.end}]
    assert statuses(research) == [CONFIRMED]
    assert counts() == before


def test_the_preemption_notice_boundary(campus):
    # The notice ends on Monday 7 December 08:00 (14 local days after NOW).
    monday = date(2026, 12, 7)
    research = one(
        book(campus.researcher, campus.research, campus.rheometer, monday, "08:00", "09:00")
    )
    # Fifteen minutes later, that start is inside the notice: a conflict.
    error = refused(
        book,
        campus.teacher,
        campus.teaching,
        campus.rheometer,
        monday,
        "08:00",
        "10:00",
        now=NOW + timedelta(minutes=15),
    )
    assert error.code == "conflict"
    assert statuses(research) == [CONFIRMED]
    # Exactly at the notice: displaced.
    outcome = book(campus.teacher, campus.teaching, campus.rheometer, monday, "08:00", "10:00")
    assert [r.pk for r in outcome.displaced] == [research.pk]
    assert statuses(research) == [DISPLACED]


def test_pedagogical_request_over_another_pedagogical_one_displaces_nothing(campus, make_user):
    colleague = make_user("collegue")
    campus.teaching.members.add(colleague)
    lesson = one(book(campus.teacher, campus.teaching, campus.rheometer, FAR, "11:00", "12:00"))
    research = one(
        book(campus.researcher, campus.research, campus.rheometer, FAR, "10:00", "11:00")
    )
    error = refused(book, colleague, campus.teaching, campus.rheometer, FAR, "10:00", "12:00")
    assert error.code == "conflict"
    assert len(error.extra["conflicts"]) == 2
    assert statuses(lesson, research) == [CONFIRMED, CONFIRMED]


def test_research_request_never_displaces(campus):
    lesson = one(book(campus.teacher, campus.teaching, campus.rheometer, FAR, "10:00", "12:00"))
    error = refused(
        book, campus.researcher, campus.research, campus.rheometer, FAR, "11:00", "13:00"
    )
    assert error.code == "conflict"
    assert statuses(lesson) == [CONFIRMED]


# --- sessions ---------------------------------------------------------------------------


def test_session_books_every_equipment_together(qualified):
    campus = qualified
    outcome = book(
        campus.researcher,
        campus.research,
        [campus.hplc, campus.rheometer],
        WED,
        "10:00",
        "12:00",
    )
    assert outcome.session is not None
    assert outcome.series is None
    assert {r.equipment_id for r in outcome.reservations} == {campus.hplc.pk, campus.rheometer.pk}
    rows = Reservation.objects.filter(session=outcome.session)
    assert rows.count() == 2
    assert set(rows.values_list("status", flat=True)) == {CONFIRMED}
    assert AuditEntry.objects.filter(object_type="reservation", action="create").count() == 2


def test_session_is_all_or_nothing(qualified):
    campus = qualified
    taken = one(
        book(campus.researcher, campus.open_research, campus.rheometer, WED, "11:00", "12:00")
    )
    before = counts()

    error = refused(
        book,
        campus.researcher,
        campus.research,
        [campus.hplc, campus.rheometer],
        WED,
        "10:00",
        "12:00",
    )

    assert (error.code, error.status) == ("conflict", 409)
    assert error.extra["occurrences"] == [
        {
            "start": at(WED, "10:00"),
            "end": at(WED, "12:00"),
            "code": "conflict",
            "equipment": campus.rheometer.pk,
        }
    ]
    assert {"start": taken.start, "end": taken.end} in error.extra["conflicts"]
    # The free HPLC was not booked alone.
    assert counts() == before
    assert not Reservation.objects.filter(equipment=campus.hplc).exists()
    assert not Session.objects.exists()


def test_session_refused_for_another_rule_lists_the_equipment(campus):
    # Not trained on the HPLC: the rheometer is not booked either.
    error = refused(
        book,
        campus.researcher,
        campus.research,
        [campus.rheometer, campus.hplc],
        WED,
        "10:00",
        "12:00",
    )
    assert (error.code, error.status) == ("not_qualified", 400)
    assert [o["equipment"] for o in error.extra["occurrences"]] == [campus.hplc.pk]
    assert counts() == (0, 0, 0, 0)


# --- series -----------------------------------------------------------------------------


def test_series_skips_a_public_holiday(campus):
    # Monday 17 May 2027 is Whit Monday.
    outcome = book(
        campus.teacher,
        campus.teaching,
        campus.rheometer,
        date(2027, 5, 10),
        "09:00",
        "11:00",
        rrule="FREQ=WEEKLY;BYDAY=MO;COUNT=3",
    )
    days = [r.start.astimezone(PARIS).date() for r in outcome.reservations]
    assert days == [date(2027, 5, 10), date(2027, 5, 24)]
    assert outcome.skipped == [
        {
            "start": at(date(2027, 5, 17), "09:00"),
            "end": at(date(2027, 5, 17), "11:00"),
            "code": "closed",
        }
    ]
    assert outcome.series is not None
    assert outcome.series.rrule == "FREQ=WEEKLY;BYDAY=MO;COUNT=3"
    assert set(Reservation.objects.values_list("series_id", flat=True)) == {outcome.series.pk}
    assert Reservation.objects.count() == 2


def test_series_skips_a_closure_without_failing(campus):
    from reservations.services import closure_create

    closure_create(
        user=campus.admin,
        equipment=campus.rheometer,
        start=at(date(2027, 1, 12), "00:00"),
        end=at(date(2027, 1, 13), "00:00"),
        reason="Maintenance",
        now=NOW,
    )
    outcome = book(
        campus.teacher,
        campus.teaching,
        campus.rheometer,
        date(2027, 1, 5),
        "09:00",
        "11:00",
        rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=3",
    )
    assert [r.start.astimezone(PARIS).date() for r in outcome.reservations] == [
        date(2027, 1, 5),
        date(2027, 1, 19),
    ]
    assert [s["code"] for s in outcome.skipped] == ["closed"]


def teaching_series(campus, **extra: Any) -> BookingOutcome:
    return book(
        campus.teacher,
        campus.teaching,
        campus.rheometer,
        date(2027, 3, 16),
        "09:00",
        "11:00",
        rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=5",
        **extra,
    )


def test_series_refused_lists_every_failing_occurrence_and_writes_nothing(campus):
    blockers = [
        one(book(campus.teacher, campus.teaching, campus.rheometer, day, "10:00", "12:00"))
        for day in (date(2027, 3, 23), date(2027, 4, 6))
    ]
    before = counts()

    error = refused(teaching_series, campus)

    assert (error.code, error.status) == ("conflict", 409)
    assert error.extra["occurrences"] == [
        {"start": at(day, "09:00"), "end": at(day, "11:00"), "code": "conflict"}
        for day in (date(2027, 3, 23), date(2027, 4, 6))
    ]
    for blocker in blockers:
        assert {"start": blocker.start, "end": blocker.end} in error.extra["conflicts"]
    assert error.extra["alternatives"]
    assert counts() == before


def test_series_breaking_another_rule_answers_that_rule_and_lists_every_failure(campus):
    taken = one(
        book(
            campus.researcher,
            campus.open_research,
            campus.rheometer,
            date(2026, 12, 9),
            "10:00",
            "11:00",
        )
    )
    before = counts()
    # Weekly from 2 December: the 9 December conflicts, 27 January and 3 February are
    # beyond the 60-day research horizon.
    error = refused(
        book,
        campus.researcher,
        campus.research,
        campus.rheometer,
        WED,
        "10:00",
        "12:00",
        rrule="FREQ=WEEKLY;BYDAY=WE;COUNT=10",
    )
    assert (error.code, error.status) == ("beyond_horizon", 400)
    assert [
        (o["start"].astimezone(PARIS).date(), o["code"]) for o in error.extra["occurrences"]
    ] == [
        (date(2026, 12, 9), "conflict"),
        (date(2027, 1, 27), "beyond_horizon"),
        (date(2027, 2, 3), "beyond_horizon"),
    ]
    assert counts() == before
    assert statuses(taken) == [CONFIRMED]


def test_skip_conflicts_books_the_rest_and_lists_what_was_skipped(campus):
    for day in (date(2027, 3, 23), date(2027, 4, 6)):
        book(campus.teacher, campus.teaching, campus.rheometer, day, "10:00", "12:00")

    outcome = teaching_series(campus, skip_conflicts=True)

    assert [r.start.astimezone(PARIS).date() for r in outcome.reservations] == [
        date(2027, 3, 16),
        date(2027, 3, 30),
        date(2027, 4, 13),
    ]
    assert outcome.skipped == [
        {"start": at(day, "09:00"), "end": at(day, "11:00"), "code": "conflict"}
        for day in (date(2027, 3, 23), date(2027, 4, 6))
    ]
    assert Reservation.objects.filter(series=outcome.series).count() == 3


def test_skip_conflicts_skips_other_rules_too(campus):
    outcome = book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        WED,
        "10:00",
        "12:00",
        rrule="FREQ=WEEKLY;BYDAY=WE;COUNT=10",
        skip_conflicts=True,
    )
    # 23 and 30 December are school holidays, but the series did not ask to skip them.
    assert len(outcome.reservations) == 8
    assert [(s["start"].astimezone(PARIS).date(), s["code"]) for s in outcome.skipped] == [
        (date(2027, 1, 27), "beyond_horizon"),
        (date(2027, 2, 3), "beyond_horizon"),
    ]


def test_skip_conflicts_with_nothing_left_books_nothing(campus):
    book(campus.teacher, campus.teaching, campus.rheometer, date(2027, 3, 16), "09:00", "11:00")
    before = counts()
    error = refused(
        book,
        campus.teacher,
        campus.teaching,
        campus.rheometer,
        date(2027, 3, 16),
        "09:00",
        "11:00",
        rrule="FREQ=WEEKLY;COUNT=1",
        skip_conflicts=True,
    )
    assert error.code == "no_occurrence"
    assert [o["code"] for o in error.extra["occurrences"]] == ["conflict"]
    assert counts() == before


def test_skip_conflicts_does_not_apply_to_a_single_booking(campus):
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    error = refused(
        book,
        campus.researcher,
        campus.open_research,
        campus.rheometer,
        WED,
        "11:00",
        "12:00",
        skip_conflicts=True,
    )
    assert (error.code, error.status) == ("conflict", 409)
    assert Reservation.objects.count() == 1


def test_a_malformed_rrule_is_invalid_with_its_field(campus):
    error = refused(
        book,
        campus.teacher,
        campus.teaching,
        campus.rheometer,
        date(2027, 1, 5),
        "09:00",
        "11:00",
        rrule="FREQ=MONTHLY;COUNT=3",
    )
    assert error.code == "invalid"
    assert "recurrence.rrule" in error.extra["fields"]
    assert counts() == (0, 0, 0, 0)


# --- override ---------------------------------------------------------------------------


def test_manager_override_is_explicit_and_recorded_in_the_audit(qualified):
    campus = qualified
    campus.open_research.members.add(campus.eq_manager)
    error = refused(
        book, campus.eq_manager, campus.open_research, campus.hplc, WED, "18:00", "20:00"
    )
    assert error.code == "outside_opening_hours"

    made = one(
        book(
            campus.eq_manager,
            campus.open_research,
            campus.hplc,
            WED,
            "18:00",
            "20:00",
            override=True,
        )
    )

    assert made.status == CONFIRMED
    (entry,) = audits(made, "create")
    assert entry.overridden == ["outside_opening_hours"]
    assert entry.by_id == campus.eq_manager.pk


def test_override_lists_every_lifted_rule(campus):
    # A platform manager, not a member of the project, books outside opening hours on a
    # Saturday: both rules are lifted and recorded.
    saturday = date(2026, 12, 5)
    made = one(
        book(
            campus.admin,
            campus.research,
            campus.rheometer,
            saturday,
            "10:00",
            "12:00",
            override=True,
        )
    )
    assert audits(made, "create")[0].overridden == ["not_project_member", "outside_opening_hours"]


def test_override_is_only_for_the_equipment_managers(qualified):
    campus = qualified
    error = refused(
        book,
        campus.researcher,
        campus.research,
        campus.hplc,
        WED,
        "18:00",
        "20:00",
        override=True,
    )
    assert (error.code, error.status) == ("permission_denied", 403)
    # Managing one equipment of a session is not enough.
    campus.research.members.add(campus.eq_manager)
    error = refused(
        book,
        campus.eq_manager,
        campus.research,
        [campus.hplc, campus.rheometer],
        WED,
        "18:00",
        "20:00",
        override=True,
    )
    assert (error.code, error.status) == ("permission_denied", 403)
    assert counts() == (0, 0, 0, 0)


def test_override_never_lifts_a_conflict_or_the_past(campus):
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    error = refused(
        book, campus.admin, campus.research, campus.rheometer, WED, "11:00", "12:00", override=True
    )
    assert (error.code, error.status) == ("conflict", 409)
    error = refused(
        book,
        campus.admin,
        campus.research,
        campus.rheometer,
        date(2026, 11, 20),
        "10:00",
        "11:00",
        override=True,
    )
    assert error.code == "in_past"
    assert Reservation.objects.count() == 1


def test_an_override_lifts_rules_in_the_alternatives_only_on_equipment_the_manager_manages(
    qualified,
):
    """A manager overriding on their HPLC is offered their HPLC at other times, never a
    twin they do not manage that the rules refuse them (here: in maintenance)."""
    campus = qualified
    twin = equipment_create(
        actor=SYSTEM,
        code="WL-HPLC-02",
        name="Seconde chaîne HPLC",
        category=campus.chroma,
        site=campus.site,
        status="maintenance",
    )
    campus.open_research.members.add(campus.eq_manager)
    book(campus.researcher, campus.research, campus.hplc, WED, "10:00", "12:00")
    error = refused(
        book,
        campus.eq_manager,
        campus.open_research,
        campus.hplc,
        WED,
        "10:00",
        "12:00",
        override=True,
    )
    assert (error.code, error.status) == ("conflict", 409)
    offered = {a["equipment"] for a in error.extra["alternatives"]}
    assert campus.hplc.pk in offered
    assert twin.pk not in offered
    # The platform manager manages every equipment: the twin's rules are lifted for them.
    campus.open_research.members.add(campus.admin)
    error = refused(
        book, campus.admin, campus.open_research, campus.hplc, WED, "10:00", "12:00", override=True
    )
    assert twin.pk in {a["equipment"] for a in error.extra["alternatives"]}


# --- membership -------------------------------------------------------------------------


def test_not_project_member(campus):
    error = refused(
        book, campus.outsider, campus.open_research, campus.rheometer, WED, "10:00", "12:00"
    )
    assert (error.code, error.status) == ("not_project_member", 400)
    assert counts() == (0, 0, 0, 0)
    # A member and the leader may book.
    campus.open_research.members.add(campus.outsider)
    one(book(campus.outsider, campus.open_research, campus.rheometer, WED, "10:00", "11:00"))
    one(book(campus.researcher, campus.open_research, campus.rheometer, WED, "11:00", "12:00"))


def test_membership_of_another_project_does_not_count(campus):
    # The teacher leads a project of another partner, not this one.
    error = refused(book, campus.teacher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    assert error.code == "not_project_member"


# --- reservation_update -----------------------------------------------------------------


def test_move_to_a_free_slot(campus):
    mine = one(book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"))
    later = NOW + timedelta(hours=2)

    moved = reservation_update(
        reservation=mine,
        user=campus.researcher,
        now=later,
        start=at(THU, "14:00"),
        end=at(THU, "16:00"),
    )

    row = Reservation.objects.get(pk=mine.pk)
    assert (row.start, row.end, row.blocked_until) == (
        at(THU, "14:00"),
        at(THU, "16:00"),
        at(THU, "16:00"),
    )
    assert row.revision == moved.revision == 1
    assert row.updated_at == later
    assert row.status == CONFIRMED
    (entry,) = audits(mine, "move")
    assert entry.changes == {
        "start": [as_json(at(WED, "10:00")), as_json(at(THU, "14:00"))],
        "end": [as_json(at(WED, "12:00")), as_json(at(THU, "16:00"))],
    }
    assert entry.by_id == campus.researcher.pk
    assert entry.at == later
    # The old slot is free again.
    one(book(campus.researcher, campus.open_research, campus.rheometer, WED, "10:00", "12:00"))


def test_move_overlapping_its_own_slot_is_not_a_conflict(campus):
    mine = one(book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"))
    reservation_update(
        reservation=mine,
        user=campus.researcher,
        now=NOW,
        start=at(WED, "11:00"),
        end=at(WED, "13:00"),
    )
    assert Reservation.objects.get(pk=mine.pk).start == at(WED, "11:00")


def test_move_onto_another_booking_is_a_conflict_and_changes_nothing(campus):
    mine = one(book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"))
    other = one(
        book(campus.researcher, campus.open_research, campus.rheometer, WED, "14:00", "15:00")
    )
    before = counts()

    error = refused(
        reservation_update,
        reservation=mine,
        user=campus.researcher,
        now=NOW,
        start=at(WED, "13:00"),
        end=at(WED, "15:00"),
    )

    assert (error.code, error.status) == ("conflict", 409)
    assert error.extra["conflicts"] == [{"start": other.start, "end": other.end}]
    row = Reservation.objects.get(pk=mine.pk)
    assert (row.start, row.end, row.revision) == (at(WED, "10:00"), at(WED, "12:00"), 0)
    assert counts() == before


def test_move_applies_every_rule_again(campus):
    mine = one(book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"))
    error = refused(
        reservation_update,
        reservation=mine,
        user=campus.researcher,
        now=NOW,
        start=at(WED, "18:00"),
        end=at(WED, "20:00"),
    )
    assert error.code == "outside_opening_hours"
    error = refused(
        reservation_update,
        reservation=mine,
        user=campus.researcher,
        now=NOW,
        start=at(date(2027, 2, 3), "10:00"),
        end=at(date(2027, 2, 3), "12:00"),
    )
    assert error.code == "beyond_horizon"
    assert Reservation.objects.get(pk=mine.pk).revision == 0


def test_a_pedagogical_move_displaces_research_beyond_the_notice(campus):
    lesson = one(book(campus.teacher, campus.teaching, campus.rheometer, FAR, "08:00", "09:00"))
    research = one(
        book(campus.researcher, campus.research, campus.rheometer, FAR, "10:00", "12:00")
    )
    reservation_update(
        reservation=lesson,
        user=campus.teacher,
        now=NOW,
        start=at(FAR, "09:00"),
        end=at(FAR, "11:00"),
    )
    assert statuses(lesson, research) == [CONFIRMED, DISPLACED]
    assert audits(research, "displace")[0].by_id == campus.teacher.pk


def test_changing_the_title_is_not_a_move(campus):
    mine = one(book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"))
    reservation_update(reservation=mine, user=campus.researcher, now=NOW, title="  Nouveau  ")
    row = Reservation.objects.get(pk=mine.pk)
    assert (row.title, row.revision, row.start) == ("Nouveau", 1, at(WED, "10:00"))
    assert audits(mine, "move") == []
    error = refused(
        reservation_update, reservation=mine, user=campus.researcher, now=NOW, title=" "
    )
    assert error.code == "invalid"


def test_move_permission_and_status(campus):
    mine = one(book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"))
    error = refused(
        reservation_update,
        reservation=mine,
        user=campus.outsider,
        now=NOW,
        start=at(WED, "14:00"),
        end=at(WED, "16:00"),
    )
    assert (error.code, error.status) == ("permission_denied", 403)
    # A referent of the project's partner can.
    reservation_update(
        reservation=mine,
        user=campus.referent,
        now=NOW,
        start=at(WED, "14:00"),
        end=at(WED, "16:00"),
    )
    assert Reservation.objects.get(pk=mine.pk).start == at(WED, "14:00")
    reservation_cancel(reservation=mine, user=campus.researcher, now=NOW)
    mine.refresh_from_db()
    error = refused(
        reservation_update,
        reservation=mine,
        user=campus.researcher,
        now=NOW,
        start=at(WED, "10:00"),
        end=at(WED, "12:00"),
    )
    assert error.code == "not_live"
    assert Reservation.objects.get(pk=mine.pk).status == CANCELLED


def test_override_on_a_move_is_for_managers_and_recorded(campus):
    mine = one(book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"))
    evening = {"start": at(WED, "18:00"), "end": at(WED, "20:00")}
    error = refused(
        reservation_update,
        reservation=mine,
        user=campus.researcher,
        now=NOW,
        override=True,
        **evening,
    )
    assert (error.code, error.status) == ("permission_denied", 403)
    reservation_update(reservation=mine, user=campus.admin, now=NOW, override=True, **evening)
    assert Reservation.objects.get(pk=mine.pk).start == at(WED, "18:00")
    assert audits(mine, "move")[0].overridden == ["outside_opening_hours"]


# --- reservation_cancel -----------------------------------------------------------------


def test_cancel_this(campus):
    mine = one(book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"))
    later = NOW + timedelta(hours=1)
    cancelled = reservation_cancel(
        reservation=mine, user=campus.researcher, now=later, reason="Plus besoin"
    )
    assert [r.pk for r in cancelled] == [mine.pk]
    row = Reservation.objects.get(pk=mine.pk)
    assert (row.status, row.revision, row.status_changed_at) == (CANCELLED, 1, later)
    (entry,) = audits(mine, "cancel")
    assert (entry.changes, entry.reason) == ({"status": [CONFIRMED, CANCELLED]}, "Plus besoin")
    # The slot is free again; cancelling twice is refused.
    one(book(campus.researcher, campus.open_research, campus.rheometer, WED, "10:00", "12:00"))
    mine.refresh_from_db()
    assert refused(
        reservation_cancel, reservation=mine, user=campus.researcher, now=later
    ).code == ("not_live")


def test_a_started_reservation_cannot_be_cancelled_but_a_pending_one_can(qualified):
    campus = qualified
    mine = one(book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"))
    started = at(WED, "10:00")
    error = refused(reservation_cancel, reservation=mine, user=campus.researcher, now=started)
    assert error.code == "started"
    assert statuses(mine) == [CONFIRMED]
    request = one(book(campus.industrial, campus.confidential, campus.hplc, IND, "10:00", "12:00"))
    reservation_cancel(reservation=request, user=campus.industrial, now=at(IND, "11:00"))
    assert statuses(request) == [CANCELLED]


def test_cancel_permission_and_scope(campus):
    mine = one(book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00"))
    error = refused(reservation_cancel, reservation=mine, user=campus.outsider, now=NOW)
    assert (error.code, error.status) == ("permission_denied", 403)
    error = refused(
        reservation_cancel, reservation=mine, user=campus.researcher, now=NOW, scope="all"
    )
    assert error.code == "bad_scope"
    assert statuses(mine) == [CONFIRMED]
    # "following" on a single reservation cancels just it.
    assert [
        r.pk
        for r in reservation_cancel(
            reservation=mine, user=campus.researcher, now=NOW, scope="following"
        )
    ] == [mine.pk]


def five_tuesdays(campus) -> list[Reservation]:
    outcome = book(
        campus.teacher,
        campus.teaching,
        campus.rheometer,
        date(2027, 1, 5),
        "09:00",
        "11:00",
        rrule="FREQ=WEEKLY;BYDAY=TU;COUNT=5",
    )
    return sorted(outcome.reservations, key=lambda r: r.start)


def test_cancel_one_occurrence_of_a_series(campus):
    series = five_tuesdays(campus)
    cancelled = reservation_cancel(reservation=series[1], user=campus.teacher, now=NOW)
    assert [r.pk for r in cancelled] == [series[1].pk]
    assert statuses(*series) == [CONFIRMED, CANCELLED, CONFIRMED, CONFIRMED, CONFIRMED]


def test_cancel_following_then_the_series(campus):
    series = five_tuesdays(campus)
    following = reservation_cancel(
        reservation=series[2], user=campus.teacher, now=NOW, scope="following", reason="Fin"
    )
    assert sorted(r.pk for r in following) == [r.pk for r in series[2:]]
    assert statuses(*series) == [CONFIRMED] * 2 + [CANCELLED] * 3
    assert (
        AuditEntry.objects.filter(object_type="reservation", action="cancel", reason="Fin").count()
        == 3
    )

    whole = reservation_cancel(reservation=series[0], user=campus.teacher, now=NOW, scope="series")
    assert sorted(r.pk for r in whole) == [r.pk for r in series[:2]]
    assert statuses(*series) == [CANCELLED] * 5
    # Each occurrence was cancelled once.
    assert AuditEntry.objects.filter(object_type="reservation", action="cancel").count() == 5


def test_cancel_the_series_leaves_started_occurrences(campus):
    series = five_tuesdays(campus)
    # During the second occurrence: the first two have started.
    during = at(date(2027, 1, 12), "10:00")
    whole = reservation_cancel(
        reservation=series[3], user=campus.teacher, now=during, scope="series"
    )
    assert sorted(r.pk for r in whole) == [r.pk for r in series[2:]]
    assert statuses(*series) == [CONFIRMED] * 2 + [CANCELLED] * 3


# --- approve and reject -----------------------------------------------------------------


@pytest.fixture
def request_(qualified) -> Reservation:
    campus = qualified
    return one(book(campus.industrial, campus.confidential, campus.hplc, IND, "14:00", "16:00"))


def test_approve(qualified, request_):
    campus = qualified
    later = NOW + timedelta(hours=3)
    approved = reservation_approve(reservation=request_, user=campus.eq_manager, now=later)
    row = Reservation.objects.get(pk=request_.pk)
    assert row.status == approved.status == CONFIRMED
    assert (row.revision, row.status_changed_at) == (1, later)
    (entry,) = audits(request_, "approve")
    assert (entry.changes, entry.by_id) == ({"status": [PENDING, CONFIRMED]}, campus.eq_manager.pk)
    # Only pending requests are decided.
    error = refused(reservation_approve, reservation=row, user=campus.eq_manager, now=later)
    assert error.code == "not_pending"
    error = refused(
        reservation_reject, reservation=row, user=campus.eq_manager, now=later, reason="Non"
    )
    assert error.code == "not_pending"
    assert statuses(row) == [CONFIRMED]


@pytest.mark.parametrize("reason", ["", "   "])
def test_reject_requires_a_reason(qualified, request_, reason):
    error = refused(
        reservation_reject, reservation=request_, user=qualified.eq_manager, now=NOW, reason=reason
    )
    assert (error.code, error.status) == ("required", 400)
    assert "reason" in error.extra["fields"]
    assert statuses(request_) == [PENDING]
    assert audits(request_, "reject") == []


def test_reject_with_a_reason_frees_the_slot(qualified, request_):
    campus = qualified
    rejected = reservation_reject(
        reservation=request_, user=campus.eq_manager, now=NOW, reason="  Appareil réservé  "
    )
    assert rejected.status == ReservationStatus.REJECTED
    (entry,) = audits(request_, "reject")
    assert entry.reason == "Appareil réservé"
    assert entry.changes == {"status": [PENDING, ReservationStatus.REJECTED]}
    one(book(campus.researcher, campus.research, campus.hplc, IND, "14:00", "16:00"))


def test_only_managers_decide(qualified, request_):
    campus = qualified
    for user in (campus.industrial, campus.researcher, campus.referent):
        error = refused(reservation_approve, reservation=request_, user=user, now=NOW)
        assert (error.code, error.status) == ("permission_denied", 403)
        error = refused(reservation_reject, reservation=request_, user=user, now=NOW, reason="x")
        assert (error.code, error.status) == ("permission_denied", 403)
    assert statuses(request_) == [PENDING]
    # A platform manager decides on any equipment.
    reservation_approve(reservation=request_, user=campus.admin, now=NOW)
    assert statuses(request_) == [CONFIRMED]
