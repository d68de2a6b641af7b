"""OpenID Connect single sign-on (SPEC §13) through a real provider on the loopback.

The provider is django-oauth-toolkit with OIDC on (tests/accounts/oidc_provider), run in
its own process with its own SQLite file and an RSA key made here. Our app answers through
Django's test client (host `testserver`); the provider through `requests`, as the browser
would, following the redirects by hand: our login → the provider's authorize (and its login
form) → our callback, whose code our backend exchanges with the provider for real.
"""

from __future__ import annotations

import json
import select
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.exceptions import SuspiciousOperation
from django.test import Client
from django.urls import reverse

from accounts import oidc
from accounts.models import ExternalIdentity
from core.roles import SYSTEM
from partners.models import Affiliation
from partners.services import partner_update
from tests.accounts.handover import handover_url

User = get_user_model()
REPO = Path(__file__).resolve().parents[2]
CLIENT_ID = "platform-booking"
CLIENT_SECRET = "a-long-client-secret-for-the-tests"
OUR_SITE = "http://testserver"
CALLBACK = f"{OUR_SITE}/accounts/oidc/callback/"
AFTER_LOGOUT = f"{OUR_SITE}/accounts/login/"
PASSWORD = "provider-password-1"
PEOPLE = {
    "alice": ("alice.martin@univ-orleans.fr", "Alice", "Martin"),
    "bob": ("bob@univ-orleans.fr", "Bob", "Leroy"),
    "carol": ("carol@univ-orleans.fr", "Carol", "Petit"),
    "dave": ("dave@example.net", "Dave", "Moreau"),
    "erin": ("erin@univ-orleans.fr", "Erin", "Roux"),
}


@dataclass
class OpenIDProvider:
    url: str
    database: Path
    private_key: rsa.RSAPrivateKey
    wrong_key_flag: Path

    @property
    def issuer(self) -> str:
        return f"{self.url}/o"

    def sub(self, username: str) -> str:
        with sqlite3.connect(self.database) as db:
            (pk,) = db.execute("SELECT id FROM auth_user WHERE username = ?", [username]).fetchone()
        return str(pk)

    def set_email(self, username: str, email: str) -> None:
        with sqlite3.connect(self.database) as db:
            db.execute("UPDATE auth_user SET email = ? WHERE username = ?", [email, username])


@pytest.fixture(scope="module")
def provider(tmp_path_factory):
    root = tmp_path_factory.mktemp("oidc-provider")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (root / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    config = {
        "database": str(root / "provider.sqlite3"),
        "private_key": str(root / "key.pem"),
        "wrong_key_flag": str(root / "wrong-key"),
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "redirect_uri": CALLBACK,
        "post_logout_redirect_uri": AFTER_LOGOUT,
        "users": [
            {
                "username": name,
                "password": PASSWORD,
                "email": email,
                "first_name": first,
                "last_name": last,
            }
            for name, (email, first, last) in PEOPLE.items()
        ],
    }
    (root / "config.json").write_text(json.dumps(config))
    errors = (root / "stderr.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.accounts.oidc_provider.serve", str(root / "config.json")],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=errors,
    )
    try:
        ready, _, _ = select.select([process.stdout], [], [], 60)
        line = process.stdout.readline().decode() if ready else ""
        assert line.strip().isdigit(), (root / "stderr.log").read_text()
        yield OpenIDProvider(
            url=f"http://127.0.0.1:{line.strip()}",
            database=Path(config["database"]),
            private_key=key,
            wrong_key_flag=Path(config["wrong_key_flag"]),
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stdout.close()
        errors.close()


@pytest.fixture
def configured(provider, settings):
    settings.OIDC_ISSUER = provider.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.OIDC_LABEL = "Université Connect"
    oidc.forget_provider_configuration()
    yield provider
    oidc.forget_provider_configuration()


@pytest.fixture
def browser():
    """The person's browser at the provider (its session cookie)."""
    with requests.Session() as session:
        session.trust_env = False  # loopback only, never a proxy
        yield session


@pytest.fixture
def domains(campus):
    partner_update(actor=SYSTEM, partner=campus.orleans, email_domains=["univ-orleans.fr"])
    partner_update(actor=SYSTEM, partner=campus.servier, email_domains=["servier.com"])
    return campus


def authorize(client, browser, provider, username, next_url=None) -> str:
    """Start the login here, pass the provider (logging in there if it asks); answer the
    callback's local URL (with the code and state) the provider sent the browser to."""
    start = client.get(reverse("oidc_login"), {"next": next_url} if next_url else {})
    assert start.status_code == 302
    location = start["Location"]
    assert location.startswith(f"{provider.issuer}/authorize/?")
    asked = parse_qs(urlsplit(location).query)
    assert asked["redirect_uri"] == [CALLBACK] and asked["code_challenge_method"] == ["S256"]
    assert asked["state"][0] and asked["nonce"][0]
    answer = browser.get(location, allow_redirects=False)
    if answer.is_redirect and urlsplit(answer.headers["Location"]).path == "/login/":
        answer = provider_login(
            browser, provider, provider.url + answer.headers["Location"], username
        )
    assert answer.status_code == 302, answer.text
    callback = answer.headers["Location"]
    assert callback.startswith(CALLBACK), callback
    return callback.removeprefix(OUR_SITE)


def provider_login(browser, provider, url, username):
    """The provider's login form, then back to where it was going (the authorize step)."""
    form = browser.get(url)
    assert form.status_code == 200 and 'name="password"' in form.text
    logged = browser.post(
        url,
        data={
            "username": username,
            "password": PASSWORD,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
            "next": parse_qs(urlsplit(url).query)["next"][0],
        },
        allow_redirects=False,
    )
    assert logged.status_code == 302, logged.text
    location = logged.headers["Location"]
    return browser.get(
        provider.url + location if location.startswith("/") else location,
        allow_redirects=False,
    )


def log_in(client, browser, provider, username, next_url=None):
    return client.get(authorize(client, browser, provider, username, next_url))


def signed_in(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def refused(answer) -> bool:
    """Back to our login page with an error, nobody logged in (never a 400 or 500)."""
    errors = [m for m in get_messages(answer.wsgi_request) if m.level_tag == "error"]
    return answer.status_code == 302 and answer["Location"] == reverse("login") and bool(errors)


def test_first_login_creates_the_user_from_the_claims_and_attaches_the_partner(
    configured, client, browser, domains
):
    back = reverse("equipment:catalogue") + "?q=hplc"
    answer = log_in(client, browser, configured, "alice", next_url=back)

    assert answer.status_code == 302 and answer["Location"] == back
    user = signed_in(client)
    assert (user.username, user.email) == ("alice.martin", "alice.martin@univ-orleans.fr")
    assert (user.first_name, user.last_name) == ("Alice", "Martin")
    assert not user.has_usable_password() and not user.is_staff and not user.is_superuser
    assert [a.partner for a in Affiliation.objects.filter(user=user)] == [domains.orleans]
    link = ExternalIdentity.objects.get(user=user)
    assert link.provider == "oidc"
    assert link.subject == f"{configured.issuer} {configured.sub('alice')}"
    assert client.session["sso_provider"] == "oidc"
    # The login page lists the provider under the configured label.
    page = Client().get(reverse("login"))
    assert "Université Connect" in page.content.decode()
    assert reverse("oidc_login") in page.content.decode()


def test_a_second_login_lands_on_the_same_user(configured, client, browser, domains):
    log_in(client, browser, configured, "bob")
    first = signed_in(client)
    users = User.objects.count()
    client.logout()

    # The provider remembers the browser: no credentials asked, the same person back.
    answer = log_in(client, browser, configured, "bob")
    assert answer.status_code == 302
    assert signed_in(client) == first
    assert User.objects.count() == users
    assert ExternalIdentity.objects.filter(user=first).count() == 1


def test_a_changed_email_at_the_provider_updates_the_user(configured, client, browser, domains):
    log_in(client, browser, configured, "carol")
    first = signed_in(client)
    users = User.objects.count()
    client.logout()
    configured.set_email("carol", "carol.petit@servier.com")

    log_in(client, browser, configured, "carol")
    again = signed_in(client)
    assert again.pk == first.pk and User.objects.count() == users
    assert again.email == "carol.petit@servier.com"
    partners = {a.partner for a in Affiliation.objects.filter(user=again)}
    assert partners == {domains.orleans, domains.servier}


def test_logout_ends_our_session_and_the_providers(configured, client, browser, domains):
    log_in(client, browser, configured, "erin")
    assert signed_in(client) is not None

    handed = client.post(reverse("logout"))
    url = handover_url(handed.status_code, handed.content.decode())
    assert url == reverse("oidc_logout")
    away = client.get(url)
    assert signed_in(client) is None
    end_session = away["Location"]
    assert end_session.startswith(f"{configured.issuer}/logout/?")
    hint = parse_qs(urlsplit(end_session).query)
    assert hint["post_logout_redirect_uri"] == [AFTER_LOGOUT] and hint["id_token_hint"][0]

    back = browser.get(end_session, allow_redirects=False)
    assert back.status_code == 302 and back.headers["Location"] == AFTER_LOGOUT
    # The provider forgot the browser: the next login asks for the credentials again.
    start = client.get(reverse("oidc_login"))
    at_provider = browser.get(start["Location"], allow_redirects=False)
    assert at_provider.status_code == 302
    assert urlsplit(at_provider.headers["Location"]).path == "/login/"


def test_a_wrong_or_replayed_state_is_refused(configured, client, browser, domains):
    callback = authorize(client, browser, configured, "alice")
    query = parse_qs(urlsplit(callback).query)
    forged = reverse("oidc_callback") + "?" + urlencode({"code": query["code"][0], "state": "x"})

    assert refused(client.get(forged))
    assert signed_in(client) is None and not ExternalIdentity.objects.exists()
    # Another browser (no session of ours) replaying the real answer: refused.
    assert refused(Client().get(callback))
    assert not ExternalIdentity.objects.exists()
    # The browser that started it logs in, once: the state is forgotten at its first use.
    assert client.get(callback)["Location"] != reverse("login")
    user = signed_in(client)
    assert user is not None
    assert refused(client.get(callback))


def test_a_nonce_other_than_the_sessions_is_refused(configured, client, browser, domains):
    callback = authorize(client, browser, configured, "alice")
    state = parse_qs(urlsplit(callback).query)["state"][0]
    session = client.session
    session["oidc_states"][state]["nonce"] = "another-login-s-nonce"
    session.save()

    assert refused(client.get(callback))
    assert signed_in(client) is None and not ExternalIdentity.objects.exists()


def test_an_id_token_whose_signature_does_not_verify_is_refused(
    configured, client, browser, domains
):
    configured.wrong_key_flag.touch()
    try:
        answer = log_in(client, browser, configured, "alice")
    finally:
        configured.wrong_key_flag.unlink()
    assert refused(answer)
    assert signed_in(client) is None and not ExternalIdentity.objects.exists()


def test_the_id_token_must_come_from_the_issuer_for_us_unexpired(configured, db):
    backend = oidc.OIDCBackend()
    backend.use(oidc.provider_configuration())
    kid = requests.get(f"{configured.issuer}/.well-known/jwks.json", timeout=5).json()["keys"][0]
    now = int(time.time())
    good = {
        "iss": configured.issuer,
        "aud": CLIENT_ID,
        "sub": "7",
        "iat": now,
        "exp": now + 300,
        "nonce": "n",
    }

    def token(claims, key=configured.private_key, alg="RS256"):
        return jwt.encode(claims, key, algorithm=alg, headers={"kid": kid["kid"]})

    assert backend.verify_token(token(good), nonce="n")["sub"] == "7"
    for bad in (
        token({**good, "iss": "http://127.0.0.1:1/o"}),
        token({**good, "aud": "another-client"}),
        token({**good, "iat": now - 7200, "exp": now - 3600}),
        token({k: v for k, v in good.items() if k != "exp"}),
        token({**good, "aud": [CLIENT_ID, "another-client"], "azp": "another-client"}),
        # The client secret as an HMAC key: the classic algorithm confusion.
        token(good, key=CLIENT_SECRET, alg="HS256"),
        token(good, key=rsa.generate_private_key(public_exponent=65537, key_size=2048)),
    ):
        with pytest.raises(SuspiciousOperation):
            backend.verify_token(bad, nonce="n")
    with pytest.raises(SuspiciousOperation):
        backend.verify_token(token(good), nonce="another")


@pytest.mark.parametrize("elsewhere", ["https://evil.example/", "//evil.example/x"])
def test_the_next_url_must_be_local(configured, client, browser, domains, elsewhere):
    answer = log_in(client, browser, configured, "alice", next_url=elsewhere)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("equipment:catalogue")
    assert signed_in(client) is not None


def test_a_refusal_at_the_provider_or_a_deactivated_user_logs_nobody_in(
    configured, client, browser, domains
):
    start = client.get(reverse("oidc_login"))
    state = parse_qs(urlsplit(start["Location"]).query)["state"][0]
    denied = {"error": "access_denied", "state": state}
    assert refused(client.get(reverse("oidc_callback"), denied))

    log_in(client, browser, configured, "dave")
    dave = signed_in(client)
    assert not dave.affiliations.exists()  # example.net: no partner
    client.logout()
    User.objects.filter(pk=dave.pk).update(is_active=False)
    assert refused(log_in(client, browser, configured, "dave"))
    assert signed_in(client) is None


def test_a_discovery_document_of_another_issuer_is_refused(configured, client, settings, db):
    settings.OIDC_ISSUER = configured.issuer + "/"  # its document names the issuer unslashed
    assert refused(client.get(reverse("oidc_login")))


def test_nothing_changes_when_not_configured(db, client):
    for name in ("oidc_login", "oidc_callback", "oidc_logout"):
        assert client.get(reverse(name)).status_code == 404
    page = client.get(reverse("login")).content.decode()
    assert reverse("oidc_login") not in page


def test_a_link_to_the_protocols_logout_from_elsewhere_logs_nobody_out(
    configured, client, browser, domains
):
    """Only our CSRF-checked POST /accounts/logout/ hands over to the protocol's logout."""
    log_in(client, browser, configured, "erin")
    answer = client.get(reverse("oidc_logout"))  # a GET from another site's link
    assert answer.status_code == 302 and not answer["Location"].startswith(configured.issuer)
    assert signed_in(client) is not None
    # The hand-over is good once: the page it names logs out, a second visit does nothing.
    handed = client.post(reverse("logout"))
    client.get(handover_url(handed.status_code, handed.content.decode()))
    assert signed_in(client) is None
