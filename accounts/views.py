"""The login page (the local form and the configured providers) and the logout."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from .providers import configured, signed_in_with


class LoginView(auth_views.LoginView):
    """Django's login, with a button for each configured identity provider."""

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        next_url = context.get("next") or ""
        context["providers"] = [(p, p.login_url(next_url)) for p in configured()]
        return context


class LogoutView(auth_views.LogoutView):
    """Ends the local session; after a single sign-on login whose protocol can end the
    provider's session too, hands over to that protocol's logout, which ends both."""

    def post(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        provider = signed_in_with(request)
        if provider is not None and provider.logout_url_name:
            return redirect(provider.logout_url_name)
        return super().post(request, *args, **kwargs)
