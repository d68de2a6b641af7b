"""Failures answered cleanly (SPEC §14), fast and on both databases: every error of the API is
JSON with a code (oversized body, bad host, wrong method, unknown path, server error), pages
keep their HTML pages, and a database that cannot be reached answers 503 with Retry-After,
logged once per outage. The same with a real PostgreSQL stopped under a real gunicorn is in
test_faults.py."""

from __future__ import annotations

import json
import logging
import socket

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.db.utils import load_backend
from django.test import Client, override_settings

from platform_booking.outage import outages

pytestmark = pytest.mark.django_db

RETRY_AFTER = "30"


@pytest.fixture(autouse=True)
def no_outage_left():
    outages._incident = None
    yield
    outages._incident = None


def assert_api_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["detail"], str) and body["detail"]
    return body


def assert_page(response, status: int, heading: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'class="topbar"' in page and heading in page


# --- oversized bodies ---------------------------------------------------------------------


def test_an_oversized_json_body_is_a_413_with_a_code(client_for, campus):
    body = json.dumps({"title": "x" * 3_000_000})  # beyond Django's 2.5 MB default
    response = client_for(campus.researcher).generic(
        "POST", "/api/v1/reservations/", body, content_type="application/json"
    )
    assert_api_error(response, 413, "request_too_large")


@override_settings(MAX_UPLOAD_BODY_BYTES=50_000)
def test_an_oversized_upload_is_a_413_but_a_smaller_one_reaches_the_view(client_for, campus):
    client = client_for(campus.eq_manager)
    response = client.post(
        "/api/v1/closures/import/",
        {"file": SimpleUploadedFile("big.ics", b"x" * 60_000, content_type="text/calendar")},
        format="multipart",
    )
    assert_api_error(response, 413, "request_too_large")
    response = client.post(
        "/api/v1/closures/import/",
        {
            "file": SimpleUploadedFile("small.ics", b"nothing", content_type="text/calendar"),
            "equipment": campus.hplc.pk,
        },
        format="multipart",
    )
    # The view itself read the file: not an iCalendar file.
    assert_api_error(response, 400, "invalid_ics")


def test_an_oversized_form_on_a_page_shows_the_413_page(client, campus):
    client.force_login(campus.researcher)
    response = client.post(
        "/accounts/login/", {"username": "x" * 3_000_000}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert_page(response, 413, "Request too large")


# --- bad host, method, path ---------------------------------------------------------------


def test_a_host_not_allowed_is_a_400_with_a_code_on_the_api(client, caplog):
    response = client.get("/api/v1/equipment/", HTTP_HOST="evil.example")
    assert_api_error(response, 400, "bad_host")
    # One line on Django's security logger, without a traceback.
    lines = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in lines] == ["django.security.DisallowedHost"]
    assert lines[0].exc_info is None and "evil.example" in lines[0].getMessage()


def test_a_host_not_allowed_shows_the_400_page_elsewhere(client):
    response = client.get("/equipment/", HTTP_HOST="evil.example", HTTP_ACCEPT_LANGUAGE="en")
    assert_page(response, 400, "Bad request")
    assert "evil.example" not in response.content.decode()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("delete", "/api/v1/sites/"),
        ("put", "/api/v1/reservations/"),
        ("post", "/api/v1/me/"),
    ],
)
def test_a_wrong_method_is_a_405_with_a_code(client_for, campus, method, path):
    response = getattr(client_for(campus.admin), method)(path, {}, format="json")
    assert_api_error(response, 405, "method_not_allowed")


@pytest.mark.parametrize("path", ["/api/v1/no-such-thing/", "/api/nothing", "/api/v2/sites/"])
def test_an_unknown_api_path_is_a_404_with_a_code(client, path):
    assert_api_error(client.get(path), 404, "not_found")


@override_settings(DEBUG=False)
def test_an_unknown_page_keeps_the_404_page(client):
    assert_page(client.get("/no/such/page/", HTTP_ACCEPT_LANGUAGE="en"), 404, "Page not found")


# --- the database out of reach: 503 -----------------------------------------------------------


def closed_port() -> int:
    """A loopback port nobody listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def database_down(tmp_path):
    """Point the default connection at a database that cannot be reached: PostgreSQL on a
    closed loopback port (connection refused), SQLite in a directory that does not exist."""
    original = connections["default"]
    params = {**original.settings_dict, "OPTIONS": dict(original.settings_dict["OPTIONS"])}
    if original.vendor == "postgresql":
        params |= {"HOST": "127.0.0.1", "PORT": closed_port()}
        params["OPTIONS"].pop("pool", None)  # a pool would wait for its timeout first
    else:
        params["NAME"] = str(tmp_path / "gone" / "db.sqlite3")
    down = load_backend(params["ENGINE"]).DatabaseWrapper(params, "default")
    connections["default"] = down
    yield
    down.close()
    connections["default"] = original


def test_the_api_answers_503_json_with_retry_after_when_the_database_is_down(database_down, caplog):
    client = Client(raise_request_exception=False)
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            response = client.get(
                "/api/v1/equipment/", HTTP_AUTHORIZATION="Token abc", HTTP_ACCEPT_LANGUAGE="en"
            )
            body = assert_api_error(response, 503, "service_unavailable")
            assert response["Retry-After"] == RETRY_AFTER
            assert body["detail"].startswith("The service is temporarily unavailable")
    # One line for the outage, no traceback per request.
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.name for r in errors] == ["platform_booking.outage"], errors
    assert errors[0].exc_info is None
    assert "database unavailable" in errors[0].getMessage()


def test_pages_answer_the_503_page_when_the_database_is_down(database_down):
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "a" * 32  # reading the session needs the database
    response = client.get("/my/", HTTP_ACCEPT_LANGUAGE="en")
    assert_page(response, 503, "Service unavailable")
    assert response["Retry-After"] == RETRY_AFTER


def test_healthz_answers_503_when_the_database_is_down(database_down):
    response = Client().get("/healthz")
    assert response.status_code == 503
    assert response["Retry-After"] == RETRY_AFTER
    assert response.json()["code"] == "service_unavailable"


def test_the_end_of_an_outage_is_logged_once(client, caplog):
    try:
        raise_operational()
    except Exception as error:
        outages.failed(error)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="platform_booking.outage"):
        assert client.get("/healthz").status_code == 200
        assert client.get("/healthz").status_code == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "platform_booking.outage"]
    assert len(lines) == 1 and lines[0].startswith("database available again"), lines
    assert not outages.ongoing


def raise_operational() -> None:
    from django.db import OperationalError

    raise OperationalError("connection refused")


def test_the_503_speaks_the_readers_language(database_down):
    response = Client(raise_request_exception=False).get(
        "/api/v1/equipment/", HTTP_AUTHORIZATION="Token abc", HTTP_ACCEPT_LANGUAGE="fr"
    )
    body = assert_api_error(response, 503, "service_unavailable")
    assert body["detail"].startswith("Le service est temporairement indisponible")
