"""`Authorization: Token <key>` against hashed API tokens (core.models.ApiToken)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from core.models import ApiToken, token_digest


class ApiTokenAuthentication(TokenAuthentication):
    """DRF's token header and answers; the key is looked up by its digest."""

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        token = token_with_user(token_digest(key))
        # One answer for unknown, revoked, superseded by a new password, or inactive user.
        if token is None or not token.is_valid():
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return token.user, token


def token_with_user(digest: str) -> ApiToken | None:
    """The token of this digest with its user, in one query (None if there is none).

    Raw SQL on purpose: it runs on every API request, and compiling the equivalent
    `select_related` queryset cost Django twice what the database took to answer; a raw
    queryset still resolved its columns against the model on each request. The user comes
    whole (Django's converters applied, as a queryset would); the token with its
    identifying columns, its creation time read only if asked for.
    """
    users = get_user_model()
    fields = users._meta.concrete_fields
    quote = connection.ops.quote_name
    user_pk: str = getattr(users._meta.pk, "column", None) or "id"
    columns = ", ".join(f"u.{quote(str(field.column))}" for field in fields)
    sql = (
        # Only quoted table and column names are interpolated.
        f"SELECT {columns}, t.id, t.password_fingerprint"  # noqa: S608
        f" FROM {quote(ApiToken._meta.db_table)} t"
        f" JOIN {quote(users._meta.db_table)} u ON u.{quote(user_pk)} = t.user_id"
        " WHERE t.digest = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [digest])
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row[: len(fields)])
    for index, expression, converters in _user_converters(users, fields):
        for convert in converters:
            values[index] = convert(values[index], expression, connection)
    user = users.from_db(connection.alias, [field.attname for field in fields], values)
    token_id, fingerprint = row[len(fields) :]
    token = ApiToken.from_db(
        connection.alias,
        ["id", "digest", "user_id", "password_fingerprint"],
        [token_id, digest, user.pk, fingerprint],
    )
    token.user = user
    return token


def _user_converters(users: Any, fields: Any) -> list[tuple[int, Any, list[Any]]]:
    """The converters a queryset applies to each user column (SQLite's datetimes and
    booleans; none on PostgreSQL), by position."""
    found = []
    for index, field in enumerate(fields):
        expression = field.get_col(users._meta.db_table)
        converters = [
            *connection.ops.get_db_converters(expression),
            *expression.get_db_converters(connection),
        ]
        if converters:
            found.append((index, expression, converters))
    return found


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
