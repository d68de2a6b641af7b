"""The Content Security Policy in a real browser (Debian's Chromium): the main pages load
and work with the policy on, and the browser reports no violation."""

from __future__ import annotations

import pytest

from .conftest import wait_until

pytestmark = [pytest.mark.slow_security, pytest.mark.django_db(transaction=True)]

# Runs before any script of the page (injected by the browser, not subject to the policy).
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline") + " "
    + (e.sourceFile || "") + ":" + e.lineNumber);
});
"""


def test_main_pages_load_under_the_policy_without_violation(new_page, live_server, campus):
    page = new_page(campus.researcher)
    page.add_init_script(RECORD_VIOLATIONS)
    console: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    pages = [
        ("/equipment/", "main h1"),
        (f"/equipment/{campus.rheometer.pk}/", ".ec-toolbar"),  # the calendar library
        ("/planning/", ".ec-toolbar"),
        ("/book/", "form"),
        ("/account/", "main h1"),
        ("/api/docs/", ".swagger-ui .info"),  # Swagger UI, read from our own files
    ]
    for path, ready in pages:
        response = page.goto(live_server.url + path)
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"], path
        page.locator(ready).first.wait_for(state="visible")
        page.wait_for_load_state("networkidle")
        violations = page.evaluate("window.__violations")
        assert violations == [], (path, violations)
    blocked = [line for line in console if "Content Security Policy" in line]
    assert blocked == []

    # The scripts moved out of the pages still work: the language menu submits itself.
    page.goto(live_server.url + "/equipment/")
    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.evaluate("window.__violations") == []


def test_the_browser_refuses_an_inline_script(new_page, live_server, campus):
    """The check above can fail: an inline script is reported and not run."""
    page = new_page(campus.researcher)
    page.add_init_script(RECORD_VIOLATIONS)
    page.goto(live_server.url + "/equipment/")
    page.evaluate(
        """() => { const s = document.createElement("script");
                   s.textContent = "window.__ran = true"; document.body.appendChild(s); }"""
    )
    # The violation event comes asynchronously: wait for it, then check the script never ran.
    wait_until(
        page,
        lambda: page.evaluate("window.__violations.length") > 0,
        what="the violation to be reported",
    )
    assert page.evaluate("window.__ran === undefined")
    assert any(v.startswith("script-src") for v in page.evaluate("window.__violations"))
