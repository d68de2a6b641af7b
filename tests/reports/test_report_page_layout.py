"""The report page in a browser (Debian's headless Chromium): at 1366 px the widest table
shows every column, the amounts and utilisation included, without scrolling; at 390 px
the page does not scroll sideways (the table scrolls inside its own box)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
STATIC = Path(__file__).resolve().parents[2]
CSS = [STATIC / "platform_booking/static/css/app.css", STATIC / "reports/static/reports/usage.css"]


@contextmanager
def page_at(width: int, html: str) -> Iterator[Any]:
    """The HTML in a headless Chromium page this wide.

    The browser starts once the page is rendered and stops before the test ends: no
    database work runs beside Playwright's event loop (whose greenlets would open
    connections of their own, left open at the end of the tests).
    """
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: run `make browser`.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.set_content(html)
            yield page
        finally:
            browser.close()


def _page_html(client, params) -> str:
    """The page with its style sheets inlined: no server, nothing fetched."""
    html = client.get(reverse("reports:usage"), params).content.decode()
    styles = "".join(f"<style>{path.read_text()}</style>" for path in CSS)
    for path in ("css/app.css", "reports/usage.css"):
        html = html.replace(f'<link rel="stylesheet" href="/static/{path}">', "")
    return html.replace("</head>", styles + "</head>")


# The widest tables: two dimensions and the equipment's open hours and utilisation.
WIDEST = [
    {"start": "2026-03-01", "end": "2026-11-01", "group_by": "equipment", "then": "month"},
    {"start": "2026-03-01", "end": "2026-11-01", "group_by": "equipment", "then": "partner"},
]


@pytest.mark.parametrize("params", WIDEST)
def test_every_column_shows_at_1366_px(client, scenario, frozen, params):
    client.force_login(scenario.campus.admin)
    with page_at(1366, _page_html(client, params)) as page:
        box = page.eval_on_selector(
            ".table-scroll", "b => ({scroll: b.scrollWidth, client: b.clientWidth})"
        )
        assert box["scroll"] <= box["client"]
        last = page.eval_on_selector(
            "table.report thead th:last-child", "th => th.getBoundingClientRect().right"
        )
        assert last <= 1366
        # Room for amounts of six digits: the table's narrowest layout leaves a margin.
        narrowest = page.eval_on_selector(
            "table.report", "t => { t.style.width = 'min-content'; return t.offsetWidth; }"
        )
        assert narrowest <= box["client"] - 50


def test_no_sideways_scrolling_at_390_px(client, scenario, frozen):
    client.force_login(scenario.campus.admin)
    with page_at(390, _page_html(client, WIDEST[0])) as page:
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
