"""Login by token, the uniform error body, anonymous access."""

from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_token_login_then_me(client_for, make_user):
    make_user("alice", first_name="Alice")
    client = client_for()
    response = client.post(
        "/api/v1/auth/token/", {"username": "alice", "password": "pw-alice"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    me = client.get("/api/v1/me/")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"


@pytest.mark.django_db
def test_wrong_password_is_a_400_with_a_code(client_for, make_user):
    make_user("alice")
    response = client_for().post(
        "/api/v1/auth/token/", {"username": "alice", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/me/",
        "/api/v1/sites/",
        "/api/v1/categories/",
        "/api/v1/partners/",
        "/api/v1/equipment/",
        "/api/v1/projects/",
        "/api/v1/qualifications/",
        "/api/schema/?format=json",
    ],
)
def test_anonymous_gets_401_with_code(client_for, path):
    response = client_for().get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response.json()["detail"]


@pytest.mark.django_db
def test_bad_token_is_401(client_for):
    client = client_for()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


@pytest.mark.django_db
def test_unknown_object_is_404_with_code(client_for, campus):
    response = client_for(campus.teacher).get("/api/v1/equipment/999999/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.django_db
def test_field_errors_are_listed_by_name(client_for, campus):
    response = client_for(campus.admin).post(
        "/api/v1/partners/", {"name": "", "kind": "spaceship"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"name", "kind", "rate_category"}
    assert all(isinstance(m, list) and m for m in body["fields"].values())


@pytest.mark.django_db
def test_error_detail_is_translated(client_for, campus):
    client = client_for(campus.teacher)
    french = client.get("/api/v1/equipment/999999/", HTTP_ACCEPT_LANGUAGE="fr")
    english = client.get("/api/v1/equipment/999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert french.json()["code"] == english.json()["code"] == "not_found"
    assert french.json()["detail"] != english.json()["detail"]


@pytest.mark.django_db
def test_malformed_json_is_a_400_not_a_500(client_for, campus):
    response = client_for(campus.admin).post(
        "/api/v1/sites/", "{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"


@pytest.mark.django_db
def test_healthz_answers_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# --- out-of-range input: 400 with a code, never 500 ----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        {"start": "9999-12-31T23:00:00", "end": "9999-12-31T23:30:00"},
        {"start": "0001-01-01T00:30:00", "end": "0001-01-01T01:00:00"},
        {"start": "2026-12-02T10:00:00+01:00", "end": "9999-12-31T23:59:00+01:00"},
    ],
)
def test_reservation_dates_out_of_range_are_a_400(client_for, campus, body):
    response = client_for(campus.researcher).post(
        "/api/v1/reservations/",
        {"equipment": campus.rheometer.pk, "project": campus.research.pk, "title": "x", **body},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"


def test_huge_ids_are_a_400(client_for, campus):
    client = client_for(campus.admin)
    for path in (
        f"/api/v1/reservations/?equipment={2**70}",
        f"/api/v1/reservations/?project={2**63}",
    ):
        response = client.get(path)
        # SQLite cannot bind such an int (400); PostgreSQL compares it and finds nothing.
        assert response.status_code in (200, 400), (path, response.content)
        if response.status_code == 400:
            assert response.json()["code"] == "invalid"
        else:
            assert response.json()["results"] == []
    response = client.post(
        "/api/v1/reservations/",
        {
            "equipment": 2**63,
            "project": campus.research.pk,
            "title": "x",
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T11:00:00+01:00",
        },
        format="json",
    )
    assert response.status_code == 400, response.content


def test_deeply_nested_json_is_a_400(client_for, campus):
    body = "[" * 5000 + "]" * 5000
    response = client_for(campus.admin).post(
        "/api/v1/reservations/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] in ("parse_error", "invalid")


@pytest.mark.parametrize("body", [[1, 2], 3, True])
def test_equipment_patch_with_a_non_object_is_a_400(client_for, campus, body):
    response = client_for(campus.admin).patch(
        f"/api/v1/equipment/{campus.rheometer.pk}/", body, format="json"
    )
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"


def test_unknown_api_path_answers_the_api_error_body(client_for, campus):
    response = client_for(campus.teacher).get("/api/v1/nonexistent/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("policy", "field"),
    [
        ({"check_in_grace_minutes": 10**15}, "policy.check_in_grace_minutes"),
        ({"buffer_minutes": 10**12}, "policy.buffer_minutes"),
        ({"horizon_days": {"research": 10**12}}, "policy.horizon_days"),
        ({"weekly_quota_hours": {"research": 1000}}, "policy.weekly_quota_hours"),
        ({"max_duration_minutes": 10**9}, "policy.max_duration_minutes"),
    ],
)
def test_policy_values_have_upper_bounds(client_for, campus, policy, field):
    response = client_for(campus.admin).patch(
        f"/api/v1/equipment/{campus.rheometer.pk}/", {"policy": policy}, format="json"
    )
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


@pytest.mark.parametrize("rate", [1e308, 10**30, "1e400", 1_000_000])
def test_rates_have_an_upper_bound(client_for, campus, rate):
    response = client_for(campus.admin).patch(
        f"/api/v1/equipment/{campus.rheometer.pk}/", {"rates": {"teaching": rate}}, format="json"
    )
    assert response.status_code == 400, response.content
    assert "rates.teaching" in response.json()["fields"]


@pytest.mark.django_db
def test_token_authentication_costs_one_query_and_no_cache_outlives_a_revocation(
    client_for, make_user, django_assert_num_queries
):
    """The token is read with its user in one query; nothing cached in between, so a new
    password (even by a plain UPDATE), a deactivation or a revocation refuses the very
    next request, in every process."""
    from django.contrib.auth import get_user_model

    from core.api_tokens import api_token_issue, api_tokens_revoke

    user = make_user("alice")
    client = client_for(user)
    # The token with its user, then the list's count (no site yet: no page to read).
    with django_assert_num_queries(2) as captured:
        assert client.get("/api/v1/sites/").status_code == 200
    auth = captured.captured_queries[0]["sql"]
    assert "core_apitoken" in auth and "auth_user" in auth
    User = get_user_model()
    User.objects.filter(pk=user.pk).update(password="pbkdf2_sha256$1$x$y")
    assert client.get("/api/v1/sites/").status_code == 401
    user.refresh_from_db()
    client = client_for(user)
    assert client.get("/api/v1/sites/").status_code == 200
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/api/v1/sites/").status_code == 401
    User.objects.filter(pk=user.pk).update(is_active=True)
    key = api_token_issue(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get("/api/v1/sites/").status_code == 200
    api_tokens_revoke(user=user)
    assert client.get("/api/v1/sites/").status_code == 401
