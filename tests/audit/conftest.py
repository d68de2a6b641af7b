"""A trail with entries on two equipment, three kinds of closures, policies and projects."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from core.roles import SYSTEM
from equipment.services import equipment_update, qualification_grant
from reservations.services import closure_create, reservation_create

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)  # a Monday
WED = datetime(2026, 11, 25, 10, 0, tzinfo=PARIS)


@pytest.fixture
def trail(campus):
    """The eq_manager manages the HPLC (site We Lab), not the rheometer (site Tours).

    Entries each reader should see are kept by name.
    """
    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 6, 30)
    )
    on_hplc = reservation_create(
        user=campus.researcher,
        project=campus.open_research,
        equipment=[campus.hplc],
        start=WED,
        end=WED + timedelta(hours=2),
        title="HPLC",
        now=NOW,
    ).reservations[0]
    on_rheo = reservation_create(
        user=campus.researcher,
        project=campus.open_research,
        equipment=[campus.rheometer],
        start=WED,
        end=WED + timedelta(hours=2),
        title="Rhéo",
        now=NOW + timedelta(hours=1),
    ).reservations[0]

    def close(**where):
        closure, _ = closure_create(
            user=campus.admin,
            start=datetime(2026, 12, 24, tzinfo=PARIS),
            end=datetime(2026, 12, 26, tzinfo=PARIS),
            reason="Noël",
            now=NOW + timedelta(hours=2),
            **where,
        )
        return closure

    closures = SimpleNamespace(
        hplc=close(equipment=campus.hplc),
        rheometer=close(equipment=campus.rheometer),
        hplc_site=close(site=campus.site),
        other_site=close(site=campus.other_site),
        everywhere=close(),
    )
    equipment_update(actor=campus.eq_manager, equipment=campus.hplc, policy={"buffer_minutes": 10})
    equipment_update(actor=SYSTEM, equipment=campus.rheometer, policy={"buffer_minutes": 5})
    return SimpleNamespace(
        campus=campus, on_hplc=on_hplc, on_rheo=on_rheo, closures=closures, now=NOW
    )
