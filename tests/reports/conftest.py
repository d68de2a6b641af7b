"""Known reservations for the report tests, with the figures they must give.

Rows are written with the ORM, as a history the booking service would refuse to write
today (past times, a night across the daylight-saving change). Every row is consistent:
status, status change time, check-in record.

The scenario, window [2026-03-01, 2026-11-01) local, read at NOW = 2026-11-15:
rates: HPLC teaching 5, academic 30, industrial 120 €/h (check-in required, late
cancellation threshold 48 h); rheometer teaching 2, academic 10, industrial 40 €/h.

  A  rheometer, research (Orléans), researcher, 02-28 22:00 – 03-01 02:00, completed:
     clipped at the window's start to 2 h; its month is March (local).
  B  rheometer, teaching (lycée), teacher, 10-31 23:00 – 11-01 01:00, completed: 1 h.
  C  rheometer, research, researcher, 10-25 01:00 – 04:00 local, completed: 4 real hours
     across the autumn change.
  D  rheometer, open research (Orléans), researcher, 03-29 01:00 – 04:00 local, no_show:
     2 real hours across the spring change.
  E  HPLC, industrial (Servier), industrial, 06-10 09:00 – 12:00, completed, checked in
     09:20 – 11:05: 3 h booked, 1.75 h used.
  F  HPLC, research, researcher, 06-11 09:00 – 11:00, confirmed, never checked in: a
     no-show by the grace, though release_no_shows never ran.
  G  HPLC, research, researcher, 06-12 14:00 – 16:00, cancelled 28 h before: late (48 h).
  H  rheometer, research, researcher, 06-12 14:00 – 16:00, cancelled 28 h before: not
     late (24 h).
  I  rheometer, research, researcher, 06-15 10:00 – 12:00, displaced by J.
  J  rheometer, teaching, teacher, 06-15 10:00 – 12:00, confirmed and ended: completed.
  K  HPLC, teaching, teacher, 06-16 09:00 – 10:00, pending.
  L  rheometer, research, researcher, 07-01 10:00 – 11:00, rejected: never counted.
  M  HPLC, research, a PhD student, 06-17 09:00 – 11:00, completed, checked in at 09:00
     and never out: used until its end.
  N  rheometer, research, researcher, 2026-02-02: outside the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.roles import SYSTEM
from equipment.services import equipment_update
from reports.services import Scope
from reservations.models import Reservation, UsageRecord

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 15, 12, 0, tzinfo=PARIS)
START = datetime(2026, 3, 1, tzinfo=PARIS)
END = datetime(2026, 11, 1, tzinfo=PARIS)
EVERYTHING = Scope(everything=True)


def at(day: str, hhmm: str) -> datetime:
    """A local time in Europe/Paris (fold 0: the first of an ambiguous hour)."""
    hours, minutes = (int(x) for x in hhmm.split(":"))
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=PARIS).replace(
        hour=hours, minute=minutes
    )


def reserve(
    *,
    equipment: Any,
    project: Any,
    user: Any,
    start: datetime,
    end: datetime,
    status: str = "completed",
    changed: datetime | None = None,
    checked_in: datetime | None = None,
    checked_out: datetime | None = None,
    title: str = "Mesures",
) -> Reservation:
    created = start - timedelta(days=10)
    reservation = Reservation.objects.create(
        equipment=equipment,
        project=project,
        booked_by=user,
        start=start,
        end=end,
        blocked_until=end,
        title=title,
        status=status,
        priority=project.kind,
        status_changed_at=changed or (end if status == "completed" else created),
        created_at=created,
        updated_at=changed or created,
    )
    if checked_in is not None:
        UsageRecord.objects.create(
            reservation=reservation,
            checked_in_at=checked_in,
            checked_in_by=user,
            checked_out_at=checked_out,
            checked_out_by=user if checked_out else None,
        )
    return reservation


@dataclass
class Scenario:
    campus: Any
    student: Any
    r: dict[str, Reservation]


@pytest.fixture
def rates(campus):
    equipment_update(
        actor=SYSTEM,
        equipment=campus.hplc,
        requires_check_in=True,
        policy={"late_cancellation_hours": 48},
    )
    equipment_update(
        actor=SYSTEM,
        equipment=campus.rheometer,
        rates={"teaching": 2, "academic": 10, "industrial": 40},
    )
    campus.hplc.refresh_from_db()
    campus.rheometer.refresh_from_db()
    return campus


@pytest.fixture
def scenario(rates, make_user) -> Scenario:
    c = rates
    student = make_user("doctorant", first_name="Inès", last_name="Martin")
    c.research.members.add(student)
    rheo, hplc = c.rheometer, c.hplc
    r: dict[str, Reservation] = {}
    r["A"] = reserve(
        equipment=rheo,
        project=c.research,
        user=c.researcher,
        start=at("2026-02-28", "22:00"),
        end=at("2026-03-01", "02:00"),
    )
    r["B"] = reserve(
        equipment=rheo,
        project=c.teaching,
        user=c.teacher,
        start=at("2026-10-31", "23:00"),
        end=at("2026-11-01", "01:00"),
    )
    r["C"] = reserve(
        equipment=rheo,
        project=c.research,
        user=c.researcher,
        start=at("2026-10-25", "01:00"),
        end=at("2026-10-25", "04:00"),
    )
    r["D"] = reserve(
        equipment=rheo,
        project=c.open_research,
        user=c.researcher,
        start=at("2026-03-29", "01:00"),
        end=at("2026-03-29", "04:00"),
        status="no_show",
        changed=at("2026-03-29", "01:30"),
    )
    r["E"] = reserve(
        equipment=hplc,
        project=c.confidential,
        user=c.industrial,
        start=at("2026-06-10", "09:00"),
        end=at("2026-06-10", "12:00"),
        checked_in=at("2026-06-10", "09:20"),
        checked_out=at("2026-06-10", "11:05"),
        changed=at("2026-06-10", "11:05"),
    )
    r["F"] = reserve(
        equipment=hplc,
        project=c.research,
        user=c.researcher,
        start=at("2026-06-11", "09:00"),
        end=at("2026-06-11", "11:00"),
        status="confirmed",
    )
    r["G"] = reserve(
        equipment=hplc,
        project=c.research,
        user=c.researcher,
        start=at("2026-06-12", "14:00"),
        end=at("2026-06-12", "16:00"),
        status="cancelled",
        changed=at("2026-06-11", "10:00"),
    )
    r["H"] = reserve(
        equipment=rheo,
        project=c.research,
        user=c.researcher,
        start=at("2026-06-12", "14:00"),
        end=at("2026-06-12", "16:00"),
        status="cancelled",
        changed=at("2026-06-11", "10:00"),
    )
    r["I"] = reserve(
        equipment=rheo,
        project=c.research,
        user=c.researcher,
        start=at("2026-06-15", "10:00"),
        end=at("2026-06-15", "12:00"),
        status="displaced",
        changed=at("2026-05-20", "08:00"),
    )
    r["J"] = reserve(
        equipment=rheo,
        project=c.teaching,
        user=c.teacher,
        start=at("2026-06-15", "10:00"),
        end=at("2026-06-15", "12:00"),
        status="confirmed",
    )
    r["K"] = reserve(
        equipment=hplc,
        project=c.teaching,
        user=c.teacher,
        start=at("2026-06-16", "09:00"),
        end=at("2026-06-16", "10:00"),
        status="pending",
    )
    r["L"] = reserve(
        equipment=rheo,
        project=c.research,
        user=c.researcher,
        start=at("2026-07-01", "10:00"),
        end=at("2026-07-01", "11:00"),
        status="rejected",
    )
    r["M"] = reserve(
        equipment=hplc,
        project=c.research,
        user=student,
        start=at("2026-06-17", "09:00"),
        end=at("2026-06-17", "11:00"),
        checked_in=at("2026-06-17", "09:00"),
    )
    r["N"] = reserve(
        equipment=rheo,
        project=c.research,
        user=c.researcher,
        start=at("2026-02-02", "09:00"),
        end=at("2026-02-02", "11:00"),
    )
    return Scenario(campus=c, student=student, r=r)


def figures(
    reservations: int,
    booked: str,
    used: str,
    billable: str,
    no_shows: int,
    cancellations: int,
    late: int,
    displaced: int,
    users: int,
    amount: str,
) -> dict[str, Any]:
    return {
        "reservations": reservations,
        "booked_hours": Decimal(booked),
        "used_hours": Decimal(used),
        "billable_hours": Decimal(billable),
        "no_shows": no_shows,
        "cancellations": cancellations,
        "late_cancellations": late,
        "displaced": displaced,
        "users": users,
        "amount": Decimal(amount),
    }


# The scenario per partner (see the module docstring for the arithmetic).
ORLEANS = figures(5, "12.00", "8.00", "12.00", 2, 2, 1, 1, 2, "200.00")
SERVIER = figures(1, "3.00", "1.75", "1.75", 0, 0, 0, 0, 1, "210.00")
LYCEE = figures(3, "3.00", "3.00", "3.00", 0, 0, 0, 0, 1, "6.00")
TOTALS = figures(9, "18.00", "12.75", "16.75", 2, 2, 1, 1, 4, "416.00")


@pytest.fixture
def frozen(monkeypatch):
    """The API and the page read the clock: stop it at NOW."""
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


def as_json(values: dict[str, Any]) -> dict[str, Any]:
    """Figures as the JSON answer has them: numbers, not Decimals."""
    return {k: float(v) if isinstance(v, Decimal) else v for k, v in values.items()}
