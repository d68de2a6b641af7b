"""CAS single sign-on (SPEC §13) through a real CAS server (django-cas-server, its own
process on the loopback) and our app in the live server: the browser's redirects are
followed one by one with `requests`, as a browser would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from html.parser import HTMLParser
from urllib.parse import parse_qs, quote, urljoin, urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model

from accounts.models import ExternalIdentity
from core.roles import SYSTEM
from partners.models import Affiliation
from partners.services import partner_update
from tests.accounts.cas_server.server import CASServer
from tests.accounts.handover import handover_url

User = get_user_model()
PASSWORD = "cas-pw-alice"
ALICE = {
    "username": "amartin",
    "password": PASSWORD,
    "email": "Alice.Martin@univ-orleans.fr",
    "first_name": "Alice",
    "last_name": "Martin",
}


@pytest.fixture(scope="module")
def cas_server(tmp_path_factory):
    server = CASServer(tmp_path_factory.mktemp("cas"), [ALICE])
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app(cas_server, live_server, settings, campus):
    """Our platform, configured for the test CAS server; the partners' email domains set."""
    settings.CAS_SERVER_URL = cas_server.url
    partner_update(actor=SYSTEM, partner=campus.orleans, email_domains=["univ-orleans.fr"])
    partner_update(actor=SYSTEM, partner=campus.servier, email_domains=["servier.com"])
    yield live_server.url
    # The next test starts with the person as the CAS server first knew them.
    cas_server.update_user(ALICE["username"], email=ALICE["email"])


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("name") and values.get("type") != "checkbox":
            self.fields[values["name"] or ""] = values.get("value") or ""


class Browser:
    """One person's browser: cookies of both sites, redirects followed by hand."""

    def __init__(self, app: str, cas: CASServer) -> None:
        self.app, self.cas = app, cas
        self.session = requests.Session()
        self.asked_credentials = False

    def get(self, url: str) -> requests.Response:
        return self.session.get(url, allow_redirects=False, timeout=10)

    def start(self, next_url: str = "/my/") -> str:
        """Our CAS login: the URL of the CAS server's login page it sends the browser to."""
        answer = self.get(f"{self.app}/accounts/cas/login/?next={quote(next_url)}")
        assert answer.status_code == 302
        location = answer.headers["Location"]
        assert location.startswith(self.cas.url + "login?service=")
        return location

    def ticket_url(self, cas_login_url: str, password: str = PASSWORD) -> str:
        """The CAS server's side: our service URL with a ticket (credentials asked only
        when the browser has no CAS session)."""
        self.asked_credentials = False
        answer = self.get(cas_login_url)
        if answer.status_code == 200:
            self.asked_credentials = True
            form = _Form()
            form.feed(answer.text)
            answer = self.session.post(
                cas_login_url,
                data={**form.fields, "username": ALICE["username"], "password": password},
                allow_redirects=False,
                timeout=10,
            )
        assert answer.status_code == 302, answer.text[:500]
        location = answer.headers["Location"]
        assert location.startswith(f"{self.app}/accounts/cas/login/") and "ticket=ST-" in location
        return location

    def login(self, next_url: str = "/my/") -> requests.Response:
        """The whole round trip; the answer of our callback."""
        return self.get(self.ticket_url(self.start(next_url)))

    def has_cas_session(self) -> bool:
        """Whether the CAS server knows this browser (its TGC): it then hands a ticket
        out at once instead of showing its login form."""
        service = quote(f"{self.app}/accounts/cas/login/?next=/", safe="")
        return self.get(f"{self.cas.url}login?service={service}").status_code == 302

    def me(self) -> dict | None:
        answer = self.get(f"{self.app}/api/v1/me/")
        return answer.json() if answer.status_code == 200 else None

    def logout(self) -> list[str]:
        """POST /accounts/logout/ (with the CSRF token), its hand-over page and redirects
        followed; their URLs."""
        self.get(f"{self.app}/accounts/login/")
        token = self.session.cookies["csrftoken"]
        answer = self.session.post(
            f"{self.app}/accounts/logout/",
            data={"csrfmiddlewaretoken": token},
            allow_redirects=False,
            timeout=10,
        )
        hops = [handover_url(answer.status_code, answer.text)]
        answer = self.get(urljoin(answer.url, hops[-1]))
        while answer.status_code == 302:
            hops.append(answer.headers["Location"])
            answer = self.get(urljoin(answer.url, hops[-1]))
        assert answer.status_code == 200
        return hops


def test_first_login_creates_the_user_from_the_attributes_with_its_partner(app, cas_server, campus):
    browser = Browser(app, cas_server)
    answer = browser.login("/my/")

    assert answer.status_code == 302 and answer.headers["Location"] == "/my/"
    assert browser.asked_credentials
    me = browser.me()
    assert me is not None
    user = User.objects.get(pk=me["id"])
    assert (user.email, user.first_name, user.last_name) == (
        "alice.martin@univ-orleans.fr",
        "Alice",
        "Martin",
    )
    assert not user.has_usable_password() and not user.is_staff and not user.is_superuser
    assert not user.groups.exists()
    link = ExternalIdentity.objects.get(user=user)
    assert (link.provider, link.subject) == ("cas", "amartin")  # the ticket's <cas:user>
    assert [a.partner for a in Affiliation.objects.filter(user=user)] == [campus.orleans]
    assert [p["id"] for p in me["affiliations"]] == [campus.orleans.pk]


def test_a_second_login_and_a_changed_email_land_on_the_same_user(app, cas_server, campus):
    first = Browser(app, cas_server)
    first.login()
    user_id = first.me()["id"]
    users = User.objects.count()

    # Another browser: a new CAS session, credentials asked again, the same person.
    again = Browser(app, cas_server)
    again.login()
    assert again.asked_credentials and again.me()["id"] == user_id

    # The CAS server's directory gives her a new address: the same user, updated.
    cas_server.update_user("amartin", email="alice.martin@servier.com")
    moved = Browser(app, cas_server)
    moved.login()
    me = moved.me()
    assert me["id"] == user_id and me["email"] == "alice.martin@servier.com"
    assert User.objects.count() == users
    assert {p["id"] for p in me["affiliations"]} == {campus.orleans.pk, campus.servier.pk}


def test_logout_ends_our_session_and_the_cas_servers(app, cas_server):
    browser = Browser(app, cas_server)
    browser.login()
    assert browser.me() is not None and browser.has_cas_session()

    hops = browser.logout()

    assert hops[0] == "/accounts/cas/logout/"
    assert hops[1] == f"{cas_server.url}logout?service={quote(app + '/accounts/login/', safe='')}"
    assert hops[-1] == f"{app}/accounts/login/"
    assert browser.me() is None
    # The CAS server's session (its TGC) is gone: it asks for the credentials again.
    assert not browser.has_cas_session()
    assert browser.login().status_code == 302 and browser.asked_credentials
    assert browser.me() is not None


def test_a_logout_at_the_cas_server_ends_our_session_too(app, cas_server):
    """The CAS server's single logout request (a POST to our service URL) ends the session
    its ticket opened here, and only that one."""
    browser, other = Browser(app, cas_server), Browser(app, cas_server)
    browser.login()
    other.login()

    answer = browser.get(f"{cas_server.url}logout")

    assert answer.status_code == 200
    assert browser.me() is None
    assert other.me() is not None
    # Anything else posted there is refused, and ends nothing.
    for junk in ({"logoutRequest": "<not xml"}, {"next": "https://evil.example/"}):
        answer = requests.post(f"{app}/accounts/cas/login/", data=junk, timeout=10)
        assert answer.status_code == 400
    assert other.me() is not None


def service_of(cas_login_url: str) -> str:
    """The service URL (our callback, with `next` and our state) a CAS login URL names."""
    return parse_qs(urlsplit(cas_login_url).query)["service"][0]


def ticket_of(url: str) -> str:
    return parse_qs(urlsplit(url).query)["ticket"][0]


def test_a_forged_ticket_is_refused_without_a_login_nor_a_lockout(
    app, cas_server, campus, client, settings
):
    settings.LOGIN_FAILURES_PER_ADDRESS = 1
    browser = Browser(app, cas_server)
    users = User.objects.count()
    service = service_of(browser.start("/my/"))

    answer = browser.get(f"{service}&ticket=ST-forged-123")

    assert answer.status_code == 302
    assert answer.headers["Location"] == "/accounts/login/?next=%2Fmy%2F"
    assert browser.me() is None and User.objects.count() == users
    page = browser.get(f"{app}{answer.headers['Location']}").text
    assert "La connexion par CAS a échoué" in page
    # No password was tried: the address (the loopback's, the client's too) is not locked.
    login = {"username": campus.teacher.username, "password": "pw-" + campus.teacher.username}
    assert client.post("/accounts/login/", login).status_code == 302


def test_a_ticket_serves_once_the_browser_that_asked_for_it_and_its_service_only(app, cas_server):
    browser = Browser(app, cas_server)
    ticket_url = browser.ticket_url(browser.start("/my/"))
    assert browser.get(ticket_url).status_code == 302 and browser.me() is not None

    # A ticket of one's own, not used yet, sent to a victim to log them in as oneself:
    # not the state the victim's browser set off with (it did not).
    attacker, victim = Browser(app, cas_server), Browser(app, cas_server)
    bait = attacker.ticket_url(attacker.start("/my/"))
    assert victim.get(bait).headers["Location"].startswith("/accounts/login/")
    assert victim.me() is None

    # Replayed in another browser (from a history, a log…): refused the same way.
    thief = Browser(app, cas_server)
    assert thief.get(ticket_url).headers["Location"].startswith("/accounts/login/")
    assert thief.me() is None
    # With the thief's own state: the CAS server validated that ticket already, and for
    # another service URL.
    service = service_of(thief.start("/my/"))
    answer = thief.get(f"{service}&ticket={ticket_of(ticket_url)}")
    assert answer.headers["Location"].startswith("/accounts/login/")
    assert thief.me() is None

    # A ticket not used yet, presented to another service URL than it was issued to (the
    # browser set off again meanwhile): the CAS server refuses it.
    other = Browser(app, cas_server)
    unused = ticket_of(other.ticket_url(other.start("/my/")))
    service = service_of(other.start("/my/"))
    answer = other.get(f"{service}&ticket={unused}")
    assert answer.headers["Location"].startswith("/accounts/login/")
    assert other.me() is None


def test_a_ticket_without_our_state_sets_off_again_through_the_cas_session(app, cas_server):
    """A portal linking straight to the CAS server with our bare service URL: its ticket is
    not used; the login sets off again (with a state), and the CAS session answers."""
    browser = Browser(app, cas_server)
    browser.ticket_url(browser.start())  # a CAS session, not logged in here
    bare = quote(f"{app}/accounts/cas/login/?next=/my/", safe="")
    from_portal = browser.get(f"{cas_server.url}login?service={bare}").headers["Location"]

    answer = browser.get(from_portal)

    assert answer.status_code == 302
    again = answer.headers["Location"]
    assert again.startswith(f"{cas_server.url}login?service=") and "state" in service_of(again)
    assert browser.get(browser.ticket_url(again)).headers["Location"] == "/my/"
    assert not browser.asked_credentials and browser.me() is not None


def test_next_must_stay_on_this_site(app, cas_server):
    browser = Browser(app, cas_server)
    cas_login = browser.start("https://evil.example/steal")
    assert parse_qs(urlsplit(service_of(cas_login)).query)["next"] == ["/equipment/"]

    answer = browser.get(browser.ticket_url(cas_login))

    assert answer.headers["Location"] == "/equipment/"


def test_an_unreachable_or_wrong_cas_server_refuses_the_login_without_an_error(
    app, cas_server, settings
):
    browser = Browser(app, cas_server)
    ticket_url = browser.ticket_url(browser.start())
    # Its validation URL answers an HTML page (a 404 of our own site), not CAS XML.
    settings.CAS_SERVER_URL = f"{app}/nowhere/"

    answer = browser.get(ticket_url)

    assert answer.status_code == 302 and answer.headers["Location"].startswith("/accounts/login/")
    assert browser.me() is None


def test_without_cas_server_url_nothing_changes(db, client, settings):
    settings.CAS_SERVER_URL = None
    assert client.get("/accounts/cas/login/").status_code == 404
    assert client.get("/accounts/cas/logout/").status_code == 404
    assert "/accounts/cas/" not in client.get("/accounts/login/").content.decode()


def test_the_login_page_offers_cas_under_its_label_when_configured(db, client, settings):
    settings.CAS_SERVER_URL = "https://cas.univ-orleans.fr/cas/"
    page = client.get("/accounts/login/?next=/my/").content.decode()
    assert 'href="/accounts/cas/login/?next=%2Fmy%2F"' in page
    assert "CAS" in page


def read_settings(**env: str) -> dict:
    """The CAS settings and the policy's form-action as the environment makes them."""
    code = (
        "import json; from platform_booking import settings as s; print(json.dumps(["
        "s.CAS_SERVER_URL, s.CAS_VERSION, s.CAS_LABEL, s.CAS_ATTRIBUTE_EMAIL,"
        "s.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action']]))"
    )
    base = {"PATH": os.environ.get("PATH", ""), "DEBUG": "1"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=django_settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return {"out": json.loads(result.stdout) if result.returncode == 0 else None, **vars(result)}


def test_the_environment_turns_cas_on_and_lets_logout_reach_its_server():
    """Logging out is a form whose redirects end at the CAS server: the Content Security
    Policy's form-action must allow its origin (Chromium refuses it otherwise)."""
    assert read_settings()["out"] == [None, "3", "CAS", "mail", ["'self'"]]
    on = read_settings(
        CAS_SERVER_URL="https://cas.univ-orleans.fr/cas", CAS_LABEL="ENT", CAS_VERSION="2"
    )
    assert on["out"] == [
        "https://cas.univ-orleans.fr/cas/",
        "2",
        "ENT",
        "mail",
        ["'self'", "https://cas.univ-orleans.fr"],
    ]
    for bad in ({"CAS_SERVER_URL": "cas.univ-orleans.fr"}, {"CAS_VERSION": "1"}):
        refused = read_settings(**bad)
        assert refused["out"] is None and "ImproperlyConfigured" in refused["stderr"]
