"""Single sign-on with SAML 2 (SPEC §13): the French federation (RENATER) and eduGAIN.

djangosaml2 and pysaml2 do the protocol (requests, signatures, metadata); the users are
found and created by accounts.services.sign_in only, never by the library.

The flow, and why it has one more step than djangosaml2's own views:
1. `login` sends an AuthnRequest by HTTP-Redirect. Its ID is noted twice: in the shared
   cache (any server may receive the answer) and in this browser's session.
2. The identity provider POSTs the signed Response to `acs`. That POST comes from the
   provider's site, so a browser does not send our SameSite=Lax session cookie with it:
   `acs` relies on no cookie. pysaml2 checks the signature, the audience, the destination,
   the lifetime, and that it answers an outstanding request of ours (the cache); the
   request is then crossed out, so the same answer replayed is refused. The verified
   answer waits in the cache under a random token, and `acs` redirects to `done`.
3. `done` is a top-level GET of our own site, which carries the session cookie: it signs
   in only if this browser's session sent the request answered. Without that check an
   attacker could make a victim's browser post the attacker's own valid answer and log
   the victim into the attacker's account (login CSRF).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterator, Mapping
from typing import Any

import saml2
from django.conf import settings
from django.contrib import auth
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render, resolve_url
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST
from djangosaml2.backends import Saml2Backend
from djangosaml2.overrides import Saml2Client
from saml2.ident import code, decode
from saml2.metadata import entity_descriptor
from saml2.s_utils import UnknownSystemEntity, UnsupportedBinding
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.xmldsig import SIG_RSA_SHA256

from . import saml_config
from .models import Provider as Kind
from .providers import Provider, logout_handed_over, register, remember
from .services import Identity, IdentityRefused, sign_in
from .views import refuse_logout

logger = logging.getLogger(__name__)

BACKEND = "accounts.saml.SamlBackend"
KEY = Kind.SAML.value
# How long an AuthnRequest waits for its answer, and a verified answer for `done`.
REQUEST_SECONDS = 15 * 60
ANSWER_SECONDS = 5 * 60
PENDING = "saml_pending"  # session: {request id: where to go after the login}
SUBJECT = "saml_subject"  # session: who the provider said, for the single logout
LOGOUT = "saml_logout"  # session: the LogoutRequest sent, awaiting its LogoutResponse


# --- Who the person is --------------------------------------------------------------


def _first(ava: Mapping[str, Any], *names: str) -> str:
    for name in names:
        for value in ava.get(name) or []:
            # eduPersonTargetedID arrives as a NameID element: its text is the value.
            text = value.get("text", "") if isinstance(value, dict) else value
            if isinstance(text, str) and text.strip():
                return text.strip()
    return ""


def identity_from(session_info: Mapping[str, Any]) -> Identity:
    """The person a verified answer vouches for, identified by what stays the same for
    them: a persistent NameID, else eduPersonPrincipalName, else a targeted or pairwise
    identifier. Never the email alone (it changes and may be reused); a transient NameID
    changes at every login, so an answer with nothing better is refused."""
    ava = session_info.get("ava") or {}
    name_id = session_info.get("name_id")
    if name_id is not None and name_id.format == NAMEID_FORMAT_PERSISTENT and name_id.text:
        value = name_id.text.strip()
    else:
        value = _first(
            ava, "eduPersonPrincipalName", "eduPersonTargetedID", "pairwise-id", "subject-id"
        )
    if not value:
        raise IdentityRefused("no persistent NameID, eduPersonPrincipalName or pairwise-id")
    return Identity(
        provider=KEY,
        # A persistent NameID is unique per identity provider only, and an identity
        # provider of the federation must not speak for another's people: the link
        # holds the issuer too.
        subject=f"{session_info['issuer']} {value}",
        email=_first(ava, "mail"),
        first_name=_first(ava, "givenName"),
        last_name=_first(ava, "sn", "surname"),
    )


class SamlBackend(Saml2Backend):
    """djangosaml2's backend, whose user lookup is accounts.services.sign_in's alone: it
    never matches users by a username or an email, creates none, and sets no staff
    status, group or permission from the attributes."""

    def authenticate(
        self, request: HttpRequest | None, session_info: Mapping[str, Any] | None = None, **_: Any
    ) -> Any:
        if session_info is None:
            return None
        return sign_in(identity_from(session_info), now=timezone.now())

    def get_or_create_user(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("SAML users are found by accounts.services.sign_in")


# --- Views --------------------------------------------------------------------------


def _on() -> None:
    if not saml_config.enabled():
        raise Http404


def _client(config: Any) -> Saml2Client:
    return Saml2Client(config)


def _next(request: HttpRequest) -> str:
    """Where to go after the login: a local URL only."""
    url = request.GET.get("next", "")
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _refused(request: HttpRequest, message: str, status: int = 403) -> HttpResponse:
    return render(
        request,
        "accounts/saml_error.html",
        {"message": message, "login_url": reverse("login")},
        status=status,
    )


def _request_key(request_id: str) -> str:
    return f"saml:request:{request_id}"


def _answer_key(token: str) -> str:
    return f"saml:answer:{token}"


class _Outstanding(Mapping[str, str]):
    """The AuthnRequests sent (by any of our servers) not answered yet, as pysaml2 asks."""

    def __getitem__(self, request_id: str) -> str:
        if request_id not in self:
            raise KeyError(request_id)
        return ""

    def __contains__(self, request_id: object) -> bool:
        return isinstance(request_id, str) and cache.get(_request_key(request_id)) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __bool__(self) -> bool:
        # pysaml2 replaces a falsy mapping by {}: this one is looked up, never listed.
        return True


@require_GET
def login(request: HttpRequest) -> HttpResponse:
    """Send the browser to the identity provider with an AuthnRequest."""
    _on()
    next_url = _next(request)
    if request.user.is_authenticated:
        return HttpResponseRedirect(next_url)
    signed = bool(getattr(settings, "SAML_SP_KEY_FILE", ""))
    try:
        config = saml_config.sp_config()
        request_id, info = _client(config).prepare_for_authenticate(
            entityid=saml_config.idp_entity_id(config),
            binding=saml2.BINDING_HTTP_REDIRECT,
            sign=signed,
            sigalg=SIG_RSA_SHA256 if signed else None,
        )
    except Exception:  # metadata unreachable or expired, a wrong setting: say so, no 500
        logger.exception("SAML login cannot start")
        return _refused(
            request,
            _("Logging in through your institution is unavailable for now; try again later."),
            status=503,
        )
    cache.set(_request_key(request_id), "1", REQUEST_SECONDS)
    # A few at most: two tabs may log in at once; older ones are forgotten.
    pending = dict(list(request.session.get(PENDING, {}).items())[-4:])
    pending[request_id] = next_url
    request.session[PENDING] = pending
    return HttpResponseRedirect(dict(info["headers"])["Location"])


@csrf_exempt  # a cross-site POST by design; the signed answer is its own proof
@require_POST
def acs(request: HttpRequest) -> HttpResponse:
    """Check the identity provider's answer; no session cookie is needed here."""
    _on()
    message = request.POST.get("SAMLResponse", "")
    if not message:
        return _refused(request, _("The identity provider sent no answer."), status=400)
    client = _client(saml_config.sp_config())
    try:
        response = client.parse_authn_request_response(
            message, saml2.BINDING_HTTP_POST, outstanding=_Outstanding()
        )
    except Exception as exc:  # any bad answer (signature, audience, replay…) is refused
        logger.warning("SAML answer refused: %s: %s", type(exc).__name__, exc)
        response = None
    # Crossing the request out is atomic: of two answers to it, only one gets through.
    if response is None or not cache.delete(_request_key(response.in_response_to)):
        return _refused(request, _("The identity provider's answer could not be verified."))
    info = response.session_info()
    token = secrets.token_urlsafe(32)
    answer = {
        "request_id": response.in_response_to,
        "issuer": info["issuer"],
        "ava": info["ava"],
        "name_id": code(info["name_id"]) if info.get("name_id") else "",
        "session_index": info.get("session_index") or "",
        "not_on_or_after": info.get("not_on_or_after") or 0,
    }
    cache.set(_answer_key(token), answer, ANSWER_SECONDS)
    return HttpResponseRedirect(f"{reverse('saml-done')}?token={token}", status=303)


def _session_info(answer: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "issuer": answer["issuer"],
        "ava": answer["ava"],
        "name_id": decode(answer["name_id"]) if answer["name_id"] else None,
        "session_index": answer["session_index"],
        "not_on_or_after": answer["not_on_or_after"],
    }


@require_GET
def done(request: HttpRequest) -> HttpResponse:
    """Sign in the browser that asked, with the answer `acs` verified."""
    _on()
    key = _answer_key(request.GET.get("token", ""))
    answer = cache.get(key)
    cache.delete(key)
    pending = request.session.get(PENDING, {})
    if answer is None or answer["request_id"] not in pending:
        return _refused(
            request,
            _(
                "This login was not started in this browser, or it took too long. "
                "Please log in again."
            ),
        )
    next_url = pending[answer["request_id"]]
    session_info = _session_info(answer)
    try:
        user = SamlBackend().authenticate(request, session_info=session_info)
    except IdentityRefused:
        return _refused(
            request,
            _(
                "Your institution did not send a stable identifier (a persistent NameID, "
                "eduPersonPrincipalName or pairwise-id). Ask its IT department to release "
                "one to this platform."
            ),
        )
    if user is None:
        return _refused(request, _("Your account on this platform is deactivated."))
    auth.login(request, user, backend=BACKEND)
    request.session.pop(PENDING, None)
    remember(request, KEY)
    if answer["name_id"]:
        request.session[SUBJECT] = {k: answer[k] for k in _SUBJECT_FIELDS}
    return HttpResponseRedirect(next_url)


_SUBJECT_FIELDS = ("issuer", "name_id", "session_index", "not_on_or_after")


def _logout_client(config: Any, subject: Mapping[str, Any]) -> Saml2Client:
    """A client that knows the session the identity provider opened for this person."""
    client = _client(config)
    client.users.add_information_about_person(_session_info({**subject, "ava": {}}))
    return client


def _idp_has_slo(config: Any, idp: str) -> bool:
    try:
        return bool(config.metadata.single_logout_service(entity_id=idp, typ="idpsso"))
    except (UnsupportedBinding, UnknownSystemEntity):
        return False


@require_GET
def logout(request: HttpRequest) -> HttpResponse:
    """End our session, then the identity provider's when it offers single logout."""
    _on()
    if not logout_handed_over(request):
        return refuse_logout(request)
    subject = request.session.get(SUBJECT)
    auth.logout(request)
    home = resolve_url(settings.LOGOUT_REDIRECT_URL)
    if not subject:
        return HttpResponseRedirect(home)
    signed = bool(getattr(settings, "SAML_SP_KEY_FILE", ""))
    try:
        config = saml_config.sp_config()
        if not _idp_has_slo(config, subject["issuer"]):
            return HttpResponseRedirect(home)  # ours alone: the provider keeps its session
        client = _logout_client(config, subject)
        result = client.do_logout(
            decode(subject["name_id"]),
            [subject["issuer"]],
            reason="",
            expire=None,
            sign=signed,
            sign_alg=SIG_RSA_SHA256 if signed else None,
            expected_binding=saml2.BINDING_HTTP_REDIRECT,
        )
        _binding, http_info = result[subject["issuer"]]
    except Exception as exc:  # the provider's logout is a courtesy: ours is done
        logger.warning("SAML single logout not started: %s: %s", type(exc).__name__, exc)
        return HttpResponseRedirect(home)
    request.session[LOGOUT] = list(client.state)
    return HttpResponseRedirect(dict(http_info["headers"])["Location"])


@require_GET
def logout_service(request: HttpRequest) -> HttpResponse:
    """The identity provider's LogoutResponse to ours, or its own LogoutRequest (another
    service's logout ending the campus session ends ours too)."""
    _on()
    config = saml_config.sp_config()
    home = resolve_url(settings.LOGOUT_REDIRECT_URL)
    signature = {
        "relay_state": request.GET.get("RelayState"),
        "sigalg": request.GET.get("SigAlg"),
        "signature": request.GET.get("Signature"),
    }
    if "SAMLResponse" in request.GET:
        sent = request.session.pop(LOGOUT, [])
        try:
            response = _client(config).parse_logout_request_response(
                request.GET["SAMLResponse"], saml2.BINDING_HTTP_REDIRECT
            )
            ok = response is not None and response.in_response_to in sent
            ok = ok and response.status_ok()
        except Exception as exc:
            logger.warning("SAML logout response refused: %s: %s", type(exc).__name__, exc)
            ok = False
        if not ok:
            return _refused(
                request,
                _(
                    "You are logged out of this platform, but your institution did not "
                    "confirm the end of its session: close your browser to end it."
                ),
                status=400,
            )
        return HttpResponseRedirect(home)
    if "SAMLRequest" in request.GET:
        subject = request.session.get(SUBJECT)
        if not subject:
            return HttpResponseRedirect(home)
        client = _logout_client(config, subject)
        try:
            http_info = client.handle_logout_request(
                request.GET["SAMLRequest"],
                decode(subject["name_id"]),
                saml2.BINDING_HTTP_REDIRECT,
                sign=bool(getattr(settings, "SAML_SP_KEY_FILE", "")),
                **signature,
            )
        except Exception as exc:  # not a request the provider signed: nothing ends
            logger.warning("SAML logout request refused: %s: %s", type(exc).__name__, exc)
            return HttpResponseRedirect(home)
        auth.logout(request)
        return HttpResponseRedirect(dict(http_info["headers"])["Location"])
    return _refused(request, _("The identity provider sent no answer."), status=400)


@require_GET
def metadata(request: HttpRequest) -> HttpResponse:
    """Our service provider's metadata, for the identity provider or the federation."""
    _on()
    descriptor = entity_descriptor(saml_config.sp_config())
    return HttpResponse(str(descriptor).encode(), content_type="text/xml; charset=utf-8")


urlpatterns = [
    path("login/", login, name="saml-login"),
    path("acs/", acs, name="saml-acs"),
    path("done/", done, name="saml-done"),
    path("logout/", logout, name="saml-logout"),
    path("ls/", logout_service, name="saml-ls"),
    path("metadata/", metadata, name="saml-metadata"),
]

register(
    Provider(
        key=KEY,
        label=str(getattr(settings, "SAML_LABEL", "") or "SAML"),
        login_url_name="saml-login",
        logout_url_name="saml-logout",
        enabled=saml_config.enabled,
    )
)
