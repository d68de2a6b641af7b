"""Who may write partners and projects: the decisions alone, without a database.

Whether someone refers a partner is a read (partners.selectors); here it is answered
from the fake partners' own list, so each rule is checked by itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import translation
from rest_framework.exceptions import PermissionDenied

from core.errors import DomainError
from core.roles import SYSTEM, is_platform_manager, require
from partners import permissions
from partners.permissions import (
    may_create_partner,
    may_create_project,
    may_edit_partner,
    may_edit_project,
    may_move_project,
)


@dataclass(frozen=True)
class FakePartner:
    pk: int
    referent_pks: frozenset[int] = field(default_factory=frozenset)


def person(pk: int, *, staff: bool = False, superuser: bool = False) -> SimpleNamespace:
    return SimpleNamespace(pk=pk, is_authenticated=True, is_staff=staff, is_superuser=superuser)


MANAGER = person(1, staff=True)
ROOT = person(2, superuser=True)
REFERENT = person(3)  # refers ORLEANS only
LEADER = person(4)
MEMBER = person(5)
OTHER = person(6)  # refers SERVIER
BOTH = person(7)  # refers both
ANONYMOUS = AnonymousUser()

ORLEANS = FakePartner(10, frozenset({REFERENT.pk, BOTH.pk}))
SERVIER = FakePartner(20, frozenset({OTHER.pk, BOTH.pk}))


def project(partner: FakePartner = ORLEANS, kind: str = "research") -> SimpleNamespace:
    return SimpleNamespace(leader_id=LEADER.pk, partner=partner, partner_id=partner.pk, kind=kind)


@pytest.fixture(autouse=True)
def referents_from_the_fakes(monkeypatch):
    def is_partner_referent(user, partner):
        return bool(user.is_authenticated and user.pk in partner.referent_pks)

    monkeypatch.setattr(permissions, "is_partner_referent", is_partner_referent)


def test_system_is_a_platform_manager_and_nobody():
    assert is_platform_manager(SYSTEM)
    assert SYSTEM.pk is None
    assert SYSTEM.is_authenticated


@pytest.mark.parametrize(
    ("user", "expected"),
    [(MANAGER, True), (ROOT, True), (REFERENT, False), (ANONYMOUS, False), (None, False)],
)
def test_platform_managers_are_staff_or_superusers(user, expected):
    assert is_platform_manager(user) is expected


@pytest.mark.parametrize("language", ["fr", "en"])
def test_require_refuses_with_the_api_403_in_drfs_words(language):
    require(True)
    with translation.override(language), pytest.raises(DomainError) as refused:
        require(False)
    assert (refused.value.code, refused.value.status) == ("permission_denied", 403)
    with translation.override(language):
        assert refused.value.body()["detail"] == str(PermissionDenied.default_detail)


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (MANAGER, True),
        (ROOT, True),
        (SYSTEM, True),
        (REFERENT, False),
        (LEADER, False),
        (MEMBER, False),
        (ANONYMOUS, False),
    ],
)
def test_only_platform_managers_create_and_edit_partners(user, expected):
    assert may_create_partner(user) is expected
    assert may_edit_partner(user) is expected


@pytest.mark.parametrize(
    ("user", "partner", "expected"),
    [
        (MANAGER, SERVIER, True),
        (SYSTEM, SERVIER, True),
        (REFERENT, ORLEANS, True),
        (REFERENT, SERVIER, False),
        (LEADER, ORLEANS, False),
        (MEMBER, ORLEANS, False),
        (ANONYMOUS, ORLEANS, False),
        (REFERENT, None, False),
        (MANAGER, None, True),
    ],
)
def test_projects_are_created_by_managers_and_the_partners_referents(user, partner, expected):
    assert may_create_project(user, partner) is expected


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (MANAGER, True),
        (SYSTEM, True),
        (LEADER, True),
        (REFERENT, True),
        (BOTH, True),
        (MEMBER, False),
        (OTHER, False),
        (ANONYMOUS, False),
    ],
)
def test_projects_are_edited_by_managers_the_leader_and_the_referents(user, expected):
    assert may_edit_project(user, project()) is expected


@pytest.mark.parametrize("user", [MANAGER, SYSTEM, LEADER, REFERENT, MEMBER, OTHER, ANONYMOUS])
def test_keeping_the_partner_and_kind_is_no_move(user):
    assert may_move_project(user, project(), ORLEANS, "research") is True


@pytest.mark.parametrize(
    ("user", "expected"),
    [(MANAGER, True), (SYSTEM, True), (REFERENT, True), (LEADER, False), (OTHER, False)],
)
def test_changing_the_kind_is_for_managers_and_referents(user, expected):
    assert may_move_project(user, project(), ORLEANS, "pedagogical") is expected


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (MANAGER, True),
        (SYSTEM, True),
        (BOTH, True),
        (REFERENT, False),  # refers the old partner only
        (OTHER, False),  # refers the new partner only
        (LEADER, False),
        (ANONYMOUS, False),
    ],
)
def test_moving_to_another_partner_needs_referents_of_both(user, expected):
    assert may_move_project(user, project(), SERVIER, "research") is expected


def test_a_project_without_a_partner_is_for_platform_managers():
    assert may_move_project(MANAGER, project(), None, "research") is True
    assert may_move_project(BOTH, project(), None, "research") is False
