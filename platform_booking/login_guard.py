"""Login lockout (SPEC §13): failed logins counted per account and per client address.

The counts live in the shared cache (the database or Redis, see settings.CACHES), so the
four workers of a gunicorn, or two servers behind a proxy, count together. A failure
counts against the account tried and against the client address; past a limit, the
account (or the address) is locked for `LOGIN_LOCKOUT_SECONDS`, even for the right
password. A successful login clears its account's count, never its address's: an
attacker spraying many accounts from one address cannot reset their count by logging
into their own account.

The client address is the TCP peer, unless the peer is a trusted proxy
(`TRUSTED_PROXIES`): then it is the rightmost address of X-Forwarded-For that is not a
trusted proxy (the leftmost ones are whatever the client chose to send).

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
from ipaddress import ip_address
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


def client_address(request: HttpRequest) -> str:
    """The client's IP address: forwarded addresses are believed from trusted proxies only."""
    request = getattr(request, "_request", request)  # a DRF Request wraps Django's
    peer = request.META.get("REMOTE_ADDR", "") or "unknown"
    if not _trusted(peer):
        return peer
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop):
            return hop if _is_ip(hop) else peer
    # Every hop is one of our proxies (or there is none): the leftmost is the client.
    return hops[0] if hops and _is_ip(hops[0]) else peer


def _is_ip(text: str) -> bool:
    try:
        ip_address(text)
    except ValueError:
        return False
    return True


def _trusted(address: str) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.TRUSTED_PROXIES)


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
    return max(0, math.ceil(until - time.time())) if until else 0


def _limit(key: str) -> int:
    if key.startswith("account:"):
        return int(settings.LOGIN_FAILURES_PER_ACCOUNT)
    return int(settings.LOGIN_FAILURES_PER_ADDRESS)


def record_failure(request: HttpRequest, username: str | None) -> None:
    """Count a failed login; lock the account or the address that reached its limit."""
    window = int(settings.LOGIN_FAILURE_WINDOW)
    bucket = int(time.time() // window)
    for key in _keys(request, username):
        count = _increment(f"{PREFIX}:count:{key}:{bucket}", window)
        if count >= _limit(key):
            lockout = int(settings.LOGIN_LOCKOUT_SECONDS)
            # add, not set: further failures while locked do not push the end back.
            cache.add(f"{PREFIX}:lock:{key}", time.time() + lockout, timeout=lockout)


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
    bucket = int(time.time() // window)
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
