"""`/api/v1/me/` and the feed token."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_me_lists_roles_partners_projects_and_feeds(client_for, campus):
    campus.teaching.members.add(campus.referent)
    body = client_for(campus.referent).get("/api/v1/me/").json()
    assert body["username"] == "referent"
    assert set(body["roles"]) == {"partner_referent", "project_member"}
    assert {p["name"] for p in body["partners"]} == {"Université d'Orléans", "Lycée Jean Zay"}
    assert body["referent_of"] == [campus.orleans.pk]
    assert [p["id"] for p in body["projects"]] == [campus.teaching.pk]
    assert body["feeds"]["me"].endswith(f"/calendars/me.ics?token={body['feed_token']}")
    assert str(campus.orleans.pk) in body["feeds"]["partners"]


def test_me_roles_of_managers(client_for, campus):
    assert client_for(campus.admin).get("/api/v1/me/").json()["roles"] == ["platform_manager"]
    body = client_for(campus.eq_manager).get("/api/v1/me/").json()
    assert body["roles"] == ["equipment_manager"]
    assert body["managed_equipment"] == [campus.hplc.pk]


def test_feed_token_rotation_replaces_the_old_one(client_for, campus):
    client = client_for(campus.teacher)
    old = client.get("/api/v1/me/").json()["feed_token"]
    assert client.get("/api/v1/me/").json()["feed_token"] == old
    response = client.post("/api/v1/me/feed-token/")
    assert response.status_code == 200
    new = response.json()["feed_token"]
    assert new != old
    assert client.get("/api/v1/me/").json()["feed_token"] == new
