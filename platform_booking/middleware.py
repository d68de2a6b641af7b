"""A last guard for the pages: out-of-range input answers 400, never 500."""

from __future__ import annotations

from collections.abc import Callable

from django.db import DataError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.utils.translation import gettext as _


class OutOfRangeMiddleware:
    """Turn what the forms let through but the machine cannot hold into a 400.

    A date near year 9999 overflowing after a time-zone shift, an id beyond the
    database's integers: the API's error handler answers these the same way.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, OverflowError | DataError):
            return HttpResponseBadRequest(
                _("A value is out of range."), content_type="text/plain; charset=utf-8"
            )
        return None
