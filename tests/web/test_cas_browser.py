"""CAS single sign-on in Chromium: the login and logout redirects between our pages and a
real CAS server (django-cas-server on the loopback), under our Content Security Policy."""

from __future__ import annotations

import copy

import pytest

from tests.accounts.cas_server.server import CASServer
from tests.accounts.test_cas import ALICE, PASSWORD

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.walkthrough]


@pytest.fixture(scope="module")
def cas_server(tmp_path_factory):
    server = CASServer(tmp_path_factory.mktemp("cas"), [ALICE])
    server.start()
    yield server
    server.stop()


def test_a_campus_member_logs_in_and_out_through_cas(browser, live_server, settings, cas_server):
    settings.CAS_SERVER_URL = cas_server.url
    # As the settings make it from CAS_SERVER_URL (tests/accounts/test_cas.py checks that).
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"] = ["'self'", cas_server.url.rstrip("/")]
    settings.CONTENT_SECURITY_POLICY = policy
    context = browser.new_context(locale="fr-FR")
    # The CAS server's pages name a CDN's stylesheets: nothing leaves the loopback.
    context.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith(("http://localhost:", "http://127.0.0.1:"))
            else route.abort()
        ),
    )
    page = context.new_page()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    try:
        page.goto(f"{live_server.url}/accounts/login/?next=/my/")
        page.get_by_role("link", name="Se connecter avec CAS").click()
        page.wait_for_url(f"{cas_server.url}login?**")
        page.fill("#id_username", ALICE["username"])
        page.fill("#id_password", PASSWORD)
        page.locator("#login_form button[type=submit]").click()
        page.wait_for_url(f"{live_server.url}/my/")

        page.locator("form[action='/accounts/logout/'] button").click()
        page.wait_for_url(f"{live_server.url}/accounts/login/")
        assert refused == []
        # The CAS session ended too: its login page asks for the credentials again.
        page.goto(f"{cas_server.url}login")
        assert page.locator("#id_password").is_visible()
    finally:
        context.close()
