"""CAS single sign-on (SPEC §13), as Orléans and Tours run it, on django-cas-ng.

On when `CAS_SERVER_URL` is set (README, "Single sign-on"). The browser goes to the CAS
server's /login with our service URL (/accounts/cas/login/?next=…&state=…), comes back
with a service ticket, and the backend has the CAS server validate it for that service
URL (CAS 3 `p3/serviceValidate` by default, which releases the attributes). The ticket's
`<cas:user>` is the stable identifier; the email and names come from the attributes named
by `CAS_ATTRIBUTE_*`. accounts.services.sign_in alone finds or creates the user:
django-cas-ng never creates, matches or grants anything by itself (no user by username or
email, no staff status or groups from affiliations).

Ours: the login view (django-cas-ng's reads `next` unchecked and has no state), on
django-cas-ng's CAS client, session tickets and single logout. django-cas-ng's: the
logout, which ends our session and sends the browser to the CAS server's /logout, ending
the CAS session (its TGC) too; POST /accounts/logout/ hands over to it. The CAS server's
single logout requests (a POST of `logoutRequest` to the service URL when the person logs
out of CAS elsewhere) end the session that ticket opened here.
"""

from __future__ import annotations

import logging
import secrets
from typing import Any, cast
from xml.etree.ElementTree import ParseError

import requests
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate
from django.contrib.auth import login as auth_login
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
    QueryDict,
)
from django.http.response import HttpResponseBase
from django.shortcuts import resolve_url
from django.urls import URLPattern, path, reverse
from django.utils.crypto import constant_time_compare
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from django_cas_ng import backends as cas_backends
from django_cas_ng import views as cas_views
from django_cas_ng.models import SessionTicket
from django_cas_ng.utils import get_cas_client

from .models import Provider as Kind
from .providers import Provider, logout_handed_over, register, remember
from .services import Identity, IdentityRefused, sign_in
from .views import refuse_logout

logger = logging.getLogger(__name__)

STATE_KEY = "cas_state"
# Seconds to wait for the CAS server's ticket validation (python-cas sets no timeout).
VALIDATION_TIMEOUT = 10


def enabled() -> bool:
    return bool(getattr(settings, "CAS_SERVER_URL", None))


class _TimedSession(requests.Session):
    def request(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", VALIDATION_TIMEOUT)
        return super().request(*args, **kwargs)


def _first(value: Any) -> str:
    """An attribute's value: CAS repeats an element for a multi-valued attribute."""
    if isinstance(value, list):
        value = next((v for v in value if v), "")
    return str(value or "")


class CASBackend(cas_backends.CASBackend):
    """Checks the service ticket with the CAS server, then hands the identity to sign_in."""

    def authenticate(  # type: ignore[override]
        self, request: HttpRequest | None, ticket: str, service: str
    ) -> Any:
        if not enabled() or not ticket:
            return None
        client = get_cas_client(service_url=service, request=request)
        client.session = _TimedSession()
        try:
            username, attributes, _pgtiou = client.verify_ticket(ticket)
        except (requests.RequestException, ParseError, ValueError, IndexError) as error:
            # Unreachable server, or an answer that is not CAS XML: no login, no 500.
            logger.warning("CAS ticket validation failed: %r", error)
            return None
        if not username:
            logger.info("CAS refused a ticket for %s", service)
            return None
        attributes = attributes or {}
        identity = Identity(
            provider=Kind.CAS.value,
            subject=str(username),
            email=_first(attributes.get(settings.CAS_ATTRIBUTE_EMAIL)),
            first_name=_first(attributes.get(settings.CAS_ATTRIBUTE_GIVEN_NAME)),
            last_name=_first(attributes.get(settings.CAS_ATTRIBUTE_FAMILY_NAME)),
        )
        try:
            return sign_in(identity)
        except IdentityRefused:
            return None


def _local_next(request: HttpRequest, url: str | None) -> str:
    """`next` if it stays on this site, else the page after a login."""
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _service_url(request: HttpRequest, next_url: str, state: str) -> str:
    """Our callback as the CAS server knows it: the ticket is valid for this exact URL."""
    query = urlencode({"next": next_url, "state": state})
    return f"{request.build_absolute_uri(reverse('cas_login'))}?{query}"


@method_decorator(csrf_exempt, name="dispatch")
class LoginView(View):
    """GET: off to the CAS server, or back from it with a ticket. POST: the CAS server's
    single logout request (it cannot carry our CSRF token; the ticket it names is the
    proof, as the CAS protocol has it).

    CAS has no state parameter: ours travels in the service URL, and a ticket comes back
    only for the browser that set off (else someone could log a victim in as themselves
    by sending them a ticket of their own). A callback without one (a portal linking to
    the CAS server with our bare service URL) sets off again, with one; through the CAS
    session that costs the person nothing."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        next_url = _local_next(request, request.GET.get("next"))
        if request.user.is_authenticated:
            # Not a CAS session: the provider remembered stays what it was.
            return HttpResponseRedirect(next_url)
        ticket, state = request.GET.get("ticket"), request.GET.get("state")
        if not ticket or state is None:
            state = secrets.token_urlsafe(24)
            request.session[STATE_KEY] = state
            client = get_cas_client(service_url=_service_url(request, next_url, state))
            return HttpResponseRedirect(client.get_login_url())
        expected = request.session.pop(STATE_KEY, None)
        user = None
        if expected and constant_time_compare(state, expected):
            service = _service_url(request, next_url, state)
            user = authenticate(request, ticket=ticket, service=service)
        if user is None:
            # A forged, replayed or foreign ticket, another browser's, or a deactivated
            # account.
            message = _("The login through %(provider)s failed. Please try again.")
            messages.error(request, message % {"provider": settings.CAS_LABEL})
            return HttpResponseRedirect(f"{reverse('login')}?{urlencode({'next': next_url})}")
        auth_login(request, user)
        if key := request.session.session_key:  # set by the login (a new key)
            # For the CAS server's single logout, which names the ticket.
            SessionTicket.objects.create(session_key=key, ticket=ticket)
        remember(request, Kind.CAS.value)
        return HttpResponseRedirect(next_url)

    def post(self, request: HttpRequest) -> HttpResponse:
        logout_request = request.POST.get("logoutRequest", "")
        client = get_cas_client(request=request)
        if not logout_request or not hasattr(client, "get_saml_slos"):
            return HttpResponseBadRequest()
        if client.get_saml_slos(logout_request) is None:  # not XML
            return HttpResponseBadRequest()
        cas_views.clean_sessions(client, request)
        return HttpResponse("ok", content_type="text/plain")


class LogoutView(cas_views.LogoutView):
    """Ends our session, then the CAS server's (its /logout), back to our login page."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not enabled():
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: HttpRequest) -> HttpResponse:
        if not logout_handed_over(request):
            return refuse_logout(request)
        # Never a `next` from the query string (django-cas-ng reads it unchecked): the CAS
        # server would send the browser there.
        query = QueryDict(mutable=True)
        query["next"] = reverse("login")
        cast(Any, request).GET = query
        return super().get(request)


urlpatterns: list[URLPattern] = [
    path("login/", LoginView.as_view(), name="cas_login"),
    path("logout/", LogoutView.as_view(), name="cas_logout"),
]

register(
    Provider(
        key=Kind.CAS.value,
        label=getattr(settings, "CAS_LABEL", "") or "CAS",
        login_url_name="cas_login",
        logout_url_name="cas_logout",
        enabled=enabled,
    )
)
