"""The partner and project services decide who writes (README, "Who writes what").

Every boundary of SPEC §6: platform manager, equipment manager, partner referent,
project leader, member, another partner's user, anonymous, and the platform itself.
A refused write answers 403 `permission_denied` and changes nothing.
"""

from __future__ import annotations

from datetime import date

import pytest
from django.contrib.auth.models import AnonymousUser

from core.errors import DomainError
from core.roles import SYSTEM
from partners.models import Partner, Project
from partners.services import partner_create, partner_update, project_create, project_update

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
    """One actor per role, around the confidential research project of Orléans."""
    member = make_user("membre")
    campus.research.members.add(member)
    return {
        "platform_manager": campus.admin,
        "system": SYSTEM,
        "equipment_manager": campus.eq_manager,
        "partner_referent": campus.referent,  # refers Orléans
        "project_leader": campus.researcher,  # leads campus.research (Orléans)
        "member": member,
        "other_partners_user": campus.industrial,  # leads Servier's project
        "anonymous": AnonymousUser(),
    }


def refused(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as error:
        call(*args, **kwargs)
    assert (error.value.code, error.value.status) == ("permission_denied", 403)
    return error.value


def allowed_only(*roles: str) -> list[tuple[str, bool]]:
    return [(role, role in roles) for role in ROLES]


@pytest.mark.parametrize(("role", "allowed"), allowed_only("platform_manager", "system"))
def test_only_platform_managers_create_partners(people, campus, role, allowed):
    fields = {"name": "L'Oréal", "kind": "company", "rate_category": "industrial"}
    if allowed:
        partner = partner_create(actor=people[role], referents=[campus.industrial], **fields)
        assert list(partner.referents.all()) == [campus.industrial]
    else:
        refused(partner_create, actor=people[role], **fields)
        assert not Partner.objects.filter(name="L'Oréal").exists()


@pytest.mark.parametrize(("role", "allowed"), allowed_only("platform_manager", "system"))
def test_only_platform_managers_change_partners_and_their_referents(people, campus, role, allowed):
    # Not even the partner's own referent: a referent does not choose the referents.
    if allowed:
        partner_update(actor=people[role], partner=campus.orleans, name="UO", referents=[])
        campus.orleans.refresh_from_db()
        assert campus.orleans.name == "UO"
        assert not campus.orleans.referents.exists()
    else:
        partner = Partner.objects.get(pk=campus.orleans.pk)
        refused(partner_update, actor=people[role], partner=partner, name="UO", referents=[])
        campus.orleans.refresh_from_db()
        assert campus.orleans.name == "Université d'Orléans"
        assert list(campus.orleans.referents.all()) == [campus.referent]


@pytest.mark.parametrize(
    ("role", "allowed"), allowed_only("platform_manager", "system", "partner_referent")
)
def test_projects_are_created_by_managers_and_the_partners_referents(people, campus, role, allowed):
    fields = {
        "name": "Stage M2",
        "kind": "research",
        "partner": campus.orleans,
        "leader": campus.researcher,
        "active_from": date(2026, 9, 1),
    }
    if allowed:
        project = project_create(actor=people[role], **fields)
        assert list(project.members.all()) == [campus.researcher]
    else:
        refused(project_create, actor=people[role], **fields)
        assert not Project.objects.filter(name="Stage M2").exists()


def test_a_referent_creates_projects_for_their_own_partner_only(campus):
    refused(
        project_create,
        actor=campus.referent,
        name="Stage M2",
        kind="research",
        partner=campus.servier,
        leader=campus.referent,
        active_from=date(2026, 9, 1),
    )
    assert not Project.objects.filter(name="Stage M2").exists()


@pytest.mark.parametrize(
    ("role", "allowed"),
    allowed_only("platform_manager", "system", "partner_referent", "project_leader"),
)
def test_projects_are_edited_by_managers_referents_and_the_leader(people, campus, role, allowed):
    if allowed:
        project = project_update(
            actor=people[role], project=campus.research, name="Renamed", members=[]
        )
        assert project.name == "Renamed"
        assert list(project.members.all()) == [campus.researcher]  # the leader stays
    else:
        refused(project_update, actor=people[role], project=campus.research, name="Renamed")
        campus.research.refresh_from_db()
        assert campus.research.name == "Thèse émulsions"


@pytest.mark.parametrize(
    ("role", "allowed"), allowed_only("platform_manager", "system", "partner_referent")
)
def test_changing_the_kind_is_not_for_the_leader(people, campus, role, allowed):
    if allowed:
        project = project_update(actor=people[role], project=campus.research, kind="pedagogical")
        assert project.kind == "pedagogical"
    else:
        refused(project_update, actor=people[role], project=campus.research, kind="pedagogical")
        campus.research.refresh_from_db()
        assert campus.research.kind == "research"


def test_the_leader_may_name_the_current_kind_and_partner(campus):
    project = project_update(
        actor=campus.researcher,
        project=campus.research,
        kind="research",
        partner=campus.orleans,
        description="Émulsions de Pickering",
    )
    assert project.description == "Émulsions de Pickering"


def test_moving_to_another_partner_needs_a_referent_of_both(campus, make_user):
    # The referent of Orléans edits its projects but cannot hand one to Servier...
    refused(project_update, actor=campus.referent, project=campus.research, partner=campus.servier)
    refused(
        project_update, actor=campus.researcher, project=campus.research, partner=campus.servier
    )
    campus.research.refresh_from_db()
    assert campus.research.partner == campus.orleans
    # ...one who refers both partners may, and so may a platform manager.
    both = make_user("referent-des-deux")
    campus.orleans.referents.add(both)
    campus.servier.referents.add(both)
    assert project_update(actor=both, project=campus.research, partner=campus.servier).partner == (
        campus.servier
    )
    moved = project_update(actor=campus.admin, project=campus.research, partner=campus.lycee)
    assert moved.partner == campus.lycee


def test_the_leader_is_always_a_member(campus):
    project = project_create(
        actor=campus.admin,
        name="TP rhéologie",
        kind="pedagogical",
        partner=campus.lycee,
        leader=campus.teacher,
        members=[campus.outsider],
        active_from=date(2026, 9, 1),
    )
    assert set(project.members.all()) == {campus.teacher, campus.outsider}
    project = project_update(actor=campus.teacher, project=project, members=[campus.outsider])
    assert set(project.members.all()) == {campus.teacher, campus.outsider}
    project = project_update(actor=campus.teacher, project=project, leader=campus.researcher)
    assert set(project.members.all()) == {campus.teacher, campus.outsider, campus.researcher}


def test_the_admin_form_cannot_drop_the_leader_from_the_members(campus, make_user, client):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    project = campus.teaching
    response = client.post(
        f"/admin/partners/project/{project.pk}/change/",
        {
            "name": project.name,
            "kind": project.kind,
            "partner": project.partner_id,
            "leader": project.leader_id,
            "members": [campus.outsider.pk],
            "description": "",
            "active_from": "2026-01-01",
            "active_until": "",
        },
    )
    assert response.status_code == 302, response.content
    assert set(project.members.all()) == {campus.teacher, campus.outsider}
