"""Fixtures of the web page tests: a frozen clock, booking helpers, a shared browser."""

from __future__ import annotations

import os
import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from core.roles import SYSTEM
from equipment.services import qualification_grant
from reservations.services import reservation_create

# Playwright's sync API runs an event loop in the test thread; Django refuses ORM calls
# from a thread with a running loop unless told it is safe (tests only).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)  # a Monday
WED = date(2026, 12, 2)  # 9 days ahead: inside every horizon, inside the preemption notice
FAR = date(2026, 12, 16)  # 23 days ahead: a teaching booking may displace research here


def at(day: date, hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return datetime(day.year, day.month, day.day, int(hours), int(minutes), tzinfo=PARIS)


def local(day: date, hhmm: str) -> str:
    """The value of a datetime-local input."""
    return f"{day.isoformat()}T{hhmm}"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    # Views call `timezone.now()` through the module `django.utils.timezone`.
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)
    return NOW


@pytest.fixture
def book():
    """Book through the service, as the pages do, at the frozen time unless told otherwise."""

    def make(user, project, equipment, day: date, start: str, end: str, **extra):
        items = equipment if isinstance(equipment, list) else [equipment]
        extra.setdefault("title", "Mesures")
        extra.setdefault("now", NOW)
        return reservation_create(
            user=user,
            project=project,
            equipment=items,
            start=at(day, start),
            end=at(day, end),
            **extra,
        )

    return make


@pytest.fixture
def qualified(campus):
    """Researcher, industrial partner and teacher trained on the HPLC."""
    for user in (campus.researcher, campus.industrial, campus.teacher):
        qualification_grant(
            actor=SYSTEM, user=user, equipment=campus.hplc, valid_until=date(2027, 12, 31)
        )
    return campus


@pytest.fixture(scope="session")
def browser():
    """One headless Debian Chromium for the whole session (Playwright's download is not used)."""
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("Debian's chromium is not installed: run `make browser`.")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, live_server):
    """Open a fresh browser context and page (French and Europe/Paris unless told),
    logged in when given a user; `options` go to the context (viewport, JavaScript,
    downloads). Every request of every page is recorded; at the end, all must be to the
    live server: nothing may load from outside."""
    contexts = []
    requests: list[str] = []

    def make(
        user=None, *, viewport=None, locale: str = "fr-FR", timezone_id="Europe/Paris", **options
    ):
        context = browser.new_context(
            locale=locale,
            timezone_id=timezone_id,
            viewport=viewport or {"width": 1280, "height": 900},
            **options,
        )
        context.set_default_timeout(10_000)
        # The browser's clock reads the server's frozen "now" (the calendar's today and now
        # line); its timers keep running.
        context.clock.set_fixed_time(timezone.now())
        contexts.append(context)
        if user is not None:
            client = Client()
            client.force_login(user)
            context.add_cookies(
                [
                    {
                        "name": "sessionid",
                        "value": client.cookies["sessionid"].value,
                        "url": live_server.url,
                    }
                ]
            )
        page = context.new_page()
        page.on("request", lambda request: requests.append(request.url))
        return page

    yield make
    for context in contexts:
        context.close()
    assert requests, "no request was recorded"
    outside = [url for url in requests if not url.startswith(live_server.url + "/")]
    assert outside == []


def wait_until(page, check, *, seconds: float = 10, what: str = "the page to change") -> None:
    """Poll `check()` from Python until it holds. Not `page.wait_for_function` with a string:
    it evaluates that string, which the Content Security Policy refuses (no 'unsafe-eval')."""
    for _attempt in range(int(seconds * 10)):
        if check():
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"waited {seconds} s for {what}")


def block_top(page, pk: int) -> float:
    """Where a reservation's block on the calendar starts on the screen (-inf if not drawn)."""
    box = page.locator(f".ec-event[data-reservation='{pk}']").first.bounding_box()
    return box["y"] if box else float("-inf")


def pytest_collection_modifyitems(config, items):
    """Tests that drive Debian's Chromium (the `browser` fixture of this folder) are marked
    `chromium`: they check pages (axe, layout at 390 px, scripts), whatever the database, so
    CI runs them once (on SQLite); the pages' reads and writes run on both engines in the
    test-client tests."""
    here = Path(__file__).parent
    for item in items:
        uses = set(getattr(item, "fixturenames", ()))
        if {"browser", "new_page"} & uses and here in Path(item.path).parents:
            item.add_marker(pytest.mark.chromium)
