"""Project-level views: the health check, the language switch and the error pages."""

import sys

from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template import loader
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.views import i18n
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from core.errors import DomainError


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
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


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """403: the API's error body under /api/, the site's page (and the reason) elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(DomainError("permission_denied").body(), status=403)
    context = {"reason": _refusal_reason(exception), "status_code": 403}
    return HttpResponse(loader.render_to_string("403.html", context, request), status=403)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """404: the API's error body under /api/, the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "not_found", "detail": _("Not found.")}, status=404)
    return HttpResponse(
        loader.render_to_string("404.html", {"status_code": 404}, request), status=404
    )


def server_error(request: HttpRequest) -> HttpResponse:
    """500, or 503 when the database cannot be reached; rendered without a database query.

    The page gets no request, so no context processor runs: the layout shows no user (whose
    session and permissions would need the database that may be what failed).
    Django calls this handler while handling the exception, so sys.exc_info() names it.
    """
    if isinstance(sys.exc_info()[1], OperationalError | InterfaceError):
        return service_unavailable(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"code": "server_error", "detail": _("Server error")}, status=500)
    return HttpResponse(loader.render_to_string("500.html", {"status_code": 500}), status=500)


def service_unavailable(request: HttpRequest) -> HttpResponse:
    """503: the service is down for a while (no database query, as for 500)."""
    if request.path.startswith("/api/"):
        detail = _("The service is temporarily unavailable. Please try again in a few minutes.")
        response: HttpResponse = JsonResponse({"code": "unavailable", "detail": detail}, status=503)
    else:
        response = HttpResponse(
            loader.render_to_string("503.html", {"status_code": 503}), status=503
        )
    response["Retry-After"] = "120"
    return response
