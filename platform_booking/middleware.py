"""Last guards: out-of-range input answers 400, an oversized body 413, a database outage 503;
never a 500 or a traceback for what is not a bug."""

from __future__ import annotations

from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from csp import middleware as csp_middleware
from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.utils import build_policy
from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.core.exceptions import RequestDataTooBig
from django.core.signals import setting_changed
from django.db import DataError, connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, HttpResponseBase
from django.middleware import locale
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _

from . import views
from .outage import is_database_unavailable, outages


class LocaleMiddleware(locale.LocaleMiddleware):
    """Django's language choice (cookie, then Accept-Language, then LANGUAGE_CODE), without
    looking for a language in the path while no URL is language-prefixed (ours never are).

    Django's looks for it twice per request even then, and throws the answer away: a
    regular expression and a failed language lookup (an exception) each time, a tenth of
    the cost of a small API request. With `i18n_patterns` in the URLs, Django's runs.
    """

    def process_request(self, request: HttpRequest) -> None:
        if _prefixed(request):
            super().process_request(request)
            return
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = translation.get_language()

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if _prefixed(request):
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def _prefixed(request: HttpRequest) -> bool:
    """Whether the request's URLs use `i18n_patterns` (Django caches the answer)."""
    urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
    return bool(is_language_prefix_patterns_used(urlconf)[0])


# What a view or decorator may set on a response to change its policy (django-csp).
_PER_RESPONSE = tuple(
    f"_csp_{part}{suffix}" for part in ("config", "update", "replace") for suffix in ("", "_ro")
)
# The two headers the settings alone give, and their excluded prefixes, once built.
_POLICIES: dict[str, Any] = {}
_CSP_SETTINGS = frozenset({"CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"})


@receiver(setting_changed)
def _forget_policies(*, setting: str, **kwargs: Any) -> None:
    if setting in _CSP_SETTINGS:
        _POLICIES.clear()


def _settings_policies() -> dict[str, Any]:
    if not _POLICIES:
        both = {}
        for header, name, report_only in (
            (HEADER, "CONTENT_SECURITY_POLICY", False),
            (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True),
        ):
            prefixes = (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES") or ()
            both[header] = (build_policy(report_only=report_only), tuple(prefixes))
        _POLICIES.update(both)
    return _POLICIES


class CSPMiddleware(csp_middleware.CSPMiddleware):
    """django-csp's middleware, building the headers of the settings once rather than
    twice per response (a tenth of a small API request) when the response has no policy
    of its own (`csp_update`, `csp_replace`, `csp_override`…) and no nonce was asked
    for; any other response is django-csp's. Settings changed (override_settings) are
    read anew. Otherwise the same: the same headers, exemptions and nonce guard."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if getattr(request, "_csp_nonce", None) is not None or any(
            getattr(response, name, None) is not None for name in _PER_RESPONSE
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (
            HTTPStatus.INTERNAL_SERVER_ERROR,
            HTTPStatus.NOT_FOUND,
        ):
            return response
        for (header, (policy, prefixes)), exempt in zip(
            _settings_policies().items(), ("_csp_exempt", "_csp_exempt_ro"), strict=True
        ):
            if (
                policy
                and header not in response
                and getattr(response, exempt, False) is False
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = policy
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = csp_middleware.CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response


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


class BodySizeMiddleware:
    """Answer 413 to a body larger than the server accepts, before anything reads it.

    Django checks DATA_UPLOAD_MAX_MEMORY_SIZE only when `request.body` or a form is read;
    DRF's JSON parser reads the raw stream and would take 50 MB whole. File uploads
    (multipart) may be larger, up to MAX_UPLOAD_BODY_BYTES.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if request.META.get("CONTENT_TYPE", "").startswith("multipart/form-data"):
            limit = settings.MAX_UPLOAD_BODY_BYTES
        else:
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        if limit is not None and length > limit:
            return views.bad_request(request, RequestDataTooBig(f"{length} > {limit} bytes"))
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """A view that cannot reach the database answers 503 (even with DEBUG on); a request
    that reached it again ends the outage in the log.

    Errors raised outside views (a session saved by a middleware) reach the 500 handler,
    which answers the same 503.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if outages.ongoing and response.status_code < 500 and connection.connection is not None:
            outages.reached()
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_database_unavailable(exception):
            return views.service_unavailable(request, exception)
        return None
