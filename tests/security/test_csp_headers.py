"""The Content-Security-Policy middleware (platform_booking.middleware.CSPMiddleware)
writes the headers django-csp's writes, in every case: the settings' policy built once,
a response's own policy, a nonce, exemptions, excluded prefixes, changed settings."""

from __future__ import annotations

import pytest
from csp.constants import HEADER, HEADER_REPORT_ONLY, NONCE, SELF
from csp.exceptions import CSPNonceError
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from platform_booking.middleware import CSPMiddleware

HEADERS = (HEADER, HEADER_REPORT_ONLY)


def answers(path: str = "/", *, status: int = 200, nonce: bool = False, **attrs) -> list:
    """The headers each middleware writes on the same response, and the nonce guard."""
    written = []
    for middleware in (DjangoCSPMiddleware, CSPMiddleware):
        request = RequestFactory().get(path)
        mw = middleware(lambda r: HttpResponse())
        mw.process_request(request)
        if nonce:
            str(request.csp_nonce)
            request._csp_nonce = "fixed"  # the same nonce for both
        response = HttpResponse(status=status)
        for name, value in attrs.items():
            setattr(response, name, value)
        mw.process_response(request, response)
        guarded = False
        try:
            str(request.csp_nonce)
        except CSPNonceError:
            guarded = True
        written.append(({h: response.get(h) for h in HEADERS}, guarded))
    return written


@pytest.mark.parametrize(
    "attrs",
    [
        {},
        {"_csp_update": {"img-src": ["https://example.org"]}},
        {"_csp_replace": {"script-src": None}},
        {"_csp_config": {"default-src": [SELF]}},
        {"_csp_exempt": True},
        {"_csp_config_ro": {"default-src": [SELF]}},
    ],
)
def test_the_same_headers_as_django_csp(attrs):
    ours, theirs = answers(**attrs)
    assert ours == theirs
    assert answers(nonce=True, **attrs)[0] == answers(nonce=True, **attrs)[1]


def test_a_nonce_and_errors_in_debug_as_django_csp():
    with override_settings(
        CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": [SELF], "script-src": [NONCE]}}
    ):
        django_csp, ours = answers(nonce=True)
        assert django_csp == ours
        assert "'nonce-fixed'" in ours[0][HEADER]
    with override_settings(DEBUG=True):
        assert answers(status=404)[0] == answers(status=404)[1]
        assert answers(status=404)[1][0][HEADER] is None


def test_changed_settings_are_read_anew():
    before = answers()[1][0]
    assert before[HEADER] and "default-src 'self'" in before[HEADER]
    policy = {"DIRECTIVES": {"default-src": ["'none'"]}, "EXCLUDE_URL_PREFIXES": ["/skip"]}
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=policy):
        django_csp, ours = answers()
        assert django_csp == ours
        assert ours[0][HEADER_REPORT_ONLY] == "default-src 'none'"
        assert answers("/skip/x")[0] == answers("/skip/x")[1]
        assert answers("/skip/x")[1][0][HEADER_REPORT_ONLY] is None
    with override_settings(CONTENT_SECURITY_POLICY={}):
        assert answers()[1][0][HEADER] is None
    assert answers()[1][0] == before
