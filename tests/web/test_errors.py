"""Error pages (SPEC §8): 403, 404, 500 and 503 in the site's layout and the reader's
language, with a way back; 500 and 503 rendered without a database query."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.test import Client, override_settings
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext

from platform_booking.urls import urlpatterns as site_urlpatterns

pytestmark = pytest.mark.django_db


def _boom(request):
    raise RuntimeError("a bug")


def _database_down(request):
    raise OperationalError("could not connect to server")


# This module is the URLconf of the 500/503 tests: the site's pages plus two that fail.
urlpatterns = [
    path("test-errors/boom/", _boom),
    path("test-errors/database-down/", _database_down),
    path("api/test-errors/boom/", _boom),
    path("api/test-errors/database-down/", _database_down),
    *site_urlpatterns,
]
handler403 = "platform_booking.views.permission_denied"
handler404 = "platform_booking.views.not_found"
handler500 = "platform_booking.views.server_error"


def words(language: str, text: str) -> str:
    with translation.override(language):
        return gettext(text)


def assert_in_layout(page: str, language: str) -> None:
    assert f'<html lang="{language}">' in page
    assert 'class="topbar"' in page and "<main" in page  # the site's layout
    assert 'href="/equipment/"' in page  # the way back to the catalogue
    assert words(language, "Equipment catalogue") in page


@override_settings(DEBUG=False)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_refused_page_shows_the_403_page_in_the_readers_language(client, campus, language):
    client.force_login(campus.researcher)
    response = client.get("/manage/approvals/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 403
    page = response.content.decode()
    assert_in_layout(page, language)
    assert words(language, "Access refused") in page
    # The view's own reason is shown, translated where it was raised.
    assert words(language, "This page is for platform and equipment managers.") in page
    assert "<h1>403 Forbidden</h1>" not in page
    # The navigation of the logged-in user is there: they can go on elsewhere.
    assert 'href="/my/"' in page


@override_settings(DEBUG=False)
@pytest.mark.parametrize(
    ("language", "heading"), [("fr", "Page non trouvée"), ("en", "Page not found")]
)
def test_an_unknown_page_shows_the_404_page_in_the_readers_language(
    client, campus, language, heading
):
    client.force_login(campus.researcher)
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    page = response.content.decode()
    assert_in_layout(page, language)
    assert heading in page


@override_settings(DEBUG=False)
def test_an_anonymous_404_is_in_the_layout_too(client):
    response = client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="fr")
    assert response.status_code == 404
    assert_in_layout(response.content.decode(), "fr")


@override_settings(DEBUG=False)
def test_the_api_keeps_its_json_404(client):
    response = client.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "detail": "Not found."}


@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
@pytest.mark.parametrize(
    ("language", "heading"), [("fr", "Erreur du serveur"), ("en", "Server error")]
)
def test_a_crash_shows_the_500_page_without_a_database_query(
    campus, language, heading, django_assert_num_queries
):
    client = Client(raise_request_exception=False)
    client.force_login(campus.researcher)
    with django_assert_num_queries(0):
        # The handler runs no query: with the database down, it still answers.
        response = client.get("/test-errors/boom/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 500
    page = response.content.decode()
    assert_in_layout(page, language)
    assert heading in page
    assert "a bug" not in page  # nothing of the exception is shown


@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_database_down_shows_the_503_page(language):
    client = Client(raise_request_exception=False)
    response = client.get("/test-errors/database-down/", HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert_in_layout(page, language)
    assert words(language, "Service unavailable") in page
    assert "could not connect" not in page


@override_settings(DEBUG=False, ROOT_URLCONF=__name__)
def test_the_api_answers_its_json_on_500_and_503():
    client = Client(raise_request_exception=False)
    response = client.get("/api/test-errors/boom/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 500
    assert response.json() == {"code": "server_error", "detail": "Server error"}
    response = client.get("/api/test-errors/database-down/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert response.json()["code"] == "service_unavailable"
