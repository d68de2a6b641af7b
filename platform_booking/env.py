"""Read typed configuration from the environment, failing loudly on bad values."""

from __future__ import annotations

import os
from collections.abc import Mapping
from ipaddress import IPv4Network, IPv6Network, ip_network
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str, environ: Mapping[str, str] = os.environ) -> str:
    return environ.get(name, default)


def env_bool(name: str, default: bool, environ: Mapping[str, str] = os.environ) -> bool:
    raw = environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false, yes/no), got {raw!r}")


def env_int(name: str, default: int, environ: Mapping[str, str] = os.environ) -> int:
    raw = environ.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {raw!r}") from None


def env_list(name: str, default: list[str], environ: Mapping[str, str] = os.environ) -> list[str]:
    raw = environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def email_config(url: str) -> dict[str, Any]:
    """Turn an EMAIL_URL (smtp://, smtps://, submission://, console://, locmem://) into settings."""
    parts = urlsplit(url)
    backends = {
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "smtps": "django.core.mail.backends.smtp.EmailBackend",
        "submission": "django.core.mail.backends.smtp.EmailBackend",
        "console": "django.core.mail.backends.console.EmailBackend",
        "locmem": "django.core.mail.backends.locmem.EmailBackend",
        "dummy": "django.core.mail.backends.dummy.EmailBackend",
    }
    if parts.scheme not in backends:
        raise ImproperlyConfigured(
            f"EMAIL_URL scheme must be one of {sorted(backends)}, got {parts.scheme!r}"
        )
    config: dict[str, Any] = {"EMAIL_BACKEND": backends[parts.scheme]}
    if config["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"EMAIL_URL has a bad port: {url!r}") from None
        default_port = {"smtp": 25, "smtps": 465, "submission": 587}[parts.scheme]
        query = parse_qs(parts.query)
        config.update(
            EMAIL_HOST=parts.hostname or "localhost",
            EMAIL_PORT=port or default_port,
            EMAIL_HOST_USER=unquote(parts.username or ""),
            EMAIL_HOST_PASSWORD=unquote(parts.password or ""),
            EMAIL_USE_SSL=parts.scheme == "smtps" or "ssl" in query,
            EMAIL_USE_TLS=parts.scheme == "submission" or "tls" in query,
        )
    return config


def networks(name: str, items: list[str]) -> tuple[IPv4Network | IPv6Network | str, ...]:
    """Parse trusted proxies: IP addresses and CIDR blocks (e.g. `10.0.0.0/8,::1`), and `unix`.

    `unix` trusts an empty peer address: gunicorn sets REMOTE_ADDR to "" when it listens on
    a unix socket (nginx on the same machine), so that proxy's X-Forwarded-For is believed.
    A `/0` network (every address) is refused: it would believe any client's header.
    """
    parsed: list[IPv4Network | IPv6Network | str] = []
    for item in items:
        if item.lower() == "unix":
            parsed.append("unix")
            continue
        try:
            network = ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(f"{name}: not an IP address or network: {item!r}") from None
        if network.prefixlen == 0:
            raise ImproperlyConfigured(
                f"{name}: {item!r} trusts every address; name the proxies' addresses"
            )
        parsed.append(network)
    return tuple(parsed)
