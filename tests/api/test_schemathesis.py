"""The OpenAPI schema documents every answer of the API (SPEC §7, §14), checked by schemathesis.

schemathesis reads the schema served at `/api/schema/` and runs its engine (the phases of
its command line: examples, coverage, fuzzing, stateful) against the Django application
in-process (WSGI), as a project member and as a platform manager, with the campus demo data
and closures in place. Every answer must have a documented status, content type, headers
and body: the run must find nothing. Run alone with `pytest -m schemathesis`; it prints
how many cases it ran.

The engine sends its requests from worker threads, which have their own database
connections: the test is transactional (the data is committed, then flushed), and each
request closes its thread's connection at the end.
"""

from __future__ import annotations

import datetime
import resource
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.utils import timezone
from rest_framework.test import APIClient
from schemathesis.engine import events
from schemathesis.engine import from_schema as engine_for

from core.roles import SYSTEM
from equipment.models import Equipment, Site
from platform_booking.demo.loader import load_demo_data
from reservations.services import closure_create

pytestmark = [pytest.mark.schemathesis, pytest.mark.django_db(transaction=True)]

PASSWORD = "demo-campus-2026"
# A researcher who leads and belongs to projects, and a platform manager.
USERS = {"member": "chercheur", "manager": "manager"}

CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
]

# Revoking the token would leave the rest of the run answering 401: it runs last, alone.
REVOKE = {"method": "DELETE", "path": "/api/v1/auth/token/"}


def settings_profile(token: str, role: str) -> schemathesis.Config:
    """How much to try: about a minute per role on an idle machine (CI runs it twice).

    Fuzzing tries 5 requests per operation, 15 for booking and moving (the rules). The
    coverage phase (the boundary and invalid values of every field, ~2,500 requests) runs
    as the platform manager only: the member's writes on reference data stop at 403
    before their body is read, and the member's own writes (bookings, cancel...) go
    through the same validation as the manager's. It leaves out the equipment writes:
    their nested `policy` alone would take ~3,000 requests (fuzzing tries them, and
    tests/api/test_inventory_api.py tests the policy's validation).
    """
    return schemathesis.Config.from_dict(
        {
            "seed": 20261206,
            "workers": 1,
            "headers": {"Authorization": f"Token {token}"},
            "generation": {"max-examples": 5, "database": "none"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            "phases": {
                "coverage": {"enabled": role == "manager"},
                "stateful": {"max-steps": 10},
            },
            "operations": [
                {
                    "include-name": [
                        "POST /api/v1/reservations/",
                        "PATCH /api/v1/reservations/{id}/",
                    ],
                    "generation": {"max-examples": 15},
                },
                {
                    "include-name": ["POST /api/v1/equipment/", "PATCH /api/v1/equipment/{id}/"],
                    "phases": {"coverage": {"enabled": False}},
                },
            ],
        }
    )


class InProcessApp:
    """Django's WSGI application, closing every response and database connection.

    werkzeug's test client leaves closing the response to its caller, and schemathesis
    does not close it (a streamed export's temporary file would stay open). The engine's
    worker threads end with each phase: their connections, kept for `CONN_MAX_AGE` on
    PostgreSQL, are closed after each request rather than left open in a dead thread.
    """

    def __init__(self) -> None:
        self.handler = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Iterable[bytes]:
        response = self.handler(environ, start_response)
        try:
            return [b"".join(response)]
        finally:
            response.close()
            if threading.current_thread() is not threading.main_thread():
                connections.close_all()


@pytest.fixture
def demo(settings):
    # The engine's WSGI client sends `Host: localhost`.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost"]
    now = timezone.now()
    load_demo_data(now=now, password=PASSWORD)
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    closure_create(
        user=SYSTEM,
        equipment=Equipment.objects.order_by("pk").first(),
        site=None,
        start=midnight + datetime.timedelta(days=40),
        end=midnight + datetime.timedelta(days=41),
        reason="Maintenance",
        kind="maintenance",
        now=now,
    )
    closure_create(
        user=SYSTEM,
        equipment=None,
        site=Site.objects.order_by("pk").first(),
        start=midnight + datetime.timedelta(days=50),
        end=midnight + datetime.timedelta(days=52),
        reason="Inventaire",
        kind="event",
        now=now,
    )


def _token(username: str) -> str:
    """Log in through the API, as a client would."""
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


class Findings:
    """What the engine reports: cases run per phase, failures per check, errors."""

    def __init__(self) -> None:
        self.cases: Counter[str] = Counter()
        self.failures: dict[str, list[str]] = defaultdict(list)
        self.errors: list[str] = []

    def read(self, stream: Iterable[events.EngineEvent]) -> None:
        for event in stream:
            if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
                phase = str(getattr(event, "phase", "fuzzing"))
                self.cases[phase] += len(event.recorder.cases)
                for checks in event.recorder.checks.values():
                    for check in checks:
                        if check.failure_info is None:
                            continue
                        failure = check.failure_info.failure
                        self.failures[check.name].append(
                            f"{failure.operation}: {failure.title}\n{failure.message}\n"
                            f"{check.failure_info.code_sample}"
                        )
            elif isinstance(event, events.NonFatalError | events.FatalError):
                self.errors.append(repr(event))

    @property
    def total(self) -> int:
        return sum(self.cases.values())

    def report(self) -> str:
        return "\n\n".join(
            f"[{name}] {text}"
            for name, found in self.failures.items()
            for text in dict.fromkeys(found)
        )


@pytest.mark.parametrize("role", sorted(USERS))
def test_api_answers_as_documented(demo, role, capsys):
    started = resource.getrusage(resource.RUSAGE_SELF)
    findings = Findings()
    app = InProcessApp()
    token = _token(USERS[role])
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json",
        app,
        config=settings_profile(token, role),
        headers={"Authorization": f"Token {token}"},
    )
    findings.read(engine_for(schema.exclude(**REVOKE)).execute())
    revoke = schema.include(**REVOKE)
    if any(True for _ in revoke.get_all_operations()):
        findings.read(engine_for(revoke).execute())

    ended = resource.getrusage(resource.RUSAGE_SELF)
    cpu = ended.ru_utime + ended.ru_stime - started.ru_utime - started.ru_stime
    failed = {name: len(found) for name, found in findings.failures.items()}
    summary = (
        f"schemathesis as {role}: {findings.total} cases {dict(findings.cases)} "
        f"in {cpu:.0f} s of CPU; failures: {failed}"
    )
    with capsys.disabled():
        print(f"\n{summary}")
    assert not findings.errors, findings.errors
    assert not findings.failures, f"{summary}\n\n{findings.report()}"
    # Every phase ran (a schema that failed to load, or lost its links, would run less).
    assert findings.total > (1000 if role == "manager" else 300), summary
    assert findings.cases["stateful"] > 0, summary
