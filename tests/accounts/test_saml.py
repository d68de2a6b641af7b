"""SAML 2 single sign-on through a real identity provider (pysaml2's IdP on the loopback).

Our app is driven by Django's test client, the identity provider by `requests`, the
redirects followed by hand. The provider's answer is posted to our ACS by a client with no
cookie at all: a browser sends no SameSite=Lax cookie with that cross-site POST.
"""

from __future__ import annotations

import base64

import pytest
import requests
from django.contrib.auth import get_user_model
from django.test import Client
from saml2.saml import NAMEID_FORMAT_TRANSIENT

from accounts import saml_config
from accounts.models import ExternalIdentity
from accounts.saml import identity_from
from accounts.services import IdentityRefused
from core.roles import SYSTEM
from partners.models import Affiliation
from partners.services import partner_update
from tests.accounts.handover import handover_url

from .saml_idp import OTHER_SP, Person, SamlIdP, form_fields, make_key_pair

User = get_user_model()
SP = "http://testserver/accounts/saml/"
ACS = SP + "acs/"


@pytest.fixture(scope="module")
def idp():
    server = SamlIdP().start()
    server.sp_keys = make_key_pair(server.dir, "sp")
    yield server
    server.stop()


@pytest.fixture
def saml(idp, settings, campus):
    settings.SITE_URL = "http://testserver"
    settings.SAML_IDP_METADATA = f"{idp.base}/metadata"
    settings.SAML_SP_ENTITY_ID = SP + "metadata/"
    settings.SAML_SP_KEY_FILE, settings.SAML_SP_CERT_FILE = idp.sp_keys
    if not getattr(idp, "knows_sp", False):
        idp.load_sp_metadata(Client().get(SP + "metadata/").content.decode(), SP + "metadata/")
        idp.knows_sp = True
    idp.users.clear()
    idp.sessions.clear()
    idp.audience = idp.tamper = None
    idp.sign = True
    idp.users["amartin"] = Person(
        password="secret",
        attributes={
            "mail": ["Alice.Martin@univ-orleans.fr"],
            "givenName": ["Alice"],
            "sn": ["Martin"],
            "eduPersonPrincipalName": ["amartin@univ-orleans.fr"],
        },
    )
    partner_update(actor=SYSTEM, partner=campus.orleans, email_domains=["univ-orleans.fr"])
    partner_update(actor=SYSTEM, partner=campus.servier, email_domains=["servier.com"])
    return campus


def answer_page(client, browser, idp, username="amartin", password="secret", next_url=None):
    """Our login → the provider (its form when it has no session) → its answer page."""
    start = client.get(SP + "login/", {"next": next_url} if next_url else {})
    assert start.status_code == 302 and start["Location"].startswith(f"{idp.base}/sso?")
    page = browser.get(start["Location"])
    if 'action="/login"' in page.text:
        _, fields = form_fields(page.text)
        page = browser.post(
            f"{idp.base}/login", data={**fields, "username": username, "password": password}
        )
    assert page.status_code == 200, page.text
    return page.text


def post_answer(fields):
    """The provider's page posts to our ACS: a cross-site POST, no cookie of ours."""
    return Client().post(ACS, fields)


def log_in(client, browser, idp, **kwargs):
    action, fields = form_fields(answer_page(client, browser, idp, **kwargs))
    assert action == ACS
    acs = post_answer(fields)
    assert acs.status_code == 303, acs.content.decode()
    return client.get(acs["Location"])


def logged_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def test_first_login_creates_the_user_from_the_attributes_with_its_partner(saml, idp):
    client, browser = Client(), requests.Session()
    done = log_in(client, browser, idp, next_url="/account/")

    assert done.status_code == 302 and done["Location"] == "/account/"
    user = logged_in_user(client)
    assert (user.email, user.first_name, user.last_name) == (
        "alice.martin@univ-orleans.fr",
        "Alice",
        "Martin",
    )
    assert not user.has_usable_password() and not user.is_staff and not user.is_superuser
    assert [a.partner for a in Affiliation.objects.filter(user=user)] == [saml.orleans]
    link = ExternalIdentity.objects.get(user=user)
    # The persistent NameID, qualified by the identity provider that vouched for it.
    person = idp.users["amartin"]
    assert (link.provider, link.subject) == ("saml", f"{idp.entity_id} {person.name_id}")
    assert client.get("/account/").status_code == 200


def test_the_provider_sends_urn_oid_attribute_names_as_renater_does(saml, idp):
    _, fields = form_fields(answer_page(Client(), requests.Session(), idp))
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    assert 'Name="urn:oid:0.9.2342.19200300.100.1.3"' in xml  # mail
    assert 'Name="urn:oid:1.3.6.1.4.1.5923.1.1.1.6"' in xml  # eduPersonPrincipalName


def test_a_second_login_lands_on_the_same_user_and_a_new_email_updates_it(saml, idp):
    log_in(Client(), requests.Session(), idp)
    first = User.objects.get(email="alice.martin@univ-orleans.fr")
    count = User.objects.count()

    idp.users["amartin"].attributes["mail"] = ["alice.durand@servier.com"]
    idp.users["amartin"].attributes["sn"] = ["Durand"]
    client = Client()
    log_in(client, requests.Session(), idp)

    again = logged_in_user(client)
    assert again.pk == first.pk and User.objects.count() == count
    assert (again.email, again.last_name) == ("alice.durand@servier.com", "Durand")
    partners = {a.partner for a in Affiliation.objects.filter(user=again)}
    assert partners == {saml.orleans, saml.servier}


def test_a_local_account_with_the_same_email_is_never_taken_over(saml, idp, make_user):
    local = make_user("alice", email="alice.martin@univ-orleans.fr")
    client = Client()
    log_in(client, requests.Session(), idp)
    assert logged_in_user(client).pk != local.pk


def test_without_a_persistent_name_id_the_eppn_identifies_the_person(saml, idp):
    idp.users["amartin"].name_id_format = NAMEID_FORMAT_TRANSIENT
    client = Client()
    log_in(client, requests.Session(), idp)
    link = ExternalIdentity.objects.get(user=logged_in_user(client))
    assert link.subject == f"{idp.entity_id} amartin@univ-orleans.fr"
    # The transient NameID changes at each login; the ePPN does not: the same user.
    again = Client()
    log_in(again, requests.Session(), idp)
    assert logged_in_user(again).pk == link.user_id


def test_a_transient_only_answer_is_refused(saml, idp):
    person = idp.users["amartin"]
    person.name_id_format = NAMEID_FORMAT_TRANSIENT
    del person.attributes["eduPersonPrincipalName"]
    client = Client()
    done = log_in(client, requests.Session(), idp)
    assert done.status_code == 403
    assert "eduPersonPrincipalName" in done.content.decode()
    assert logged_in_user(client) is None
    assert not User.objects.filter(email="alice.martin@univ-orleans.fr").exists()


def test_a_tampered_answer_is_refused(saml, idp, caplog):
    # Mallory edits the signed answer to become someone else: the signature breaks.
    idp.tamper = ("amartin@univ-orleans.fr", "vice-president@univ-orleans.fr")
    client = Client()
    _, fields = form_fields(answer_page(client, requests.Session(), idp))
    acs = post_answer(fields)
    assert acs.status_code == 403
    assert "SignatureError" in caplog.text
    assert logged_in_user(client) is None
    assert not ExternalIdentity.objects.exists()


def test_an_unsigned_answer_is_refused(saml, idp, caplog):
    idp.sign = False
    _, fields = form_fields(answer_page(Client(), requests.Session(), idp))
    assert "Signature" not in base64.b64decode(fields["SAMLResponse"]).decode()
    assert post_answer(fields).status_code == 403
    assert "Neither the response nor the assertions are signed" in caplog.text
    assert not ExternalIdentity.objects.exists()


def test_an_answer_for_another_service_provider_is_refused(saml, idp, caplog):
    idp.audience = OTHER_SP
    _, fields = form_fields(answer_page(Client(), requests.Session(), idp))
    assert post_answer(fields).status_code == 403
    assert "AudienceRestrictions" in caplog.text
    assert not ExternalIdentity.objects.exists()


def test_a_replayed_answer_is_refused(saml, idp, caplog):
    client = Client()
    _, fields = form_fields(answer_page(client, requests.Session(), idp))
    first = post_answer(fields)
    assert first.status_code == 303
    assert post_answer(fields).status_code == 403
    assert "Unsolicited response" in caplog.text
    client.get(first["Location"])
    assert logged_in_user(client) is not None
    # Nor can the verified answer be used twice.
    other = Client()
    assert other.get(first["Location"]).status_code == 403


def test_an_answer_is_used_only_by_the_browser_that_asked(saml, idp):
    # Login CSRF: Mallory's own valid answer, finished in Alice's browser, is refused.
    _, fields = form_fields(answer_page(Client(), requests.Session(), idp))
    acs = post_answer(fields)
    victim = Client()
    assert victim.get(acs["Location"]).status_code == 403
    assert logged_in_user(victim) is None


def test_garbage_and_missing_answers_are_refused_without_an_error(saml):
    assert Client().post(ACS, {"SAMLResponse": "bm90IHhtbA=="}).status_code == 403
    assert Client().post(ACS, {}).status_code == 400
    assert Client().get(SP + "done/", {"token": "nope"}).status_code == 403


def test_the_next_url_must_be_local(saml, idp):
    client = Client()
    done = log_in(client, requests.Session(), idp, next_url="https://evil.example.org/")
    assert done["Location"] == "/equipment/"


def test_a_deactivated_user_is_refused(saml, idp):
    log_in(Client(), requests.Session(), idp)
    User.objects.filter(email="alice.martin@univ-orleans.fr").update(is_active=False)
    client = Client()
    assert log_in(client, requests.Session(), idp).status_code == 403
    assert logged_in_user(client) is None


def test_logout_ends_our_session_and_the_providers(saml, idp):
    client, browser = Client(), requests.Session()
    log_in(client, browser, idp)
    logins = idp.logins

    handover = client.post("/accounts/logout/")
    url = handover_url(handover.status_code, handover.content.decode())
    assert url == "/accounts/saml/logout/"
    to_idp = client.get(url)
    assert to_idp.status_code == 302 and to_idp["Location"].startswith(f"{idp.base}/slo?")
    assert logged_in_user(client) is None
    back = browser.get(to_idp["Location"], allow_redirects=False)
    assert back.status_code == 302 and back.headers["Location"].startswith(SP + "ls/?")
    end = client.get(back.headers["Location"].removeprefix("http://testserver"))
    assert end.status_code == 302 and end["Location"] == "/accounts/login/"
    assert idp.sessions == {}
    # The provider asks for the password again.
    log_in(client, browser, idp)
    assert idp.logins == logins + 1


def test_without_single_logout_at_the_provider_logout_is_local(saml, idp, settings):
    settings.SAML_IDP_METADATA = f"{idp.base}/metadata-noslo"
    client, browser = Client(), requests.Session()
    log_in(client, browser, idp)
    logins = idp.logins

    handover = client.post("/accounts/logout/")
    out = client.get(handover_url(handover.status_code, handover.content.decode()))
    assert out["Location"] == "/accounts/login/"
    assert logged_in_user(client) is None
    # The provider's session stays: the next login does not ask for the password.
    log_in(client, browser, idp)
    assert idp.logins == logins and logged_in_user(client) is not None


def test_a_logout_started_at_the_provider_ends_our_session(saml, idp):
    client = Client()
    log_in(client, requests.Session(), idp)
    url = idp.logout_request_url("amartin", SP + "metadata/", SP + "ls/")
    answer = client.get(url.removeprefix("http://testserver"))
    assert logged_in_user(client) is None
    assert answer.status_code == 302
    assert answer["Location"].startswith(f"{idp.base}/slo?SAMLResponse=")


def test_our_metadata_names_our_endpoints_and_keys(saml):
    xml = Client().get(SP + "metadata/").content.decode()
    assert 'entityID="http://testserver/accounts/saml/metadata/"' in xml
    assert f'Location="{ACS}"' in xml and f'Location="{SP}ls/"' in xml
    assert "X509Certificate" in xml and 'AuthnRequestsSigned="true"' in xml


def test_the_login_page_shows_saml_when_configured(saml, settings):
    assert "/accounts/saml/login/" in Client().get("/accounts/login/").content.decode()
    settings.SAML_IDP_METADATA = ""
    assert "/accounts/saml/login/" not in Client().get("/accounts/login/").content.decode()
    assert Client().get(SP + "login/").status_code == 404
    assert Client().get(SP + "metadata/").status_code == 404


def test_the_metadata_may_be_a_file(saml, idp, settings, tmp_path):
    source = tmp_path / "idp.xml"
    source.write_text(idp.metadata())
    settings.SAML_IDP_METADATA = str(source)
    start = Client().get(SP + "login/")
    assert start.status_code == 302 and start["Location"].startswith(f"{idp.base}/sso?")


def test_a_failed_metadata_reload_keeps_the_metadata_we_have(saml, settings, monkeypatch):
    before = saml_config.sp_config()
    settings.SAML_METADATA_REFRESH = 0

    def unreachable():
        raise OSError("the federation's server is down")

    monkeypatch.setattr(saml_config, "config_dict", unreachable)
    assert saml_config.sp_config() is before


def test_the_identifier_is_never_the_email_alone():
    info = {"issuer": "https://idp", "name_id": None, "ava": {"mail": ["a@b.fr"]}}
    with pytest.raises(IdentityRefused):
        identity_from(info)
    info["ava"]["pairwise-id"] = ["XYZ@univ-tours.fr"]
    assert identity_from(info).subject == "https://idp XYZ@univ-tours.fr"
