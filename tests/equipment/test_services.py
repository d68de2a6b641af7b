"""The inventory services decide who writes (README, "Who writes what").

Every boundary of SPEC §6: platform manager, equipment manager, partner referent,
project leader, member, another partner's user, anonymous, and the platform itself.
A refused write answers 403 `permission_denied` and changes nothing.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser
from schedule.models import Calendar

from core.errors import DomainError
from core.roles import SYSTEM
from equipment.models import Category, Equipment, Qualification, Site
from equipment.services import (
    category_create,
    category_update,
    equipment_create,
    equipment_update,
    qualification_grant,
    site_create,
    site_update,
)

pytestmark = pytest.mark.django_db

ROLES = [
    "platform_manager",
    "system",
    "equipment_manager",
    "partner_referent",
    "project_leader",
    "member",
    "other_partners_user",
    "anonymous",
]


@pytest.fixture
def people(campus, make_user):
    """One actor per role; the equipment manager manages the HPLC, not the rheometer."""
    member = make_user("membre")
    campus.research.members.add(member)
    return {
        "platform_manager": campus.admin,
        "system": SYSTEM,
        "equipment_manager": campus.eq_manager,
        "partner_referent": campus.referent,
        "project_leader": campus.researcher,
        "member": member,
        "other_partners_user": campus.industrial,
        "anonymous": AnonymousUser(),
    }


def refused(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as error:
        call(*args, **kwargs)
    assert (error.value.code, error.value.status) == ("permission_denied", 403)
    return error.value


def allowed_only(*roles: str) -> list[tuple[str, bool]]:
    return [(role, role in roles) for role in ROLES]


PLATFORM_ONLY = allowed_only("platform_manager", "system")
MANAGERS = allowed_only("platform_manager", "system", "equipment_manager")


@pytest.mark.parametrize(("role", "allowed"), PLATFORM_ONLY)
def test_only_platform_managers_create_equipment(people, campus, role, allowed):
    calendars = Calendar.objects.count()
    fields = {"code": "WL-LYO-01", "name": "Lyophilisateur", "category": campus.chroma}
    if allowed:
        equipment = equipment_create(actor=people[role], site=campus.site, **fields)
        assert equipment.calendar is not None
    else:
        refused(equipment_create, actor=people[role], site=campus.site, **fields)
        assert not Equipment.objects.filter(code="WL-LYO-01").exists()
        assert Calendar.objects.count() == calendars


@pytest.mark.parametrize(("role", "allowed"), MANAGERS)
def test_an_equipments_managers_edit_it(people, campus, role, allowed):
    change = {"name": "HPLC", "rates": {"industrial": 150}, "policy": {"buffer_minutes": 15}}
    if allowed:
        equipment = equipment_update(actor=people[role], equipment=campus.hplc, **change)
        assert (equipment.name, equipment.rate_industrial) == ("HPLC", 150)
        assert equipment.policy.buffer_minutes == 15
    else:
        refused(equipment_update, actor=people[role], equipment=campus.hplc, **change)
        campus.hplc.refresh_from_db()
        assert campus.hplc.name == "Chaîne HPLC Agilent 1260"
        assert campus.hplc.rate_industrial == 120
        assert campus.hplc.policy_overrides == {}


def test_an_equipment_manager_edits_only_what_they_manage(campus):
    refused(equipment_update, actor=campus.eq_manager, equipment=campus.rheometer, name="R")
    campus.rheometer.refresh_from_db()
    assert campus.rheometer.name == "Rhéomètre Anton Paar"


@pytest.mark.parametrize(("role", "allowed"), PLATFORM_ONLY)
def test_only_platform_managers_choose_the_managers(people, campus, role, allowed):
    if allowed:
        equipment = equipment_update(
            actor=people[role], equipment=campus.hplc, managers=[campus.outsider]
        )
        assert list(equipment.managers.all()) == [campus.outsider]
    else:
        # Even restating the current list: the managers are not theirs to set.
        refused(
            equipment_update,
            actor=people[role],
            equipment=campus.hplc,
            managers=[campus.eq_manager, campus.outsider],
            name="HPLC",
        )
        campus.hplc.refresh_from_db()
        assert list(campus.hplc.managers.all()) == [campus.eq_manager]
        assert campus.hplc.name == "Chaîne HPLC Agilent 1260"


@pytest.mark.parametrize(("role", "allowed"), PLATFORM_ONLY)
def test_only_platform_managers_write_sites_and_categories(people, campus, role, allowed):
    actor = people[role]
    if allowed:
        assert site_create(actor=actor, name="Blois", city="Blois").pk
        assert site_update(actor=actor, site=campus.site, city="Orléans-la-Source").city == (
            "Orléans-la-Source"
        )
        assert category_create(actor=actor, name="Microscopie").pk
        assert category_update(actor=actor, category=campus.rheo, description="Gels").description
    else:
        refused(site_create, actor=actor, name="Blois", city="Blois")
        refused(site_update, actor=actor, site=campus.site, city="Orléans-la-Source")
        refused(category_create, actor=actor, name="Microscopie")
        refused(category_update, actor=actor, category=campus.rheo, description="Gels")
        assert not Site.objects.filter(name="Blois").exists()
        assert Site.objects.get(pk=campus.site.pk).city == "Orléans"
        assert not Category.objects.filter(name="Microscopie").exists()
        assert Category.objects.get(pk=campus.rheo.pk).description == ""


@pytest.mark.parametrize(("role", "allowed"), MANAGERS)
def test_an_equipments_managers_grant_qualifications_on_it(people, campus, role, allowed):
    actor = people[role]
    if allowed:
        qualification = qualification_grant(
            actor=actor,
            user=campus.researcher,
            equipment=campus.hplc,
            valid_until=date(2027, 6, 30),
        )
        # The granter is the actor; the platform itself is nobody.
        assert qualification.granted_by == (None if actor is SYSTEM else actor)
    else:
        refused(
            qualification_grant,
            actor=actor,
            user=campus.researcher,
            equipment=campus.hplc,
            valid_until=date(2027, 6, 30),
        )
        assert not Qualification.objects.exists()


def test_an_equipment_manager_does_not_qualify_on_other_equipment(campus):
    refused(
        qualification_grant,
        actor=campus.eq_manager,
        user=campus.researcher,
        equipment=campus.rheometer,
        valid_until=date(2027, 6, 30),
    )
    assert not Qualification.objects.exists()


def test_the_admin_saves_the_managers_through_the_service(campus, make_user, client):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    hplc = campus.hplc
    response = client.post(
        f"/admin/equipment/equipment/{hplc.pk}/change/",
        {
            "code": hplc.code,
            "name": "HPLC",
            "category": hplc.category_id,
            "site": hplc.site_id,
            "room": "",
            "description": "",
            "status": "active",
            "owner_partner": "",
            "requires_qualification": "on",
            "rate_teaching": "5",
            "rate_academic": "30",
            "rate_industrial": "120",
            "managers": [campus.outsider.pk],
            "policy_overrides": "{}",
        },
    )
    assert response.status_code == 302, response.content
    hplc.refresh_from_db()
    assert hplc.name == "HPLC"
    assert list(hplc.managers.all()) == [campus.outsider]
