"""My account page (SPEC §8): language, feed token rotation, API token revocation and the
way to change the password of a local account."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from core.api_tokens import api_token_exists
from partners.services import api_token_revoke, feed_token_for, feed_token_rotate, user_language


class PasswordChange(SuccessMessageMixin, auth_views.PasswordChangeView):
    """Django's password change (old password, new one twice, the validators) in our layout;
    the session stays open."""

    template_name = "partners/password_change.html"
    success_url = reverse_lazy("account:index")
    success_message = gettext_lazy("Your password is changed.")


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The user's own settings."""
    user: Any = request.user
    token = feed_token_for(user=user)
    feed_url = f"{settings.SITE_URL}{reverse('calendars:me')}?{urlencode({'token': token.key})}"
    return render(
        request,
        "partners/account.html",
        {
            "feed_url": feed_url,
            "feed_token_created": token.created_at,
            "has_api_token": api_token_exists(user=user),
            "language": user_language(user) or "",
            "local_account": user.has_usable_password(),
        },
    )


@login_required
@require_POST
def rotate_feed_token(request: HttpRequest) -> HttpResponse:
    feed_token_rotate(user=request.user)
    messages.success(
        request,
        _("Your calendar feed has a new address: the previous one no longer works."),
    )
    return HttpResponseRedirect(reverse("account:index") + "#feed")


@login_required
@require_POST
def revoke_api_token(request: HttpRequest) -> HttpResponse:
    if api_token_revoke(user=request.user):
        messages.success(request, _("Your API token is revoked: programs using it are refused."))
    else:
        messages.info(request, _("You had no API token."))
    return HttpResponseRedirect(reverse("account:index") + "#api")
