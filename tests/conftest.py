"""Shared fixtures: a small campus with one user per role."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from core.api_tokens import api_token_issue
from core.roles import SYSTEM
from equipment.services import category_create, equipment_create, site_create
from partners.models import Partner, ProjectKind
from partners.services import partner_create, project_create

User = get_user_model()


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    """Equipment documents go to a directory of the test's own, never the real one."""
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private-media"
    return settings.PRIVATE_MEDIA_ROOT


@pytest.fixture
def make_user(db):
    def make(username: str, **extra: Any):
        return User.objects.create_user(username=username, password="pw-" + username, **extra)

    return make


@pytest.fixture
def client_for():
    """An API client authenticated with the user's token (None: anonymous)."""

    def make(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=user)}")
        return client

    return make


class Campus:
    """Two partners, their people and projects, and two pieces of equipment."""

    def __init__(self, make_user):
        self.admin = make_user("plateforme", is_staff=True)
        self.eq_manager = make_user("gestionnaire")
        self.teacher = make_user("enseignant")
        self.researcher = make_user("chercheur")
        self.industrial = make_user("industriel")
        self.referent = make_user("referent")
        self.outsider = make_user("externe")
        self.orleans = partner_create(
            actor=SYSTEM,
            name="Université d'Orléans",
            kind=Partner.Kind.UNIVERSITY,
            rate_category=Partner.RateCategory.ACADEMIC,
            referents=[self.referent],
        )
        self.servier = partner_create(
            actor=SYSTEM,
            name="Servier",
            kind=Partner.Kind.COMPANY,
            rate_category=Partner.RateCategory.INDUSTRIAL,
        )
        self.lycee = partner_create(
            actor=SYSTEM, name="Lycée Jean Zay", kind=Partner.Kind.SCHOOL, rate_category="academic"
        )
        start = date(2026, 1, 1)
        self.teaching = project_create(
            actor=SYSTEM,
            name="TP formulation",
            kind=ProjectKind.PEDAGOGICAL,
            partner=self.lycee,
            leader=self.teacher,
            active_from=start,
        )
        self.research = project_create(
            actor=SYSTEM,
            name="Thèse émulsions",
            kind=ProjectKind.RESEARCH,
            partner=self.orleans,
            leader=self.researcher,
            active_from=start,
            confidential=True,
        )
        self.open_research = project_create(
            actor=SYSTEM,
            name="Projet ouvert",
            kind=ProjectKind.RESEARCH,
            partner=self.orleans,
            leader=self.researcher,
            active_from=start,
        )
        self.confidential = project_create(
            actor=SYSTEM,
            name="Servier – validation HPLC",
            kind=ProjectKind.INDUSTRIAL,
            partner=self.servier,
            leader=self.industrial,
            active_from=start,
        )
        self.site = site_create(
            actor=SYSTEM, name="We Lab", city="Orléans", address="1 rue de Chartres"
        )
        self.other_site = site_create(actor=SYSTEM, name="Plateau Tours", city="Tours")
        self.chroma = category_create(actor=SYSTEM, name="Chromatographie")
        self.rheo = category_create(actor=SYSTEM, name="Rhéologie")
        self.hplc = equipment_create(
            actor=SYSTEM,
            code="WL-HPLC-01",
            name="Chaîne HPLC Agilent 1260",
            category=self.chroma,
            site=self.site,
            requires_qualification=True,
            managers=[self.eq_manager],
            rates={"teaching": 5, "academic": 30, "industrial": 120},
        )
        self.rheometer = equipment_create(
            actor=SYSTEM,
            code="TO-RHEO-01",
            name="Rhéomètre Anton Paar",
            category=self.rheo,
            site=self.other_site,
            description="Rhéomètre rotatif pour crèmes et gels",
        )


@pytest.fixture
def campus(make_user) -> Campus:
    return Campus(make_user)


def reservation_row(campus: Campus, start: datetime, minutes: int, **over: Any):
    """A reservation row written directly, without the booking service (its rules, audit
    and notifications): the researcher's confirmed research booking of the rheometer,
    `minutes` long, its bookkeeping stamped at `start` unless `at=` says when. Any other
    field may be given."""
    from reservations.models import Reservation, ReservationStatus

    end = over.pop("end", start + timedelta(minutes=minutes))
    stamp = over.pop("at", start)
    fields: dict[str, Any] = {
        "equipment": campus.rheometer,
        "project": campus.research,
        "booked_by": campus.researcher,
        "start": start,
        "end": end,
        "blocked_until": end,
        "title": "Mesures",
        "status": ReservationStatus.CONFIRMED,
        "priority": "research",
        "status_changed_at": stamp,
        "created_at": stamp,
        "updated_at": stamp,
    }
    fields.update(over)
    return Reservation.objects.create(**fields)
