"""The login page (the local form and the configured providers) and the logout."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from .providers import configured, hand_over_logout, signed_in_with


class LoginView(auth_views.LoginView):
    """Django's login, with a button for each configured identity provider."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        next_url = context.get("next") or ""
        context["providers"] = [(p, p.login_url(next_url)) for p in configured()]
        return context


class LogoutView(auth_views.LogoutView):
    """Ends the local session; after a single sign-on login whose protocol can end the
    provider's session too, hands over to that protocol's logout, which ends both.

    The hand-over is a page that moves on by itself (a meta refresh, and a link), not a
    redirect: browsers apply the Content Security Policy's `form-action` to the redirects
    that follow a form, and the protocol's logout goes on to the provider's site. The
    protocol's logout page acts only when this POST (CSRF-checked) allowed it.
    """

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        provider = signed_in_with(request)
        if provider is not None and provider.logout_url_name:
            hand_over_logout(request)
            url = reverse(provider.logout_url_name)
            return render(
                request, "accounts/logout_handover.html", {"url": url, "provider": provider}
            )
        return super().post(request, *args, **kwargs)


def refuse_logout(request: HttpRequest) -> HttpResponse:
    """A protocol's logout page visited without our logout's hand-over (a link from another
    site): log nobody out; the person's own logout button is on every page."""
    return redirect(settings.LOGIN_REDIRECT_URL if request.user.is_authenticated else "login")
