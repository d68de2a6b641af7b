"""Token login and logout (SPEC §7, §13).

`POST /api/v1/auth/token/` with `{username, password}` answers `{token}`: a new token each
time (several programs may hold one each), stored only as a digest. `DELETE` revokes the
token the request presents (or, from a logged-in session, all the caller's tokens): 204.
Logins are throttled per client address (`LOGIN_THROTTLE_RATE`) and locked per account and
per address after repeated failures (platform_booking.login_guard): 429 with Retry-After.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from core.api_tokens import api_token_issue, api_tokens_revoke
from core.models import ApiToken
from platform_booking import login_guard


class LoginRateThrottle(ScopedRateThrottle):
    """DRF's scoped throttle, keyed on the client address we trust (not any header)."""

    def get_ident(self, request: Request) -> str:
        return login_guard.client_address(request)


class TokenLoginView(APIView):
    throttle_scope = "login"

    def get_throttles(self) -> list[Any]:
        return [LoginRateThrottle()] if self.request.method == "POST" else []

    def get_permissions(self) -> list[Any]:
        return [IsAuthenticated()] if self.request.method == "DELETE" else [AllowAny()]

    @extend_schema(
        request=AuthTokenSerializer,
        responses={
            200: inline_serializer("TokenLogin", {"token": serializers.CharField()}),
            400: OpenApiResponse(description=_("Wrong username or password (`invalid`).")),
            429: OpenApiResponse(
                description=_("Too many attempts (`throttled`), see Retry-After.")
            ),
        },
    )
    def post(self, request: Request) -> Response:
        username = request.data.get("username") if hasattr(request.data, "get") else None
        seconds = login_guard.locked_for(request, username if isinstance(username, str) else None)
        if seconds:
            raise exceptions.Throttled(wait=seconds)
        serializer = AuthTokenSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        login_guard.record_success(request, user.get_username())
        return Response({"token": api_token_issue(user=user)})

    @extend_schema(
        request=None,
        responses={204: OpenApiResponse(description=_("Revoked."))},
    )
    def delete(self, request: Request) -> Response:
        token = request.auth if isinstance(request.auth, ApiToken) else None
        api_tokens_revoke(user=request.user, token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)
