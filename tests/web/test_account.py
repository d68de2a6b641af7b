"""My account (SPEC §8): language, feed token rotation, API token revocation, password."""

from __future__ import annotations

import pytest

from core.api_tokens import api_token_issue
from core.models import ApiToken
from partners.models import FeedToken, UserPreference
from partners.services import feed_token_for

pytestmark = pytest.mark.django_db


def account_page(client, user, **headers) -> str:
    client.force_login(user)
    response = client.get("/account/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_account_page_needs_a_login(client):
    response = client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post("/account/feed-token/").status_code == 302
    assert client.post("/account/api-token/").status_code == 302


def test_navigation_links_to_the_account_page(client, campus):
    page = account_page(client, campus.researcher)
    assert 'href="/account/" aria-current="page"' in page
    assert 'href="/account/"' in client.get("/equipment/").content.decode()


def test_account_page_in_english_shows_the_feed_address(client, campus, settings):
    page = account_page(client, campus.researcher, HTTP_ACCEPT_LANGUAGE="en")
    key = feed_token_for(user=campus.researcher).key
    assert "My account" in page and "Calendar feed" in page
    assert f"{settings.SITE_URL}/calendars/me.ics?token={key}" in page


def test_choosing_the_language_is_remembered(client, campus):
    page = account_page(client, campus.researcher)
    assert 'action="/i18n/setlang/"' in page and 'name="next" value="/account/"' in page
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/account/"})
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert UserPreference.objects.get(user=campus.researcher).language == "en"
    assert "My account" in client.get("/account/").content.decode()


def test_rotating_the_feed_token_stops_the_old_address(client, campus):
    old = feed_token_for(user=campus.researcher).key
    assert client.get(f"/calendars/me.ics?token={old}").status_code == 200
    client.force_login(campus.researcher)
    assert client.get("/account/feed-token/").status_code == 405
    response = client.post("/account/feed-token/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and response["Location"] == "/account/#feed"
    new = FeedToken.objects.get(user=campus.researcher).key
    assert new != old
    page = client.get("/account/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your calendar feed has a new address" in page and new in page and old not in page
    client.logout()  # a calendar application has no session: only the token counts
    assert client.get(f"/calendars/me.ics?token={old}").status_code == 401
    assert client.get(f"/calendars/me.ics?token={new}").status_code == 200


def test_revoking_the_api_token_refuses_it_afterwards(client, campus):
    key = api_token_issue(user=campus.researcher)
    other = (
        ApiToken.objects.get(user=campus.teacher) if api_token_issue(user=campus.teacher) else None
    )
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 200
    page = account_page(client, campus.researcher, HTTP_ACCEPT_LANGUAGE="en")
    assert 'action="/account/api-token/"' in page
    assert client.get("/account/api-token/").status_code == 405
    response = client.post("/account/api-token/", HTTP_ACCEPT_LANGUAGE="en")
    assert response["Location"] == "/account/#api"
    assert not ApiToken.objects.filter(user=campus.researcher).exists()
    assert ApiToken.objects.filter(pk=other.pk).exists()  # only one's own token
    page = account_page(client, campus.researcher, HTTP_ACCEPT_LANGUAGE="en")
    assert "Your API token is revoked" in page and "You have no API token." in page
    assert 'action="/account/api-token/"' not in page
    client.logout()
    assert client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


def test_password_section_tells_local_and_institution_accounts_apart(client, campus):
    page = account_page(client, campus.researcher, HTTP_ACCEPT_LANGUAGE="en")
    assert 'id="password"' in page and "You sign in through your institution" not in page
    campus.teacher.set_unusable_password()
    campus.teacher.save()
    page = account_page(client, campus.teacher, HTTP_ACCEPT_LANGUAGE="en")
    assert "You sign in through your institution" in page
    assert 'href="/accounts/password_change/"' not in page


def test_a_local_account_changes_its_password(client, campus):
    page = account_page(client, campus.researcher, HTTP_ACCEPT_LANGUAGE="en")
    assert 'href="/accounts/password_change/"' in page
    form = client.get("/accounts/password_change/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="old_password"' in form and 'name="new_password2"' in form
    wrong = client.post(
        "/accounts/password_change/",
        {"old_password": "nope", "new_password1": "Sel-marin-42", "new_password2": "Sel-marin-42"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert wrong.status_code == 200 and "incorrectly" in wrong.content.decode()
    response = client.post(
        "/accounts/password_change/",
        {
            "old_password": "pw-chercheur",
            "new_password1": "Sel-marin-42",
            "new_password2": "Sel-marin-42",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302 and response["Location"] == "/account/"
    campus.researcher.refresh_from_db()
    assert campus.researcher.check_password("Sel-marin-42")
    # The session survives the change.
    page = client.get("/account/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Your password is changed." in page
