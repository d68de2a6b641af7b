"""Check-in, check-out, no-shows and reminders."""

from __future__ import annotations

from datetime import datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import translation

from core.roles import SYSTEM
from equipment.services import equipment_update
from reservations.exceptions import BookingError
from reservations.services import (
    release_no_shows,
    reservation_check_in,
    reservation_check_out,
    reservation_create,
)
from tests.conftest import reservation_row

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
BOOKED_AT = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
START = datetime(2026, 11, 25, 9, 0, tzinfo=PARIS)


def book(campus, *, hours: int):
    """A research booking of the rheometer from START, made two days ahead."""
    return reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=[campus.rheometer],
        start=START,
        end=START + timedelta(hours=hours),
        title="Mesures",
        now=BOOKED_AT,
    )


@pytest.fixture
def booking(campus):
    equipment_update(actor=SYSTEM, equipment=campus.rheometer, requires_check_in=True)
    return book(campus, hours=3).reservations[0]


def test_check_in_window_opens_at_the_grace_before_start(campus, booking):
    with pytest.raises(BookingError) as early:
        reservation_check_in(
            reservation=booking, user=campus.researcher, now=START - timedelta(minutes=31)
        )
    assert early.value.code == "check_in_closed"
    usage = reservation_check_in(
        reservation=booking, user=campus.researcher, now=START - timedelta(minutes=30)
    )
    assert usage.checked_in_at == START


def test_outsider_cannot_check_in(campus, booking):
    with pytest.raises(BookingError) as error:
        reservation_check_in(reservation=booking, user=campus.outsider, now=START)
    assert error.value.status == 403


def test_early_check_out_completes_and_frees_the_rest_of_the_slot(campus, booking):
    reservation_check_in(reservation=booking, user=campus.researcher, now=START)
    usage = reservation_check_out(
        reservation=booking, user=campus.researcher, now=START + timedelta(hours=1)
    )
    assert usage.checked_out_at == START + timedelta(hours=1)
    booking.refresh_from_db()
    assert booking.status == "completed"
    # The rest of the slot can be booked again.
    later = reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=[campus.rheometer],
        start=START + timedelta(hours=2),
        end=START + timedelta(hours=3),
        title="Suite",
        now=START + timedelta(hours=1),
    )
    assert later.reservations[0].status == "confirmed"


def test_no_show_after_grace_only_on_check_in_equipment(campus, booking):
    assert release_no_shows(now=START + timedelta(minutes=29)) == {"no_show": 0, "completed": 0}
    assert release_no_shows(now=START + timedelta(minutes=31)) == {"no_show": 1, "completed": 0}
    booking.refresh_from_db()
    assert booking.status == "no_show"
    assert booking.audit.filter(action="no_show").exists()


def test_ended_reservation_without_check_in_requirement_completes(campus):
    booked = book(campus, hours=2).reservations[0]
    assert release_no_shows(now=START + timedelta(hours=1)) == {"no_show": 0, "completed": 0}
    assert release_no_shows(now=START + timedelta(hours=2)) == {"no_show": 0, "completed": 1}
    booked.refresh_from_db()
    assert booked.status == "completed"


def test_reminders_email_tomorrows_bookers(campus, monkeypatch):
    """The command: tomorrow is the local day after now, and it says what it sent."""
    campus.researcher.email = "claire@example.org"
    campus.researcher.save()
    book(campus, hours=2)
    mail.outbox.clear()
    monkeypatch.setattr("django.utils.timezone.now", lambda: START - timedelta(hours=12))
    out = StringIO()
    with translation.override("en"):
        call_command("send_reminders", stdout=out)
    assert out.getvalue().strip() == "1 reminder for 1 reservation on 11/25/2026."
    assert [m.to for m in mail.outbox] == [["claire@example.org"]]
    assert "Mesures" in mail.outbox[0].body


def test_reminders_cover_exactly_tomorrows_confirmed_reservations(campus, make_user):
    """Tomorrow in Paris: 00:30 on the 25th is 23:30 UTC on the 24th and is included; today,
    the day after tomorrow and pending requests are not."""
    from notifications.services import send_reminders

    def booking(day: int, hour: int, minute: int = 0, *, status: str = "confirmed"):
        user = make_user(f"u{day}{hour}{minute}{status[0]}", email=f"u{day}{hour}{minute}@x.org")
        campus.open_research.members.add(user)
        start = datetime(2026, 11, day, hour, minute, tzinfo=PARIS)
        return reservation_row(
            campus,
            start,
            30,
            project=campus.open_research,
            booked_by=user,
            title="Rappel",
            status=status,
            at=BOOKED_AT,
        )

    early = booking(25, 0, 30)
    late = booking(25, 23, 30)
    booking(24, 23, 0)  # today
    booking(26, 0, 0)  # the day after tomorrow
    booking(25, 10, status="pending")
    mail.outbox.clear()
    sent, items = send_reminders(now=datetime(2026, 11, 24, 8, 0, tzinfo=PARIS))
    assert [r.pk for r in items] == [early.pk, late.pk]
    assert sent == 2
    assert sorted(m.to[0] for m in mail.outbox) == ["u25030@x.org", "u252330@x.org"]


def test_release_command_prints_a_summary(campus, booking, monkeypatch):
    monkeypatch.setattr(
        "reservations.management.commands.release_no_shows.timezone.now",
        lambda: START + timedelta(hours=1),
    )
    out = StringIO()
    with translation.override("en"):
        call_command("release_no_shows", stdout=out)
    assert out.getvalue().strip() == "1 no-show, 0 completed."


# --- past the grace, a no-show before the command runs (SPEC §5) -------------------------


def test_check_in_after_the_grace_is_refused_as_a_no_show(campus, booking):
    with pytest.raises(BookingError) as late:
        reservation_check_in(
            reservation=booking, user=campus.researcher, now=START + timedelta(minutes=30)
        )
    assert late.value.code == "no_show"
    booking.refresh_from_db()
    assert booking.status == "no_show"
    assert booking.audit.filter(action="no_show").count() == 1


def test_booking_the_rest_of_a_no_show_slot_before_the_command_runs(campus, booking):
    """The slot of an unchecked reservation is free once its grace is over."""
    later = reservation_create(
        user=campus.researcher,
        project=campus.open_research,
        equipment=[campus.rheometer],
        start=START + timedelta(hours=2),
        end=START + timedelta(hours=3),
        title="Créneau libéré",
        # Within the grace (29 min): still busy. Past it: free.
        now=START + timedelta(minutes=31),
    )
    booking.refresh_from_db()
    assert booking.status == "no_show"
    assert later.reservations[0].status == "confirmed"


def test_booking_inside_the_grace_still_conflicts(campus, booking):
    with pytest.raises(BookingError) as error:
        reservation_create(
            user=campus.researcher,
            project=campus.open_research,
            equipment=[campus.rheometer],
            start=START + timedelta(hours=2),
            end=START + timedelta(hours=3),
            title="Trop tôt",
            now=START + timedelta(minutes=29),
        )
    assert error.value.code == "conflict"
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_api_reads_a_reservation_past_its_grace_as_no_show(
    campus, booking, client_for, monkeypatch
):
    from reservations.api import booking as api

    client = client_for(campus.researcher)
    monkeypatch.setattr(api.timezone, "now", lambda: START + timedelta(minutes=10))
    assert client.get(f"/api/v1/reservations/{booking.pk}/").json()["status"] == "confirmed"
    monkeypatch.setattr(api.timezone, "now", lambda: START + timedelta(minutes=30))
    body = client.get(f"/api/v1/reservations/{booking.pk}/").json()
    assert body["status"] == "no_show"
    listed = client.get("/api/v1/reservations/", {"status": "no_show"}).json()
    assert [r["id"] for r in listed["results"]] == [booking.pk]
    # Its slot is free in the availability at once.
    window = {"start": START.isoformat(), "end": (START + timedelta(hours=3)).isoformat()}
    availability = client.get(
        f"/api/v1/equipment/{campus.rheometer.pk}/availability/", window
    ).json()
    assert [b for b in availability["busy"] if b["kind"] == "reservation"] == []


def test_the_list_alone_reads_a_reservation_past_its_grace_as_no_show(
    campus, booking, client_for, monkeypatch, django_assert_num_queries
):
    """The list's no-show probe goes with its first page; when it finds one past its
    grace, the no-show is recorded and the page read again."""
    from reservations.api import booking as api

    client = client_for(campus.researcher)
    monkeypatch.setattr(api.timezone, "now", lambda: START + timedelta(minutes=10))
    with django_assert_num_queries(2):
        listed = client.get("/api/v1/reservations/").json()
    assert [(r["id"], r["status"]) for r in listed["results"]] == [(booking.pk, "confirmed")]
    monkeypatch.setattr(api.timezone, "now", lambda: START + timedelta(minutes=30))
    for query in ({}, {"status": "confirmed"}, {"status": "no_show"}):
        listed = client.get("/api/v1/reservations/", query).json()
        shown = [(r["id"], r["status"]) for r in listed["results"]]
        assert shown == ([] if query == {"status": "confirmed"} else [(booking.pk, "no_show")])
    booking.refresh_from_db()
    assert booking.status == "no_show" and booking.revision == 1  # recorded once


def test_a_started_reservation_cannot_be_cancelled(campus, booking):
    """Its hours are used, completed or a no-show: billed, never cancelled (SPEC §5)."""
    from reservations.services import reservation_cancel

    for now in (START, START + timedelta(minutes=45)):
        with pytest.raises(BookingError) as error:
            reservation_cancel(reservation=booking, user=campus.researcher, now=now)
        assert error.value.code == "started"
    booking.refresh_from_db()
    assert booking.status != "cancelled"
    # Before its start it can.
    (cancelled,) = reservation_cancel(
        reservation=booking, user=campus.researcher, now=START - timedelta(minutes=1)
    )
    assert cancelled.status == "cancelled"
