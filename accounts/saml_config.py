"""Our SAML 2 service provider's configuration (pysaml2), built from the settings.

SAML is on when SAML_IDP_METADATA names the identity provider's metadata (a URL, or a
file). Everything else has a default: our entity ID is our metadata's URL, the endpoints
hang under SITE_URL/accounts/saml/, and pysaml2's own attribute maps turn the urn:oid
names the French federation (RENATER) and eduGAIN send into eduPerson/SupAnn names.

Loading a federation's metadata is slow (tens of megabytes for eduGAIN), so the
configuration is built once per process and settings, and again after
SAML_METADATA_REFRESH seconds, when the metadata may have changed (new keys).
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from typing import Any

import saml2
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT

logger = logging.getLogger(__name__)

PREFIX = "/accounts/saml/"
RETRY_SECONDS = 300  # after a failed reload of the metadata
ATTRIBUTE_MAPS = os.path.join(os.path.dirname(saml2.__file__), "attributemaps")

_lock = threading.Lock()
_cached: dict[tuple[Any, ...], tuple[float, SPConfig]] = {}


def _setting(name: str) -> str:
    return str(getattr(settings, name, "") or "")


def enabled() -> bool:
    return bool(_setting("SAML_IDP_METADATA"))


def site_url(path: str) -> str:
    return f"{settings.SITE_URL.rstrip('/')}{PREFIX}{path}"


def entity_id() -> str:
    return _setting("SAML_SP_ENTITY_ID") or site_url("metadata/")


def config_dict() -> dict[str, Any]:
    """The pysaml2 configuration of our service provider."""
    source = _setting("SAML_IDP_METADATA")
    if source.startswith(("https://", "http://")):
        remote: dict[str, str] = {"url": source}
        if cert := _setting("SAML_IDP_METADATA_CERT"):
            # A federation signs its metadata: with its certificate, an unsigned or
            # tampered download is refused.
            remote["cert"] = cert
        metadata: dict[str, Any] = {"remote": [remote]}
    else:
        if not os.path.isfile(source):
            raise ImproperlyConfigured(f"SAML_IDP_METADATA: no such file {source!r}")
        metadata = {"local": [source]}
    xmlsec = shutil.which("xmlsec1")
    if xmlsec is None:
        raise ImproperlyConfigured("SAML needs the xmlsec1 program (Debian package xmlsec1).")
    key, cert = _setting("SAML_SP_KEY_FILE"), _setting("SAML_SP_CERT_FILE")
    if bool(key) != bool(cert):
        raise ImproperlyConfigured("Set both SAML_SP_KEY_FILE and SAML_SP_CERT_FILE, or neither.")
    config: dict[str, Any] = {
        "entityid": entity_id(),
        "xmlsec_binary": xmlsec,
        "attribute_map_dir": ATTRIBUTE_MAPS,
        # Names not in the maps (a campus's own attributes) are kept as sent, not dropped.
        "allow_unknown_attributes": True,
        # Seconds of clock difference with the identity provider tolerated on lifetimes.
        "accepted_time_diff": 60,
        "metadata": metadata,
        "service": {
            "sp": {
                "name": _setting("SAML_LABEL") or "SAML",
                "endpoints": {
                    "assertion_consumer_service": [(site_url("acs/"), saml2.BINDING_HTTP_POST)],
                    # Redirect only: the browser comes back by a top-level GET, which
                    # carries our (SameSite=Lax) session cookie.
                    "single_logout_service": [(site_url("ls/"), saml2.BINDING_HTTP_REDIRECT)],
                },
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "allow_unsolicited": False,
                # Shibboleth signs the response by default, other IdPs the assertion:
                # one of them at least, always.
                "want_response_signed": False,
                "want_assertions_signed": False,
                "want_assertions_or_response_signed": True,
                "authn_requests_signed": bool(key),
                "logout_requests_signed": bool(key),
                "required_attributes": ["eduPersonPrincipalName", "mail"],
                "optional_attributes": [
                    "givenName",
                    "sn",
                    "displayName",
                    "eduPersonTargetedID",
                    "pairwise-id",
                    "subject-id",
                ],
            }
        },
    }
    if key:
        config.update(
            key_file=key,
            cert_file=cert,
            encryption_keypairs=[{"key_file": key, "cert_file": cert}],
        )
    return config


def _cache_key() -> tuple[Any, ...]:
    names = [
        "SAML_IDP_METADATA",
        "SAML_IDP_METADATA_CERT",
        "SAML_SP_ENTITY_ID",
        "SAML_SP_KEY_FILE",
        "SAML_SP_CERT_FILE",
        "SAML_LABEL",
        "SITE_URL",
    ]
    return tuple(_setting(n) for n in names)


def sp_config(request: HttpRequest | None = None) -> SPConfig:
    """The loaded configuration (djangosaml2's SAML_CONFIG_LOADER signature)."""
    key = _cache_key()
    refresh = int(getattr(settings, "SAML_METADATA_REFRESH", 6 * 3600))
    with _lock:
        hit = _cached.get(key)
        if hit is not None and time.monotonic() - hit[0] < refresh:
            return hit[1]
        config = SPConfig()
        try:
            config.load(config_dict())
        except Exception:
            if hit is None:
                raise
            # The federation's server is down: keep the metadata we have, try again soon.
            logger.exception("SAML metadata not reloaded; the previous one is kept")
            _cached[key] = (time.monotonic() - refresh + RETRY_SECONDS, hit[1])
            return hit[1]
        _cached.clear()
        _cached[key] = (time.monotonic(), config)
        return config


def idp_entity_id(config: SPConfig) -> str:
    """The identity provider to send people to: SAML_IDP_ENTITY_ID, or the only one."""
    chosen = _setting("SAML_IDP_ENTITY_ID")
    idps = set()
    for source in config.metadata.metadata.values():
        idps.update(source.any("idpsso_descriptor", "single_sign_on_service").keys())
    if chosen:
        if chosen not in idps:
            raise ImproperlyConfigured(f"SAML_IDP_ENTITY_ID {chosen!r} is not in the metadata.")
        return chosen
    if len(idps) != 1:
        raise ImproperlyConfigured(
            f"The SAML metadata lists {len(idps)} identity providers: set SAML_IDP_ENTITY_ID."
        )
    return idps.pop()
