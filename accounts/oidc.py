"""OpenID Connect single sign-on (SPEC §13), with mozilla-django-oidc.

On when OIDC_ISSUER, OIDC_CLIENT_ID and OIDC_CLIENT_SECRET are set (README, "Single
sign-on"). The library has no discovery: the provider's endpoints are read from
`OIDC_ISSUER/.well-known/openid-configuration`, whose `issuer` must be OIDC_ISSUER itself,
and kept in the process for an hour.

The flow is the library's authorization code flow, with its checks: the `state` must be
one this browser's session started (once: the library forgets it at the callback), the ID
token's `nonce` the one sent with it, and PKCE (S256) binds the code to this session too.
On top of the library, the ID token is checked here as OpenID Connect requires (RS256
with a key of the provider's JWKS, `iss` the issuer, `aud` our client, `exp`), and the
userinfo's `sub` must be the token's. The person is then found or created by
accounts.services.sign_in alone, linked by the issuer and `sub` (never the email): the
library never creates or matches users itself.

Logout ends the local session, then sends the browser to the provider's
`end_session_endpoint` (RP-initiated logout, when advertised) with the ID token as hint,
which ends the provider's session and comes back to our login page.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any
from urllib.parse import urlencode

import jwt
import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.core.validators import validate_email
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, resolve_url
from django.utils.functional import lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.utils import import_from_settings
from mozilla_django_oidc.views import (
    OIDCAuthenticationCallbackView,
    OIDCAuthenticationRequestView,
    OIDCLogoutView,
)

from .models import Provider as Kind
from .providers import Provider, logout_handed_over, register, remember
from .services import Identity, IdentityRefused, sign_in
from .views import refuse_logout

LOGGER = logging.getLogger(__name__)

KEY = Kind.OIDC.value
SIGN_ALGORITHM = "RS256"
# Seconds: one call to the provider (discovery, token, keys, userinfo) gives up after this.
HTTP_TIMEOUT = 10
# Seconds the discovery document is kept: a provider's new endpoints are seen within this.
DISCOVERY_TTL = 3600
# Seconds of clock difference tolerated with the provider on `exp` and `iat`.
LEEWAY = 60
# Where the ID token waits for the logout (its hint to the provider).
ID_TOKEN_SESSION_KEY = "oidc_id_token"


def enabled() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID and settings.OIDC_CLIENT_SECRET)


def _label() -> str:
    return str(settings.OIDC_LABEL or "OpenID Connect")


# ---------------------------------------------------------------------------------------
# Discovery


class DiscoveryError(Exception):
    """The provider's configuration could not be read or does not belong to OIDC_ISSUER."""


_discovered: dict[str, tuple[float, dict[str, Any]]] = {}
_discovery_lock = threading.Lock()


def provider_configuration() -> dict[str, Any]:
    """The provider's discovery document, fetched once an hour per process."""
    issuer = settings.OIDC_ISSUER
    with _discovery_lock:
        cached = _discovered.get(issuer)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        document = _discover(issuer)
        _discovered[issuer] = (time.monotonic() + DISCOVERY_TTL, document)
        return document


def forget_provider_configuration() -> None:
    with _discovery_lock:
        _discovered.clear()


def _discover(issuer: str) -> dict[str, Any]:
    url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
    try:
        answer = requests.get(url, timeout=HTTP_TIMEOUT)
        answer.raise_for_status()
        document = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise DiscoveryError(f"cannot read {url}: {exc}") from exc
    if not isinstance(document, dict):
        raise DiscoveryError(f"{url} is not a JSON object")
    # OpenID Connect Discovery §4.3: identical, or another party could stand for the issuer.
    if document.get("issuer") != issuer:
        raise DiscoveryError(f"{url} names the issuer {document.get('issuer')!r}, not {issuer!r}")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not isinstance(document.get(name), str) or not document[name]:
            raise DiscoveryError(f"{url} has no {name}")
    return document


def _library_setting(attr: str, *default: Any) -> Any:
    """The library's settings, from ours: it reads nothing of its own from settings.py."""
    values: dict[str, Any] = {
        "OIDC_RP_CLIENT_ID": settings.OIDC_CLIENT_ID,
        "OIDC_RP_CLIENT_SECRET": settings.OIDC_CLIENT_SECRET,
        "OIDC_RP_SCOPES": settings.OIDC_SCOPES,
        "OIDC_RP_SIGN_ALGO": SIGN_ALGORITHM,
        "OIDC_AUTHENTICATION_CALLBACK_URL": "oidc_callback",
        "OIDC_USE_NONCE": True,
        "OIDC_USE_PKCE": True,
        "OIDC_PKCE_CODE_CHALLENGE_METHOD": "S256",
        "OIDC_ALLOW_UNSECURED_JWT": False,
        "OIDC_VERIFY_SSL": True,
        "OIDC_TIMEOUT": HTTP_TIMEOUT,
        "OIDC_STORE_ACCESS_TOKEN": False,
        "OIDC_STORE_ID_TOKEN": False,
        "OIDC_CREATE_USER": False,
        "OIDC_REDIRECT_FIELD_NAME": "next",
        "OIDC_REDIRECT_ALLOWED_HOSTS": [],
        "OIDC_AUTH_REQUEST_EXTRA_PARAMS": {},
        "LOGIN_REDIRECT_URL": settings.LOGIN_REDIRECT_URL,
        "LOGIN_REDIRECT_URL_FAILURE": settings.LOGIN_URL,
        "LOGOUT_REDIRECT_URL": settings.LOGOUT_REDIRECT_URL,
        # accounts.views.LogoutView (a POST, CSRF-checked) redirects here after its checks.
        "ALLOW_LOGOUT_GET_METHOD": True,
        "OIDC_OP_LOGOUT_URL_METHOD": f"{__name__}.provider_logout_url",
    }
    if attr in values:
        return values[attr]
    if attr == "OIDC_TOKEN_USE_BASIC_AUTH":
        # client_secret_basic is the standard's default; the body when the provider prefers.
        methods = provider_configuration().get("token_endpoint_auth_methods_supported") or []
        return "client_secret_post" not in methods
    return import_from_settings(attr, *default)


# ---------------------------------------------------------------------------------------
# The authentication backend


class OIDCBackend(OIDCAuthenticationBackend):
    """The library's code flow; the person found or created by accounts.services.sign_in."""

    get_settings = staticmethod(_library_setting)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Django builds every backend at every login, passwords' included: read nothing of
        # the provider here (the library's own __init__ would need its endpoints).
        self.UserModel = get_user_model()

    # No **kwargs: Django asks this backend only for the callback's credentials (a nonce),
    # never for a username and password.
    def authenticate(
        self,
        request: HttpRequest | None,
        nonce: str | None = None,
        code_verifier: str | None = None,
    ) -> Any:
        if request is None or not nonce or not enabled():
            return None
        try:
            configuration = provider_configuration()
        except DiscoveryError as exc:
            LOGGER.warning("OpenID Connect login refused: %s", exc)
            return None
        self.use(configuration)
        try:
            return super().authenticate(request, nonce=nonce, code_verifier=code_verifier)
        except (SuspiciousOperation, requests.RequestException, jwt.PyJWTError) as exc:
            # A refused code, a forged or expired token, a provider that does not answer.
            LOGGER.warning("OpenID Connect login refused: %s", exc)
            return None
        except (KeyError, TypeError, ValueError) as exc:  # a malformed answer
            LOGGER.warning("OpenID Connect login refused, malformed answer: %r", exc)
            return None

    def use(self, configuration: dict[str, Any]) -> None:
        """Take the provider's endpoints (what the library's __init__ reads from settings)."""
        self.issuer = configuration["issuer"]
        self.OIDC_OP_TOKEN_ENDPOINT = configuration["token_endpoint"]
        self.OIDC_OP_USER_ENDPOINT = configuration.get("userinfo_endpoint")
        self.OIDC_OP_JWKS_ENDPOINT = configuration["jwks_uri"]
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        self.OIDC_RP_CLIENT_SECRET = settings.OIDC_CLIENT_SECRET
        self.OIDC_RP_SIGN_ALGO = SIGN_ALGORITHM
        self.OIDC_RP_IDP_SIGN_KEY = None

    def _verify_jws(self, payload: Any, key: Any) -> dict[str, Any]:
        """Check the signature and the claims OpenID Connect requires (the library checks
        neither `iss` nor `aud`)."""
        header = jwt.get_unverified_header(payload)
        if header.get("alg") != SIGN_ALGORITHM:
            raise SuspiciousOperation(f"ID token signed with {header.get('alg')!r}")
        try:
            claims: dict[str, Any] = jwt.decode(
                payload,
                key,
                algorithms=[SIGN_ALGORITHM],
                audience=self.OIDC_RP_CLIENT_ID,
                issuer=self.issuer,
                leeway=LEEWAY,
                options={"require": ["iss", "aud", "exp", "iat", "sub"]},
            )
        except jwt.PyJWTError as exc:
            raise SuspiciousOperation(f"ID token refused: {exc}") from exc
        several = isinstance(claims["aud"], list) and len(claims["aud"]) > 1
        if several and claims.get("azp") != self.OIDC_RP_CLIENT_ID:
            raise SuspiciousOperation("ID token for several audiences, not authorized to us")
        return claims

    def store_tokens(self, access_token: Any, id_token: Any) -> None:
        # Kept on the request until the login is done (LoginCallbackView stores it in the
        # session then): a login as another user flushes the session's earlier content.
        self.request.oidc_id_token = id_token

    def get_or_create_user(self, access_token: Any, id_token: Any, payload: Any) -> Any:
        claims = dict(payload)
        if self.OIDC_OP_USER_ENDPOINT and access_token:
            userinfo = self.get_userinfo(access_token, id_token, payload)
            # OpenID Connect Core §5.3.2: else the answer may be another person's.
            if not isinstance(userinfo, dict) or userinfo.get("sub") != payload["sub"]:
                raise SuspiciousOperation("the userinfo's sub is not the ID token's")
            claims.update(userinfo)
        try:
            return sign_in(
                Identity(
                    provider=KEY,
                    # `sub` is unique at its issuer only.
                    subject=f"{self.issuer} {payload['sub']}",
                    email=_verified_email(claims),
                    first_name=_text(claims.get("given_name")),
                    last_name=_text(claims.get("family_name")),
                )
            )
        except IdentityRefused as exc:
            raise SuspiciousOperation(str(exc)) from exc


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _verified_email(claims: dict[str, Any]) -> str:
    """The email, unless the provider says it did not verify it (the partner's domain
    would then be anyone's to claim) or it is not an address."""
    email = _text(claims.get("email")).strip()
    if not email or claims.get("email_verified") is False:
        return ""
    try:
        validate_email(email)
    except ValidationError:
        return ""
    return email


# ---------------------------------------------------------------------------------------
# Views


def _refuse(request: HttpRequest) -> HttpResponse:
    messages.error(
        request,
        _("The login through %(provider)s failed. Please try again.") % {"provider": _label()},
    )
    return redirect(settings.LOGIN_URL)


class LoginView(OIDCAuthenticationRequestView):
    """Send the browser to the provider, with a fresh state, nonce and PKCE challenge."""

    get_settings = staticmethod(_library_setting)

    def __init__(self, **kwargs: Any) -> None:
        # The library's reads the endpoint at construction: ours reads it in get().
        super(OIDCAuthenticationRequestView, self).__init__(**kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not enabled():
            raise Http404
        try:
            configuration = provider_configuration()
        except DiscoveryError as exc:
            LOGGER.warning("OpenID Connect login not started: %s", exc)
            return _refuse(request)
        self.OIDC_OP_AUTH_ENDPOINT = configuration["authorization_endpoint"]
        self.OIDC_RP_CLIENT_ID = settings.OIDC_CLIENT_ID
        return super().get(request)


class LoginCallbackView(OIDCAuthenticationCallbackView):
    """The provider's answer: the library checks the state and the nonce, sign_in does the
    rest; any refusal comes back to the login page with a message, never a 500."""

    get_settings = staticmethod(_library_setting)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not enabled():
            raise Http404
        try:
            return super().get(request)
        except SuspiciousOperation as exc:
            # A state this session never started: forged, replayed or another browser's.
            LOGGER.warning("OpenID Connect callback refused: %s", exc)
            return self.login_failure()

    def login_failure(self) -> HttpResponse:
        return _refuse(self.request)

    @property
    def success_url(self) -> str:
        # The library checked it at the start; checked again, for our own rule: local only.
        next_url = self.request.session.pop("oidc_login_next", None)
        if next_url and url_has_allowed_host_and_scheme(
            next_url,
            allowed_hosts={self.request.get_host()},
            require_https=self.request.is_secure(),
        ):
            return str(next_url)
        return resolve_url(settings.LOGIN_REDIRECT_URL)

    def login_success(self) -> HttpResponse:
        response = super().login_success()
        remember(self.request, KEY)
        id_token = getattr(self.request, "oidc_id_token", None)
        if id_token:
            self.request.session[ID_TOKEN_SESSION_KEY] = id_token
        return response


class LogoutView(OIDCLogoutView):
    """End the local session, then the provider's (provider_logout_url)."""

    get_settings = staticmethod(_library_setting)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not enabled():
            raise Http404
        if not logout_handed_over(request):
            return refuse_logout(request)
        return super().dispatch(request, *args, **kwargs)


def provider_logout_url(request: HttpRequest) -> str:
    """Where the browser goes once our session ends: the provider's end-session endpoint
    when it has one and we hold the ID token to name the session, else our login page."""
    here = resolve_url(settings.LOGOUT_REDIRECT_URL)
    id_token = request.session.get(ID_TOKEN_SESSION_KEY)
    try:
        end_session = provider_configuration().get("end_session_endpoint")
    except DiscoveryError as exc:
        LOGGER.warning("OpenID Connect logout ends the local session only: %s", exc)
        return here
    if not isinstance(end_session, str) or not end_session or not id_token:
        return here
    query = urlencode(
        {
            "id_token_hint": id_token,
            "client_id": settings.OIDC_CLIENT_ID,
            "post_logout_redirect_uri": request.build_absolute_uri(here),
        }
    )
    return f"{end_session}{'&' if '?' in end_session else '?'}{query}"


register(
    Provider(
        key=KEY,
        label=lazy(_label, str)(),
        login_url_name="oidc_login",
        logout_url_name="oidc_logout",
        enabled=enabled,
    )
)
