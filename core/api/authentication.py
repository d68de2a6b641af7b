"""`Authorization: Token <key>` against hashed API tokens (core.models.ApiToken)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from core.models import ApiToken, token_digest


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's token header and answers; the key is looked up by its digest."""

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = ApiToken.objects.select_related("user").filter(digest=token_digest(key)).first()
        # One answer for unknown, revoked, superseded by a new password, or inactive user.
        if token is None or not token.is_valid():
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return token.user, token


class ApiTokenScheme(OpenApiAuthenticationExtension):
    target_class = "core.api.authentication.ApiTokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": _('Token-based authentication with the prefix "Token ".'),
        }
