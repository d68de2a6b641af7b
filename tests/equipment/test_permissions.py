"""Who may write the inventory: the decisions alone, without a database.

Whether someone manages an equipment is a read (equipment.selectors); here it is
answered from the fake equipment's own list, so each rule is checked by itself.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.contrib.auth.models import AnonymousUser

from core.roles import SYSTEM
from equipment import permissions
from equipment.permissions import (
    may_change_managers,
    may_create_category,
    may_create_equipment,
    may_create_site,
    may_edit_category,
    may_edit_equipment,
    may_edit_site,
    may_grant_qualification,
    may_manage_equipment,
)


def person(pk: int, *, staff: bool = False) -> SimpleNamespace:
    return SimpleNamespace(pk=pk, is_authenticated=True, is_staff=staff, is_superuser=False)


PLATFORM = person(1, staff=True)
MANAGER = person(2)  # manages HPLC only
REFERENT = person(3)
OUTSIDER = person(4)
ANONYMOUS = AnonymousUser()

HPLC = SimpleNamespace(pk=100, manager_pks={MANAGER.pk})
RHEOMETER = SimpleNamespace(pk=200, manager_pks=set())


@pytest.fixture(autouse=True)
def managers_from_the_fakes(monkeypatch):
    def is_equipment_manager(user, equipment):
        return bool(user.is_authenticated and user.pk in equipment.manager_pks)

    monkeypatch.setattr(permissions, "is_equipment_manager", is_equipment_manager)


ONLY_PLATFORM = [
    (PLATFORM, True),
    (SYSTEM, True),
    (MANAGER, False),
    (REFERENT, False),
    (OUTSIDER, False),
    (ANONYMOUS, False),
]


@pytest.mark.parametrize(("user", "expected"), ONLY_PLATFORM)
def test_platform_managers_create_equipment_sites_and_categories(user, expected):
    assert may_create_equipment(user) is expected
    assert may_create_site(user) is expected
    assert may_edit_site(user) is expected
    assert may_create_category(user) is expected
    assert may_edit_category(user) is expected


@pytest.mark.parametrize(("user", "expected"), ONLY_PLATFORM)
def test_only_platform_managers_choose_an_equipments_managers(user, expected):
    assert may_change_managers(user, HPLC) is expected


@pytest.mark.parametrize(
    ("user", "equipment", "expected"),
    [
        (PLATFORM, RHEOMETER, True),
        (SYSTEM, RHEOMETER, True),
        (MANAGER, HPLC, True),
        (MANAGER, RHEOMETER, False),
        (REFERENT, HPLC, False),
        (OUTSIDER, HPLC, False),
        (ANONYMOUS, HPLC, False),
    ],
)
def test_an_equipments_managers_edit_it_and_grant_qualifications_on_it(user, equipment, expected):
    assert may_manage_equipment(user, equipment) is expected
    assert may_edit_equipment(user, equipment) is expected
    assert may_grant_qualification(user, equipment) is expected
