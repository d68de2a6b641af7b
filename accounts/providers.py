"""The identity providers this platform is configured for, as the login page shows them.

Each protocol is turned on by its environment variables (README, SPEC §13) and adds its
URLs under /accounts/ (accounts.urls); the login page lists those that are on, beside the
local form. After a login through a provider its key is kept in the session, so that
logging out can end the provider's session too where the protocol allows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest
from django.urls import reverse

from .models import Provider as Kind

SESSION_KEY = "sso_provider"
# Set by the CSRF-checked POST /accounts/logout/ for the protocol's logout page, which takes
# it: a link on another site to that page (a GET) finds none and logs nobody out.
HANDOVER_KEY = "sso_logout_handover"


@dataclass(frozen=True)
class Provider:
    key: str
    # The button's words: the campus's own name for it (CAS_LABEL…), else the protocol's.
    label: str
    login_url_name: str
    # The view that ends the provider's session after ours; None: ours alone ends.
    logout_url_name: str | None
    enabled: Callable[[], bool]

    def login_url(self, next_url: str = "") -> str:
        url = reverse(self.login_url_name)
        return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _setting(name: str) -> str:
    return str(getattr(settings, name, "") or "")


PROVIDERS: list[Provider] = []


def register(provider: Provider) -> None:
    """Called by each protocol's module when the URLs are loaded."""
    PROVIDERS[:] = [p for p in PROVIDERS if p.key != provider.key] + [provider]


def configured() -> list[Provider]:
    """The providers turned on, in the order CAS, SAML, OpenID Connect."""
    order = [k.value for k in Kind]
    on = [p for p in PROVIDERS if p.enabled()]
    return sorted(on, key=lambda p: order.index(p.key) if p.key in order else len(order))


def remember(request: HttpRequest, key: str) -> None:
    """Note, after the login, which provider the session came from."""
    request.session[SESSION_KEY] = key


def signed_in_with(request: HttpRequest) -> Provider | None:
    key = request.session.get(SESSION_KEY)
    return next((p for p in configured() if p.key == key), None)


def hand_over_logout(request: HttpRequest) -> None:
    """Allow the next visit of the protocol's logout page (see HANDOVER_KEY)."""
    request.session[HANDOVER_KEY] = True


def logout_handed_over(request: HttpRequest) -> bool:
    """Whether this visit of a protocol's logout page comes from our logout (once)."""
    return bool(request.session.pop(HANDOVER_KEY, False))
