"""Password reset by email for local accounts (SPEC §13), through the outbox (SPEC §12).

Django's four views and URL names (password_reset, password_reset_done,
password_reset_confirm, password_reset_complete) in the site's layout; only the form's
`save` differs: instead of sending inside the request it records one outbox row
(notifications.outbox.password_reset_request) per account Django's `get_users` finds for
the address (active, with a usable password: no email for an unknown address nor for a
single sign-on account), and the worker makes the link at delivery. The token is never
stored: it is Django's, made from the user's password hash, so it works once.

Abuse is limited silently (the page says the same whatever happened): at most
PASSWORD_RESET_PER_HOUR emails per account over the last hour (counted on the outbox), and
at most PASSWORD_RESET_PER_ADDRESS requests per client address over the last hour (counted
in the login throttles' shared store, the same client address as theirs).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.tokens import PasswordResetTokenGenerator, default_token_generator
from django.http import HttpRequest
from django.urls import reverse_lazy
from django.utils import translation

from notifications.outbox import password_reset_request

from . import login_guard

log = logging.getLogger(__name__)

WINDOW = 3600  # seconds: the limits are per hour


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's form (an email address), recording outbox rows instead of sending."""

    def save(  # Django's arguments; only `request` is used
        self,
        domain_override: str | None = None,
        subject_template_name: str = "registration/password_reset_subject.txt",
        email_template_name: str = "registration/password_reset_email.html",
        use_https: bool = False,
        token_generator: PasswordResetTokenGenerator = default_token_generator,
        from_email: str | None = None,
        request: HttpRequest | None = None,
        html_email_template_name: str | None = None,
        extra_email_context: dict[str, Any] | None = None,
    ) -> None:
        """Record the reset email of each account of this address (the link, its domain
        and its token are made by the worker at delivery: SITE_URL, Django's token)."""
        if request is not None and address_over_limit(request):
            return
        email = self.cleaned_data["email"]
        language = translation.get_language() or ""
        for user in self.get_users(email):
            if password_reset_request(user=user, language=language) is None:
                log.info("password reset: account %s over its hourly limit", user.pk)


def address_over_limit(request: HttpRequest) -> bool:
    """Count this request against its client address; True once past the hourly limit."""
    address = login_guard.client_address(request)
    count = login_guard.count_in_window(f"{login_guard.PREFIX}:reset:address:{address}", WINDOW)
    if count > settings.PASSWORD_RESET_PER_ADDRESS:
        log.info("password reset: client address %s over its hourly limit", address)
        return True
    return False


class PasswordReset(auth_views.PasswordResetView):
    form_class = OutboxPasswordResetForm
    template_name = "registration/password_reset_form.html"
    success_url = reverse_lazy("password_reset_done")


class PasswordResetDone(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


class PasswordResetConfirm(auth_views.PasswordResetConfirmView):
    """The link's page: a new password twice, with Django's validators; the link then dies
    (the token depends on the password hash)."""

    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("password_reset_complete")


class PasswordResetComplete(auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"
