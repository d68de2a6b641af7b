"""My account page (SPEC §8): language, the notifications received by email (SPEC §12), feed
token rotation, API token revocation and the way to change the password of a local
account."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
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

from core.api_tokens import api_token_exists, api_tokens_revoke
from partners.preferences import (
    EmailTopic,
    email_topics,
    notification_preferences,
    notification_preferences_set,
)
from partners.services import feed_token_for, feed_token_rotate, user_language


class PasswordChange(SuccessMessageMixin, auth_views.PasswordChangeView):
    """Django's password change (old password, new one twice, the validators) in our layout;
    the session stays open."""

    template_name = "partners/password_change.html"
    success_url = reverse_lazy("account:index")
    success_message = gettext_lazy("Your password is changed.")


class NotificationsForm(forms.Form):
    """A box per notification the user may receive by email (partners.preferences.email_topics),
    and whether emails carry the .ics."""

    attach_ics = forms.BooleanField(
        required=False,
        label=gettext_lazy("Attach the reservation as an .ics file (for my calendar)"),
    )

    def __init__(self, *args: Any, topics: list[EmailTopic], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for topic in topics:
            self.fields[f"email_{topic.value}"] = forms.BooleanField(
                required=False, label=topic.label
            )
        self.order_fields([name for name in self.fields if name != "attach_ics"])

    def topics(self) -> dict[str, bool]:
        return {
            name.removeprefix("email_"): value
            for name, value in self.cleaned_data.items()
            if name.startswith("email_")
        }


@login_required
def account(request: HttpRequest) -> HttpResponse:
    """The user's own settings; a POST saves the notification settings."""
    user: Any = request.user
    topics = email_topics(user)
    if request.method == "POST":
        form = NotificationsForm(request.POST, topics=topics)
        if form.is_valid():
            notification_preferences_set(
                user=user, attach_ics=form.cleaned_data["attach_ics"], email=form.topics()
            )
            messages.success(request, _("Your notification settings are saved."))
            return HttpResponseRedirect(reverse("account:index") + "#notifications")
    else:
        current = notification_preferences(user, topics=topics)
        initial = {f"email_{topic}": on for topic, on in current["email"].items()}
        form = NotificationsForm(
            initial={**initial, "attach_ics": current["attach_ics"]}, topics=topics
        )
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
            "notifications_form": form,
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
    # Whether one of the user's tokens still worked: programs using it are now refused.
    if api_tokens_revoke(user=request.user) > 0:
        messages.success(request, _("Your API token is revoked: programs using it are refused."))
    else:
        messages.info(request, _("You had no API token."))
    return HttpResponseRedirect(reverse("account:index") + "#api")
