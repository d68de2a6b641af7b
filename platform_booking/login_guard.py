"""Login lockout (SPEC §13): failed logins counted per account and per client address.

The counts live in the shared cache (the database or Redis, see settings.CACHES), so the
four workers of a gunicorn, or two servers behind a proxy, count together. A failure
counts against the account tried and against the client address; past a limit, the
account (or the address) is locked for `LOGIN_LOCKOUT_SECONDS`, even for the right
password. A successful login clears its account's count, never its address's: an
attacker spraying many accounts from one address cannot reset their count by logging
into their own account.

The client address is the TCP peer, unless the peer is a trusted proxy
(`TRUSTED_PROXIES`; its `unix` entry trusts an empty peer, a proxy on a unix socket): then
it is the rightmost address of X-Forwarded-For that is not a trusted proxy (the leftmost
ones are whatever the client chose to send); when every hop is trusted, the peer. IPv6
clients are counted per /64 (one subscriber's whole network), IPv4-mapped IPv6 addresses
as the IPv4 address.

Failures are counted in buckets of `LOGIN_FAILURE_WINDOW` seconds, the previous bucket
weighted by the share of the window that still overlaps it (a sliding window's usual
approximation): no series of tries around a bucket's boundary escapes the limit.

The shared store must never evict a live counter: Django's database cache deletes a third
of its rows, alphabetically lowest first, once it holds MAX_ENTRIES (300); an attacker
filling it would wipe a victim's count. `UnculledDatabaseCache` (settings.CACHES) deletes
only expired rows.

Three places use it: `LockoutBackend` (Django's password backend, refusing any password
login while locked, whatever the path: pages, API, admin), the `user_login_failed` and
`user_logged_in` signals (counting), and `LoginGuardMiddleware`, which answers the login
pages with a 429 page; the API's token login answers its own JSON 429.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache, caches
from django.core.cache.backends.db import DatabaseCache
from django.core.exceptions import PermissionDenied
from django.db import connections, router, transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

PREFIX = "login-guard"
UNIX_PEER = "unix"  # the TRUSTED_PROXIES entry trusting an empty peer (a unix socket)


class UnculledDatabaseCache(DatabaseCache):
    """Django's database cache, deleting expired rows only, never live ones.

    Django's `_cull` deletes the alphabetically lowest third of the rows once there are more
    than MAX_ENTRIES: whoever fills the cache (one failed login per made-up username) would
    wipe the lockout counters. Here, past MAX_ENTRIES, only expired rows are deleted; the
    table may grow past it for as long as the rows are alive (they all expire).
    """

    def _cull(self, db: str, cursor: Any, now: Any, num: int) -> None:
        connection = connections[db]
        quoted = connection.ops.quote_name
        table: str = self._table  # type: ignore[attr-defined]
        expired = f"DELETE FROM {quoted(table)} WHERE {quoted('expires')} < %s"  # noqa: S608
        cursor.execute(expired, [connection.ops.adapt_datetimefield_value(now)])


def client_address(request: HttpRequest) -> str:
    """Who the client is, for counting: its IPv4 address or its IPv6 /64 network.

    Forwarded addresses are believed from trusted proxies only.
    """
    request = getattr(request, "_request", request)  # a DRF Request wraps Django's
    peer = request.META.get("REMOTE_ADDR", "") or ""
    if not _trusted(peer):
        return _identity(peer) or peer or "unknown"
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop):
            return _identity(hop) or _identity(peer) or peer or "unknown"
    # Every hop is one of our proxies (or there is none): the leftmost hop is whatever
    # was sent to the first proxy, so the peer is all we know.
    return _identity(peer) or peer or "unknown"


def _ip(text: str) -> IPv4Address | IPv6Address | None:
    try:
        ip = ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _identity(text: str) -> str | None:
    """The address as counted: IPv4 as is, IPv6 as its /64 network; None if not an IP."""
    ip = _ip(text)
    if ip is None:
        return None
    if isinstance(ip, IPv6Address):
        return str(ip_network(f"{ip}/64", strict=False))
    return str(ip)


def _trusted(address: str) -> bool:
    if address == "":
        return UNIX_PEER in settings.TRUSTED_PROXIES
    ip = _ip(address)
    if ip is None:
        return False
    return any(
        not isinstance(network, str) and ip.version == network.version and ip in network
        for network in settings.TRUSTED_PROXIES
    )


def _now() -> float:
    return time.time()


def _account_key(username: str) -> str:
    # Hashed: usernames may hold characters a cache key cannot (Redis accepts any, but
    # memcached-style validation warns), and the key length stays bounded.
    digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()[:32]
    return f"account:{digest}"


def _address_key(address: str) -> str:
    return f"address:{address}"


def _keys(request: HttpRequest, username: str | None) -> list[str]:
    keys = [_address_key(client_address(request))]
    if username:
        keys.append(_account_key(username))
    return keys


def locked_for(request: HttpRequest, username: str | None) -> int:
    """Seconds before this account or this address may try again; 0 when not locked."""
    locks = cache.get_many([f"{PREFIX}:lock:{key}" for key in _keys(request, username)])
    until = max(locks.values(), default=0)
    return max(0, math.ceil(until - _now())) if until else 0


def _limit(key: str) -> int:
    if key.startswith("account:"):
        return int(settings.LOGIN_FAILURES_PER_ACCOUNT)
    return int(settings.LOGIN_FAILURES_PER_ADDRESS)


def record_failure(request: HttpRequest, username: str | None) -> None:
    """Count a failed login; lock the account or the address that reached its limit."""
    window = int(settings.LOGIN_FAILURE_WINDOW)
    for key in _keys(request, username):
        if count_in_window(f"{PREFIX}:count:{key}", window) >= _limit(key):
            lockout = int(settings.LOGIN_LOCKOUT_SECONDS)
            # add, not set: further failures while locked do not push the end back.
            cache.add(f"{PREFIX}:lock:{key}", _now() + lockout, timeout=lockout)


def count_in_window(counter: str, window: int) -> float:
    """Count one more event of `counter` in the shared cache; answer how many happened over
    the last `window` seconds, this one included (the sliding window's approximation of the
    module's docstring: this bucket, plus the previous one weighted by its overlap)."""
    now = _now()
    bucket = int(now // window)
    # The share of the sliding window [now - window, now] still over the previous bucket.
    overlap = 1 - (now - bucket * window) / window
    # Kept two windows: the next bucket still reads this one.
    count = _increment(f"{counter}:{bucket}", 2 * window)
    previous = int(cache.get(f"{counter}:{bucket - 1}", 0))
    return count + previous * overlap


def _increment(counter: str, timeout: int) -> int:
    """Add one to a counter of the shared cache, without losing a concurrent addition."""
    store = caches["default"]
    if isinstance(store, DatabaseCache):
        # The database cache's incr() is a get and a set: two processes could both
        # write n + 1. One transaction, serialised per counter (SQLite's IMMEDIATE
        # transactions take the write lock at once; PostgreSQL takes an advisory lock).
        alias = router.db_for_write(store.cache_model_class)
        with transaction.atomic(using=alias):
            connection = connections[alias]
            if connection.vendor == "postgresql":
                lock = int.from_bytes(
                    hashlib.sha256(counter.encode()).digest()[:8], "big", signed=True
                )
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [lock])
            count = int(cache.get(counter, 0)) + 1
            cache.set(counter, count, timeout=timeout)
            return count
    cache.add(counter, 0, timeout=timeout)
    try:
        return int(cache.incr(counter))  # atomic on Redis
    except ValueError:  # expired between add and incr
        cache.set(counter, 1, timeout=timeout)
        return 1


def record_success(request: HttpRequest, username: str) -> None:
    """Clear the account's failures (the address's stay: see the module's docstring)."""
    key = _account_key(username)
    window = int(settings.LOGIN_FAILURE_WINDOW)
    bucket = int(_now() // window)
    cache.delete_many([f"{PREFIX}:count:{key}:{bucket}", f"{PREFIX}:count:{key}:{bucket - 1}"])


def _username(credentials: dict[str, Any]) -> str | None:
    value = credentials.get("username")
    return value if isinstance(value, str) else None


class LockoutBackend(ModelBackend):
    """Django's password backend, refusing every login while the account or address is locked."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        if request is not None and password is not None:
            seconds = locked_for(request, username)
            if seconds:
                inner: Any = getattr(request, "_request", request)
                inner.login_locked = seconds
                # PermissionDenied stops Django's authenticate(): no other backend is asked.
                raise PermissionDenied
        return super().authenticate(request, username=username, password=password, **kwargs)


@receiver(user_login_failed, dispatch_uid="login_guard_failed")
def _count_failure(sender: Any, credentials: dict[str, Any], request: Any = None, **_: Any) -> None:
    if request is None or getattr(getattr(request, "_request", request), "login_locked", False):
        return
    if "password" not in credentials:
        # A single sign-on answer refused (a CAS ticket replayed from a browser's history…)
        # guesses no password: it must not lock a campus's shared address out.
        return
    record_failure(request, _username(credentials))


@receiver(user_logged_in, dispatch_uid="login_guard_success")
def _clear_account(sender: Any, request: Any, user: Any, **_: Any) -> None:
    if request is not None:
        record_success(request, user.get_username())


def throttled_page(request: HttpRequest, seconds: int) -> HttpResponse:
    """The 429 page, in the site's layout and language, with Retry-After."""
    minutes = max(1, math.ceil(seconds / 60))
    response = render(
        request, "registration/login_throttled.html", {"minutes": minutes}, status=429
    )
    response["Retry-After"] = str(seconds)
    return response


class LoginGuardMiddleware:
    """Answer a login page's POST with the 429 page while its account or address is locked."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or request.path not in _login_paths():
            return self.get_response(request)
        seconds = locked_for(request, request.POST.get("username"))
        if seconds:
            return throttled_page(request, seconds)
        response = self.get_response(request)
        locked = getattr(request, "login_locked", 0)
        # Locked between our check and the form's authenticate() (another process): the
        # backend refused the login; answer the same page.
        return throttled_page(request, locked) if locked else response


def _login_paths() -> set[str]:
    return {reverse("login"), reverse("admin:login")}
