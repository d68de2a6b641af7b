"""Partners' `email_domains` (SPEC §7, §13): API, admin, and /me/ affiliations."""

from __future__ import annotations

from datetime import UTC, datetime

from accounts.services import Identity, sign_in


def test_domains_are_written_through_the_api_normalised(campus, client_for):
    client = client_for(campus.admin)
    url = f"/api/v1/partners/{campus.orleans.pk}/"
    answer = client.patch(
        url, {"email_domains": ["@Univ-Orleans.fr", "etu.univ-orleans.fr."]}, format="json"
    )
    assert answer.status_code == 200, answer.json()
    assert answer.json()["email_domains"] == ["etu.univ-orleans.fr", "univ-orleans.fr"]
    assert client.get(url).json()["email_domains"] == ["etu.univ-orleans.fr", "univ-orleans.fr"]


def test_a_bad_or_taken_domain_is_refused_with_the_field(campus, client_for):
    client = client_for(campus.admin)
    client.patch(
        f"/api/v1/partners/{campus.orleans.pk}/", {"email_domains": ["univ-orleans.fr"]}, "json"
    )
    taken = client.patch(
        f"/api/v1/partners/{campus.servier.pk}/", {"email_domains": ["univ-orleans.fr"]}, "json"
    )
    assert taken.status_code == 400
    assert "email_domains" in taken.json()["fields"]
    bad = client.post(
        "/api/v1/partners/",
        {
            "name": "X",
            "kind": "company",
            "rate_category": "industrial",
            "email_domains": ["not a domain"],
        },
        format="json",
    )
    assert bad.status_code == 400 and "email_domains" in bad.json()["fields"]


def test_only_platform_managers_write_domains(campus, client_for):
    answer = client_for(campus.referent).patch(
        f"/api/v1/partners/{campus.orleans.pk}/", {"email_domains": ["x.fr"]}, format="json"
    )
    assert answer.status_code in (403, 404)
    campus.orleans.refresh_from_db()
    assert campus.orleans.email_domains == []


def test_the_admin_takes_domains_on_one_line_and_refuses_a_taken_one(campus, client):
    campus.admin.is_superuser = True
    campus.admin.save()
    client.force_login(campus.admin)
    url = f"/admin/partners/partner/{campus.servier.pk}/change/"
    form = {
        "name": campus.servier.name,
        "kind": campus.servier.kind,
        "rate_category": campus.servier.rate_category,
        "email_domains": "servier.com, Servier.fr",
    }
    assert client.post(url, form).status_code == 302
    campus.servier.refresh_from_db()
    assert campus.servier.email_domains == ["servier.com", "servier.fr"]
    other = f"/admin/partners/partner/{campus.orleans.pk}/change/"
    answer = client.post(other, {**form, "name": campus.orleans.name, "kind": "university"})
    assert answer.status_code == 200
    assert "servier.com" in answer.content.decode()  # the message names the domain
    campus.orleans.refresh_from_db()
    assert campus.orleans.email_domains == []


def test_me_lists_the_affiliations(campus, client_for, client):
    client_for(campus.admin).patch(
        f"/api/v1/partners/{campus.orleans.pk}/", {"email_domains": ["univ-orleans.fr"]}, "json"
    )
    identity = Identity(provider="oidc", subject="iss 1", email="zoe@univ-orleans.fr")
    user = sign_in(identity, now=datetime(2026, 12, 7, tzinfo=UTC))
    client.force_login(user)
    me = client.get("/api/v1/me/").json()
    assert [p["id"] for p in me["affiliations"]] == [campus.orleans.pk]
    assert me["partners"] == [] and me["roles"] == []


def test_the_login_page_shows_the_configured_providers_only(client):
    from accounts import providers

    saved = list(providers.PROVIDERS)
    try:
        providers.register(
            providers.Provider("cas", "Université", "login", None, enabled=lambda: True)
        )
        providers.register(
            providers.Provider("oidc", "Unused", "login", None, enabled=lambda: False)
        )
        page = client.get("/accounts/login/?next=/reservations/mine/").content.decode()
        assert "Université" in page and "Unused" not in page
        assert 'href="/accounts/login/?next=%2Freservations%2Fmine%2F"' in page
    finally:
        providers.PROVIDERS[:] = saved
    assert "sso" not in client.get("/accounts/login/").content.decode()
