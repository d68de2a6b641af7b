"""The OpenAPI schema documents every status an operation can answer (SPEC §7, §14).

drf-spectacular documents what a view returns when it succeeds, and what its
`extend_schema(responses=...)` names. The errors come from elsewhere: the authentication
and permission classes, the throttles, the paginator, the exception handler of
`core.api.errors`, the middleware. `AutoSchema` adds them to every operation from what the
operation has, so that a new endpoint is documented without a word of its own:

| status | when | body |
|---|---|---|
| 400 | the operation takes input (a body, a query or path parameter) | `Error` |
| 401 | the view authenticates (a missing or bad token or session) | `Error` |
| 403 | a login is required, or the method writes (permissions, CSRF) | `Error` |
| 404 | a path parameter names an object, or a list is paginated (`?page=`) | `Error` |
| 413, 415 | the operation takes a body (too large; a content type it does not read) | `Error` |
| 429 | the view is throttled | `Error`, `Retry-After` |
| 503 | always: the database is unreachable | `Error`, `Retry-After` |

A status the view documents with its own body (a 400 with its own shape, the 409 of a
refused booking) is kept as the view wrote it; one it documents with words only gets the
`Error` body (and `Retry-After` for 429 and 503).
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import permissions, serializers

from core.errors import CATALOGUE

# An error of the API: a machine `code` and a translated `detail`, with `fields` for field
# errors; some errors add their own keys (`occurrences`, `errors`...). Made with
# inline_serializer: a field named `fields` would shadow Serializer.fields in a class body.
ErrorSerializer = type(
    inline_serializer(
        "Error",
        {
            "code": serializers.CharField(help_text=_("Machine code: invalid, not_found...")),
            "detail": serializers.CharField(help_text=_("What went wrong, in words.")),
            "fields": serializers.DictField(
                child=serializers.ListField(child=serializers.CharField()),
                required=False,
                help_text=_("Field errors `{name: [messages]}`; nested names use dots."),
            ),
        },
    )
)


class IntervalSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class AlternativeSerializer(serializers.Serializer):
    equipment = serializers.IntegerField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()


class OccurrenceSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    code = serializers.CharField()
    equipment = serializers.IntegerField(required=False)


class ConflictSerializer(serializers.Serializer):  # component "Conflict"
    """A refused booking (409 `conflict`): what is in the way, and free slots to take instead."""

    code = serializers.CharField(help_text="conflict")
    detail = serializers.CharField()
    conflicts = IntervalSerializer(many=True)
    alternatives = AlternativeSerializer(many=True)
    occurrences = OccurrenceSerializer(
        many=True, required=False, help_text=_("For a series or session: every occurrence refused.")
    )


CONFLICT = OpenApiResponse(
    ConflictSerializer,
    description=_("The equipment is already booked: nothing was booked (SPEC §7)."),
)

RETRY_AFTER = {
    "Retry-After": {
        "description": _("Seconds to wait before trying again."),
        "required": True,
        "schema": {"type": "integer"},
    }
}

# Why each status is answered, and whether the answer says when to try again.
ERRORS: dict[str, tuple[Any, bool]] = {
    "400": (_("Invalid input or a rule broken: `code` says which."), False),
    "401": (_("Not logged in, or the token or session is not valid."), False),
    "403": (_("Logged in but not allowed."), False),
    "404": (_("Not found, or not visible to the reader."), False),
    "413": (CATALOGUE["request_too_large"].words, False),
    "415": (_("The body's content type is not one the operation reads."), False),
    "429": (_("Too many requests: try again after `Retry-After` seconds."), True),
    "503": (CATALOGUE["service_unavailable"].words, True),
}


class AutoSchema(SpectacularAutoSchema):
    """drf-spectacular's AutoSchema, with the error answers every operation can give."""

    def get_auth(self) -> list[dict[str, Any]]:
        auths = super().get_auth()
        # A view without permission classes (the token login) is open to anonymous callers;
        # drf-spectacular marks only AllowAny that way.
        if not self.view.get_permissions() and {} not in auths:
            auths.append({})
        return auths

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation["responses"]
        for status in self.error_statuses(operation):
            description, retry = ERRORS[status]
            response = responses.get(status) or {"description": description}
            # A view that names an error with words only still answers the error body.
            if "content" not in response:
                response["content"] = self._get_response_for_code(ErrorSerializer, status)[
                    "content"
                ]
            if retry:
                response["headers"] = {**RETRY_AFTER, **response.get("headers", {})}
            responses[status] = response
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_statuses(self, operation: dict[str, Any]) -> list[str]:
        """The error statuses this operation can answer, from what it has."""
        parameters = operation.get("parameters", [])
        has_body = "requestBody" in operation
        # No `security` (or `auth=[]`) or an empty requirement: anonymous callers may call.
        needs_login = {} not in (operation.get("security") or [{}])
        writes = self.method not in permissions.SAFE_METHODS
        statuses = ["503"]
        if has_body or parameters:
            statuses.append("400")
        if self.view.get_authenticators():
            statuses.append("401")
        if needs_login or writes:
            statuses.append("403")
        if any(p.get("in") == "path" for p in parameters) or self._paginated():
            statuses.append("404")
        if has_body:
            statuses += ["413", "415"]
        if self.view.get_throttles():
            statuses.append("429")
        return statuses

    def _paginated(self) -> bool:
        return self.method == "GET" and self._is_list_view() and self._get_paginator() is not None
