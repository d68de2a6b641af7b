"""Projects: visibility of confidential ones (404 to outsiders) and who may write."""

from __future__ import annotations

import pytest

from partners.models import Project

pytestmark = pytest.mark.django_db


def ids(response):
    return {p["id"] for p in response.json()["results"]}


def test_other_partners_confidential_project_is_404(client_for, campus):
    client = client_for(campus.researcher)
    response = client.get(f"/api/v1/projects/{campus.confidential.pk}/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert campus.confidential.pk not in ids(client.get("/api/v1/projects/"))


def test_outsider_sees_open_projects_only(client_for, campus):
    visible = ids(client_for(campus.outsider).get("/api/v1/projects/"))
    assert visible == {campus.teaching.pk, campus.open_research.pk}


def test_members_leader_and_referent_see_a_confidential_project(client_for, campus, make_user):
    member = make_user("membre")
    campus.research.members.add(member)
    for user in (member, campus.researcher, campus.referent, campus.admin):
        response = client_for(user).get(f"/api/v1/projects/{campus.research.pk}/")
        assert response.status_code == 200, user
        assert response.json()["confidential"] is True


def test_industrial_projects_are_always_confidential(client_for, campus):
    response = client_for(campus.admin).post(
        "/api/v1/projects/",
        {
            "name": "L'Oréal – stabilité",
            "kind": "industrial",
            "partner": campus.servier.pk,
            "leader": campus.industrial.pk,
            "active_from": "2026-09-01",
            "confidential": False,
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert response.json()["confidential"] is True
    assert Project.objects.get(pk=response.json()["id"]).confidential is True


def test_leader_is_always_a_member(client_for, campus):
    response = client_for(campus.admin).post(
        "/api/v1/projects/",
        {
            "name": "TP rhéologie",
            "kind": "pedagogical",
            "partner": campus.lycee.pk,
            "leader": campus.teacher.pk,
            "members": [campus.outsider.pk],
            "active_from": "2026-09-01",
        },
        format="json",
    )
    assert response.status_code == 201
    assert set(response.json()["members"]) == {campus.teacher.pk, campus.outsider.pk}


def test_referent_creates_projects_for_their_partner_only(client_for, campus):
    client = client_for(campus.referent)
    payload = {"name": "Stage M2", "kind": "research", "active_from": "2026-09-01"}
    ok = client.post("/api/v1/projects/", {**payload, "partner": campus.orleans.pk}, format="json")
    assert ok.status_code == 201
    assert ok.json()["leader"] == campus.referent.pk
    refused = client.post(
        "/api/v1/projects/", {**payload, "partner": campus.servier.pk}, format="json"
    )
    assert refused.status_code == 403


def test_researcher_cannot_create_projects(client_for, campus):
    response = client_for(campus.researcher).post(
        "/api/v1/projects/",
        {
            "name": "X",
            "kind": "research",
            "partner": campus.orleans.pk,
            "active_from": "2026-09-01",
        },
        format="json",
    )
    assert response.status_code == 403


def test_leader_edits_members_but_cannot_change_the_kind(client_for, campus):
    client = client_for(campus.teacher)
    url = f"/api/v1/projects/{campus.teaching.pk}/"
    ok = client.patch(url, {"members": [campus.outsider.pk]}, format="json")
    assert ok.status_code == 200
    assert set(ok.json()["members"]) == {campus.teacher.pk, campus.outsider.pk}
    refused = client.patch(url, {"kind": "industrial"}, format="json")
    assert refused.status_code == 403
    campus.teaching.refresh_from_db()
    assert campus.teaching.kind == "pedagogical"


def test_member_who_is_not_leader_cannot_edit(client_for, campus):
    campus.teaching.members.add(campus.outsider)
    response = client_for(campus.outsider).patch(
        f"/api/v1/projects/{campus.teaching.pk}/", {"name": "Hijacked"}, format="json"
    )
    assert response.status_code == 403


def test_active_period_must_be_in_order(client_for, campus):
    response = client_for(campus.admin).patch(
        f"/api/v1/projects/{campus.teaching.pk}/", {"active_until": "2025-01-01"}, format="json"
    )
    assert response.status_code == 400
    assert "active_until" in response.json()["fields"]


def test_qualifications_granted_by_equipment_managers(client_for, campus):
    payload = {
        "user": campus.researcher.pk,
        "equipment": campus.hplc.pk,
        "valid_until": "2027-06-30",
    }
    assert (
        client_for(campus.researcher)
        .post("/api/v1/qualifications/", payload, format="json")
        .status_code
        == 403
    )
    response = client_for(campus.eq_manager).post("/api/v1/qualifications/", payload, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["granted_by"] == campus.eq_manager.pk
    other = {**payload, "equipment": campus.rheometer.pk}
    assert (
        client_for(campus.eq_manager)
        .post("/api/v1/qualifications/", other, format="json")
        .status_code
        == 403
    )
    # Granting again renews the date instead of failing.
    again = client_for(campus.admin).post(
        "/api/v1/qualifications/", {**payload, "valid_until": "2028-01-31"}, format="json"
    )
    assert again.status_code == 201
    assert again.json()["id"] == response.json()["id"]
    assert again.json()["valid_until"] == "2028-01-31"


def test_qualifications_are_seen_by_their_user_and_managers_only(client_for, campus):
    client_for(campus.admin).post(
        "/api/v1/qualifications/",
        {"user": campus.researcher.pk, "equipment": campus.hplc.pk, "valid_until": "2027-06-30"},
        format="json",
    )
    assert client_for(campus.researcher).get("/api/v1/qualifications/").json()["count"] == 1
    assert client_for(campus.eq_manager).get("/api/v1/qualifications/").json()["count"] == 1
    assert client_for(campus.outsider).get("/api/v1/qualifications/").json()["count"] == 0
