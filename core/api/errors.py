"""One error body for the whole API: `{code, detail}` plus `fields` for field errors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404
from django.utils import timezone
from django.utils.encoding import force_str
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import CATALOGUE, DomainError, words


def flatten_errors(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn DRF's nested error structure into `{"a.b": [messages]}`."""
    flat: dict[str, list[str]] = {}
    if isinstance(errors, dict):
        for key, value in errors.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            for sub, messages in flatten_errors(value, name).items():
                flat.setdefault(sub, []).extend(messages)
    elif isinstance(errors, list):
        if all(not isinstance(item, dict | list) for item in errors):
            flat[prefix or "non_field_errors"] = [str(item) for item in errors]
        else:
            for index, item in enumerate(errors):
                if item:
                    name = f"{prefix}.{index}" if prefix else str(index)
                    for sub, messages in flatten_errors(item, name).items():
                        flat.setdefault(sub, []).extend(messages)
    else:
        flat[prefix or "non_field_errors"] = [str(errors)]
    return flat


def _local_times(value: Any) -> Any:
    """Show the instants of an error body in local time, as the rest of the API does."""
    if isinstance(value, datetime):
        return timezone.localtime(value)
    if isinstance(value, dict):
        return {k: _local_times(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_local_times(v) for v in value]
    return value


# Input the validators let through but the machine cannot hold: a date beyond year 9999
# after a time-zone shift, an id beyond the database's integers, JSON nested too deep.
OUT_OF_RANGE = (OverflowError, DataError)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        return Response(_local_times(exc.body()), status=exc.status)
    if isinstance(exc, OUT_OF_RANGE):
        return Response({"code": "invalid", "detail": _("A value is out of range.")}, status=400)
    if isinstance(exc, RecursionError):
        return Response(
            {"code": "parse_error", "detail": _("The request body is nested too deeply.")},
            status=400,
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = flatten_errors(exc.detail)
        general = fields.pop("non_field_errors", None) or fields.pop("__all__", None)
        body: dict[str, Any] = {
            "code": "invalid",
            "detail": general[0] if general else _("Invalid input."),
        }
        if fields:
            body["fields"] = fields
        response.data = body
        response.status_code = status.HTTP_400_BAD_REQUEST
        return response
    assert isinstance(exc, exceptions.APIException)
    codes = exc.get_codes()
    code = codes if isinstance(codes, str) else exc.default_code
    detail = str(exc.detail) if not isinstance(exc.detail, dict | list) else str(exc.default_detail)
    if code in CATALOGUE and _is_drf_default(exc, context):
        detail = _catalogue_words(code, exc)
    response.data = {"code": code, "detail": detail}
    return response


def _is_drf_default(exc: exceptions.APIException, context: dict[str, Any]) -> bool:
    """Whether `exc` carries DRF's own words (a raise site's words are kept)."""
    detail = exc.detail
    if isinstance(detail, dict | list):
        return True
    default = force_str(exc.default_detail)
    if isinstance(exc, exceptions.MethodNotAllowed):
        request = context.get("request")
        return str(detail) == default.format(method=getattr(request, "method", ""))
    if isinstance(exc, exceptions.Throttled):
        return str(detail) == default or str(detail).startswith(f"{default} ")
    return str(detail) == default


def _catalogue_words(code: str, exc: exceptions.APIException) -> str:
    """The catalogue's words for `code` (core.errors), in the reader's language; a throttle
    adds when to try again, as DRF's words did."""
    text = words(code)
    wait = getattr(exc, "wait", None)
    if isinstance(exc, exceptions.Throttled) and wait is not None:
        seconds = int(wait)
        text += " " + ngettext(
            "Available again in %(seconds)d second.",
            "Available again in %(seconds)d seconds.",
            seconds,
        ) % {"seconds": seconds}
    return text
