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


def test_me_language_is_unknown_until_chosen(client_for, campus):
    client = client_for(campus.teacher)
    assert client.get("/api/v1/me/").json()["language"] is None
    body = client.patch("/api/v1/me/", {"language": "en"}, format="json").json()
    assert body["language"] == "en"
    assert client.get("/api/v1/me/").json()["language"] == "en"
    assert client.patch("/api/v1/me/", {"language": ""}, format="json").json()["language"] is None


def test_me_language_refuses_an_unknown_one(client_for, campus):
    response = client_for(campus.teacher).patch("/api/v1/me/", {"language": "de"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "language" in body["fields"]


def test_language_switch_is_remembered_for_a_logged_in_user(client, campus):
    from partners.services import user_language

    client.force_login(campus.researcher)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/equipment/"})
    assert response.status_code == 302
    campus.researcher.refresh_from_db()
    assert user_language(campus.researcher) == "en"
    # Anonymous switches only set the cookie.
    client.logout()
    assert client.post("/i18n/setlang/", {"language": "fr"}).status_code == 302
    assert user_language(campus.researcher) == "en"
