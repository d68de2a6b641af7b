"""Project-level views: the health check, the language switch and the error pages."""

import logging
import sys
from typing import Any

from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.functional import Promise
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.errors import DomainError, words

from .outage import database_answers, is_database_unavailable, outages


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """Answer 200 when the database answers, 503 (with Retry-After) otherwise."""
    try:
        database_answers()
    except DatabaseError as error:
        outages.failed(error)
        response = JsonResponse(
            {
                "status": "error",
                "database": "unreachable",
                **DomainError("service_unavailable").body(),
            },
            status=503,
        )
        return _unavailable(response)
    return JsonResponse({"status": "ok"})


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's language switch, remembered for a logged-in user (their emails follow it)."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
    ):
        from partners.services import user_language_set

        user_language_set(user=request.user, language=language)
    return response


def _refusal_reason(exception: Exception) -> str:
    """The words a view gave its refusal (translated where raised), or nothing."""
    reason = exception.args[0] if exception.args else ""
    return str(reason) if isinstance(reason, str | Promise) else ""


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _api_error(key: str) -> JsonResponse:
    error = DomainError(key)
    return JsonResponse(error.body(), status=error.status)


def _page(template: str, status: int, request: HttpRequest | None = None, **context: Any):
    """An error page in the site's layout; without `request`, no context processor runs
    (no query, no user in the header, no Host read)."""
    context["status_code"] = status
    return HttpResponse(loader.render_to_string(template, context, request), status=status)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """400, or 413 for an oversized body: the API's error body under /api/, a page elsewhere.

    Rendered without the request: with a Host not allowed, reading it raises again. Logged
    in one line on Django's security logger, without the traceback it would add to each.
    """
    response: HttpResponse
    if isinstance(exception, RequestDataTooBig):
        api = _api_error("request_too_large") if _is_api(request) else None
        response = api or _page("413.html", 413)
    else:
        key = "bad_host" if isinstance(exception, DisallowedHost) else "bad_request"
        api = _api_error(key) if _is_api(request) else None
        response = api or _page("400.html", 400, reason=words(key))
    security_log = logging.getLogger(f"django.security.{type(exception).__name__}")
    security_log.warning("%s (%s)", exception, request.path)
    return _logged(response)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403: the API's error body under /api/, the site's page (and the reason) elsewhere."""
    if _is_api(request):
        return _api_error("permission_denied")
    return _page("403.html", 403, request, reason=_refusal_reason(exception))


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: the API's error body under /api/, the site's page elsewhere."""
    if _is_api(request):
        return _api_error("not_found")
    return _page("404.html", 404, request)


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when the database cannot be reached; rendered without a database query.

    The page gets no request, so no context processor runs: the layout shows no user (whose
    session and permissions would need the database that may be what failed).
    Django calls this handler while handling the exception, so sys.exc_info() names it.
    """
    error = sys.exc_info()[1]
    if is_database_unavailable(error):
        assert error is not None
        return service_unavailable(request, error)
    if _is_api(request):
        return _api_error("server_error")
    return _page("500.html", 500)


def service_unavailable(request: HttpRequest, error: BaseException) -> HttpResponse:
    """503 with Retry-After (no database query, as for 500), logged once per outage."""
    outages.failed(error)
    if _is_api(request):
        return _unavailable(_api_error("service_unavailable"))
    return _unavailable(_page("503.html", 503))


def _unavailable(response: HttpResponse) -> HttpResponse:
    response["Retry-After"] = str(settings.RETRY_AFTER_SECONDS)
    # The outage is logged once (platform_booking.outage), not once per request by
    # django.request with the traceback.
    return _logged(response)


def _logged(response: HttpResponse) -> HttpResponse:
    """Tell Django's request logging this answer has been logged already."""
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response
