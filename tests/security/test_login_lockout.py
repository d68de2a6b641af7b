"""Login lockout (SPEC §13): per account and per client address, in the shared cache,
forwarded addresses believed only from trusted proxies; 429 with Retry-After."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from platform_booking.login_guard import client_address

pytestmark = pytest.mark.django_db

LIMITS = {
    "LOGIN_FAILURES_PER_ACCOUNT": 5,
    "LOGIN_FAILURES_PER_ADDRESS": 8,
    "LOGIN_LOCKOUT_SECONDS": 600,
}
PROXY = {"TRUSTED_PROXIES": (ip_network("10.0.0.0/8"),)}


def token_login(username: str, password: str, *, peer: str = "203.0.113.5", forwarded=None):
    headers = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIClient().post(
        "/api/v1/auth/token/",
        {"username": username, "password": password},
        format="json",
        **headers,
    )


def test_the_default_store_is_the_database_shared_by_every_process():
    assert isinstance(caches["default"], DatabaseCache)


@override_settings(**LIMITS)
def test_changing_forwarded_headers_from_an_untrusted_peer_does_not_escape_the_lock(make_user):
    make_user("alice")
    answers = [
        token_login(f"user{i}", "wrong", forwarded=f"198.51.100.{i}").status_code for i in range(30)
    ]
    # Eight failures from the address (whatever the header says), then refused.
    assert answers[:8] == [400] * 8
    assert set(answers[8:]) == {429}
    refused = token_login("alice", "pw-alice", forwarded="192.0.2.77")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert refused.json()["detail"]
    assert 590 <= int(refused["Retry-After"]) <= 600
    # Another address is not locked: alice logs in from there.
    assert token_login("alice", "pw-alice", peer="203.0.113.99").status_code == 200


@override_settings(**LIMITS)
def test_an_account_is_locked_whatever_the_address(make_user):
    make_user("alice")
    for i in range(5):
        assert token_login("alice", "wrong", peer=f"203.0.113.{i}").status_code == 400
    # The right password from a fresh address: still refused, the account is locked.
    response = token_login("alice", "pw-alice", peer="203.0.113.200")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    # Other accounts from that address are fine.
    make_user("bob")
    assert token_login("bob", "pw-bob", peer="203.0.113.200").status_code == 200


@override_settings(**LIMITS)
def test_a_successful_login_does_not_reset_the_address_count(make_user):
    make_user("attacker")
    for round_ in range(2):
        for i in range(4 - round_):
            assert token_login(f"victim{round_}{i}", "guess").status_code == 400
        # Logging into one's own account in between clears the account's count only.
        assert token_login("attacker", "pw-attacker").status_code == 200
    assert token_login("victim9", "guess").status_code == 400  # the 8th failure
    assert token_login("victim10", "guess").status_code == 429


@override_settings(**LIMITS, **PROXY)
def test_a_trusted_proxy_forwarded_address_is_used(make_user):
    make_user("alice")
    for i in range(8):
        response = token_login(f"u{i}", "wrong", peer="10.0.0.2", forwarded="198.51.100.7")
        assert response.status_code == 400
    assert token_login("x", "wrong", peer="10.0.0.2", forwarded="198.51.100.7").status_code == 429
    # Another client behind the same proxy is not locked.
    ok = token_login("alice", "pw-alice", peer="10.0.0.3", forwarded="198.51.100.8, 10.0.0.9")
    assert ok.status_code == 200


@override_settings(**PROXY)
def test_client_address_takes_the_rightmost_untrusted_hop():
    factory = RequestFactory()

    def address(peer, forwarded=None):
        extra = {"REMOTE_ADDR": peer}
        if forwarded is not None:
            extra["HTTP_X_FORWARDED_FOR"] = forwarded
        return client_address(factory.get("/", **extra))

    assert address("203.0.113.5", "1.2.3.4") == "203.0.113.5"  # untrusted peer
    assert address("10.0.0.2", "1.2.3.4") == "1.2.3.4"
    # The client wrote "6.6.6.6" itself; our proxies appended the real hops.
    assert address("10.0.0.2", "6.6.6.6, 198.51.100.7, 10.1.1.1") == "198.51.100.7"
    assert address("10.0.0.2", "garbage") == "10.0.0.2"
    assert address("10.0.0.2") == "10.0.0.2"
    assert address("10.0.0.2", "10.0.0.5, 10.0.0.6") == "10.0.0.5"


@override_settings(**LIMITS)
def test_the_login_page_is_locked_too_with_a_page_in_french(make_user):
    make_user("alice")
    client = Client(REMOTE_ADDR="203.0.113.5")
    for _ in range(5):
        page = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        assert page.status_code == 200  # the form again, with its error
    locked = client.post("/accounts/login/", {"username": "alice", "password": "pw-alice"})
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) > 0
    body = locked.content.decode()
    assert "Trop de tentatives" in body or "Too many attempts" in body
    assert 'class="topbar"' in body  # the site's layout
    assert "_auth_user_id" not in client.session
    # The admin's login page answers the same.
    admin = client.post("/admin/login/", {"username": "alice", "password": "pw-alice"})
    assert admin.status_code == 429


@override_settings(**LIMITS)
def test_the_api_and_the_pages_share_the_counts(make_user):
    make_user("alice")
    for _ in range(3):
        assert token_login("alice", "wrong").status_code == 400
    client = Client(REMOTE_ADDR="198.51.100.1")
    for _ in range(2):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert token_login("alice", "pw-alice", peer="192.0.2.1").status_code == 429


@override_settings(**LIMITS)
def test_the_english_page_says_it_in_english(make_user):
    client = Client(REMOTE_ADDR="203.0.113.5", HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(5):
        client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    locked = client.post("/accounts/login/", {"username": "nobody", "password": "wrong"})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()


@pytest.mark.django_db(transaction=True)
def test_migrate_creates_the_cache_table_on_a_fresh_database():
    call_command("migrate", "core", "0001", verbosity=0)
    assert "django_cache" not in connection.introspection.table_names()
    call_command("migrate", "core", verbosity=0)
    assert "django_cache" in connection.introspection.table_names()
