"""List endpoints cost a fixed number of queries, whatever the number of rows."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.roles import SYSTEM
from equipment.services import document_add, equipment_create, qualification_grant
from partners.models import Partner
from partners.services import partner_create, project_create
from tests.document_files import PDF, upload

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/sites/",
    "/api/v1/categories/",
    "/api/v1/partners/",
    "/api/v1/equipment/",
    "/api/v1/projects/",
    "/api/v1/qualifications/",
    "/api/v1/me/",
]


def add_rows(campus, n: int, offset: int) -> None:
    for i in range(offset, offset + n):
        equipment = equipment_create(
            actor=SYSTEM,
            code=f"EQ-{i:03}",
            name=f"Équipement {i}",
            category=campus.chroma,
            site=campus.site,
            managers=[campus.eq_manager, campus.admin],
        )
        for kind in ("procedure", "safety_data_sheet"):
            document_add(
                actor=SYSTEM,
                equipment=equipment,
                file=upload(f"{kind}.pdf", PDF),
                title=kind,
                kind=kind,
                now=timezone.now(),
            )
        partner = partner_create(
            actor=SYSTEM,
            name=f"Partenaire {i}",
            kind=Partner.Kind.COMPANY,
            rate_category="industrial",
            referents=[campus.referent, campus.outsider],
        )
        project = project_create(
            actor=SYSTEM,
            name=f"Projet {i}",
            kind="research",
            partner=partner,
            leader=campus.researcher,
            members=[campus.referent, campus.outsider],
            active_from=date(2026, 1, 1),
        )
        project.members.add(campus.teacher)
        qualification_grant(
            actor=SYSTEM, user=campus.referent, equipment=equipment, valid_until=date(2027, 1, 1)
        )


def count_queries(client, path: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", ["admin", "referent", "outsider"])
def test_list_queries_do_not_grow_with_rows(client_for, campus, role):
    client = client_for(getattr(campus, role))
    add_rows(campus, 2, 0)
    for path in LISTS:  # warm up: the first /me/ creates the user's feed token
        client.get(path)
    few = {path: count_queries(client, path) for path in LISTS}
    add_rows(campus, 20, 100)
    many = {path: count_queries(client, path) for path in LISTS}
    assert many == few
    # And the figures stay small: authentication, count, rows, prefetches.
    assert max(few.values()) <= 9, few


def test_equipment_list_query_budget(client_for, campus, django_assert_max_num_queries):
    add_rows(campus, 30, 0)
    client = client_for(campus.outsider)
    # token auth, count, equipment with site/category/partner, managers, documents
    with django_assert_max_num_queries(5):
        assert client.get("/api/v1/equipment/").status_code == 200
