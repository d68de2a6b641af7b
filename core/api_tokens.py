"""Writes and reads of API tokens, for the token login, the account page and the API."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.models import ApiToken


def api_token_issue(*, user: Any) -> str:
    """A new API token for the user; answer its key (shown once, stored hashed)."""
    _token, key = ApiToken.issue(user)
    return key


@transaction.atomic
def api_tokens_revoke(*, user: Any, token: ApiToken | None = None) -> int:
    """Revoke one token of the user, or all of them; answer how many worked until now."""
    tokens = ApiToken.objects.filter(user=user)
    if token is not None:
        tokens = tokens.filter(pk=token.pk)
    valid = tokens.valid_for(user).count()
    tokens.delete()
    return valid


def api_token_exists(*, user: Any) -> bool:
    return ApiToken.objects.valid_for(user).exists()
