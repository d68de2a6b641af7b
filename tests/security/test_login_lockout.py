"""Login lockout (SPEC §13): per account and per client address, in the shared cache,
forwarded addresses believed only from trusted proxies; 429 with Retry-After."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection
from django.test import Client, RequestFactory, override_settings
from rest_framework.test import APIClient

from platform_booking import login_guard
from platform_booking.env import networks
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
    # Every hop is one of our proxies: the leftmost is whatever the first proxy was sent,
    # so the peer is all we know.
    assert address("10.0.0.2", "10.0.0.5, 10.0.0.6") == "10.0.0.2"


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
    assert "<h1>Trop de tentatives</h1>" in body
    assert "Too many attempts" not in body
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
    # Back to where every app was (rolling core back rolled back the apps above it).
    call_command("migrate", verbosity=0)


def address_of(peer, forwarded=None):
    extra = {"REMOTE_ADDR": peer}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_address(RequestFactory().get("/", **extra))


@override_settings(**LIMITS)
def test_filling_the_cache_does_not_evict_a_victims_count(make_user):
    make_user("alice")
    for i in range(2):
        assert token_login("alice", "wrong", peer=f"203.0.113.{i}").status_code == 400
    # Anyone can fill the shared cache (one failed login per made-up name, throttle keys…):
    # Django's database cache would then delete the alphabetically lowest third of its keys.
    for i in range(400):
        cache.set(f"zz-filler-{i:04d}", i, timeout=600)
    for i in range(2, 5):
        assert token_login("alice", "wrong", peer=f"203.0.113.{i}").status_code == 400
    assert token_login("alice", "pw-alice", peer="203.0.113.99").status_code == 429


def test_the_cache_deletes_expired_rows_only():
    store = caches["default"]
    store.set("old", 1, timeout=1)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE django_cache SET expires = %s", ["2000-01-01 00:00:00"])
    store.set("live", 1, timeout=600)
    limit = store._max_entries
    store._max_entries = 1  # every write culls
    try:
        for i in range(5):
            store.set(f"more-{i}", i, timeout=600)
    finally:
        store._max_entries = limit
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM django_cache")
        assert cursor.fetchone()[0] == 6  # "old" gone, every live row kept
    assert store.get("live") == 1


@override_settings(**LIMITS, LOGIN_FAILURE_WINDOW=900)
def test_tries_around_a_bucket_boundary_are_counted_together(make_user, monkeypatch):
    make_user("alice")
    boundary = (int(login_guard.time.time()) // 900 + 1) * 900
    monkeypatch.setattr(login_guard, "_now", lambda: boundary - 10)
    for i in range(4):
        assert token_login("alice", "wrong", peer=f"203.0.113.{i}").status_code == 400
    monkeypatch.setattr(login_guard, "_now", lambda: boundary + 10)
    answers = [
        token_login("alice", "wrong", peer=f"203.0.113.{10 + i}").status_code for i in range(4)
    ]
    # The 4 tries of the previous bucket still weigh 4 × 890/900: the second one locks.
    assert answers == [400, 400, 429, 429]
    # A whole window later, the old tries no longer count.
    cache.clear()
    monkeypatch.setattr(login_guard, "_now", lambda: boundary + 10)
    for i in range(4):
        assert token_login("alice", "wrong", peer=f"203.0.113.{20 + i}").status_code == 400
    monkeypatch.setattr(login_guard, "_now", lambda: boundary + 900 + 890)
    for i in range(4):
        assert token_login("alice", "wrong", peer=f"203.0.113.{30 + i}").status_code == 400


@override_settings(TRUSTED_PROXIES=("unix",))
def test_a_unix_socket_proxy_is_trusted_with_the_unix_entry():
    # gunicorn on a unix socket: REMOTE_ADDR is "".
    assert address_of("", "198.51.100.7") == "198.51.100.7"
    assert address_of("", "6.6.6.6, 198.51.100.8") == "198.51.100.8"
    assert address_of("203.0.113.5", "198.51.100.7") == "203.0.113.5"


def test_without_the_unix_entry_an_empty_peer_is_not_trusted():
    assert address_of("", "198.51.100.7") == "unknown"


def test_ipv6_clients_are_counted_per_64():
    assert address_of("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert address_of("2001:db8:1:2:ffff:1:2:3") == "2001:db8:1:2::/64"
    assert address_of("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert address_of("::ffff:198.51.100.7") == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=(ip_network("10.0.0.0/8"),))
def test_ipv4_mapped_and_forwarded_ipv6_addresses():
    assert address_of("::ffff:10.0.0.2", "198.51.100.7") == "198.51.100.7"
    assert address_of("10.0.0.2", "2001:db8::5") == "2001:db8::/64"
    assert address_of("10.0.0.2", "::ffff:198.51.100.9") == "198.51.100.9"


@override_settings(**LIMITS)
def test_rotating_addresses_within_a_64_does_not_escape_the_lock(make_user):
    for i in range(8):
        assert token_login(f"u{i}", "wrong", peer=f"2001:db8:1:2::{i + 1:x}").status_code == 400
    assert token_login("x", "wrong", peer="2001:db8:1:2::ffff").status_code == 429
    make_user("alice")
    assert token_login("alice", "pw-alice", peer="2001:db8:1:3::1").status_code == 200


def test_trusted_proxies_parse_unix_and_refuse_every_address():
    assert networks("TRUSTED_PROXIES", ["unix", "10.0.0.0/8"]) == ("unix", ip_network("10.0.0.0/8"))
    for item in ("0.0.0.0/0", "::/0"):
        with pytest.raises(ImproperlyConfigured, match="TRUSTED_PROXIES"):
            networks("TRUSTED_PROXIES", ["127.0.0.1", item])
