"""Print the plan of the slowest query of some benchmark requests on a seeded database.

    .venv/bin/python bench/explain.py [--size large] planning month partner feed availability

Runs each request once to warm up, once under a statement timer, then `EXPLAIN (ANALYZE,
BUFFERS)` of its slowest statement with the same parameters (a server-side cursor's
DECLARE is explained as its SELECT). Use after `make bench` has seeded the databases.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import database_url, django_environment  # noqa: E402 (after the path set-up)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="large")
    parser.add_argument("requests", nargs="+")
    args = parser.parse_args()
    django_environment(database_url(args.size))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from run import bench_week
    from seed import month_before

    from core.api_tokens import api_token_issue
    from core.timezones import local_tz
    from equipment.models import Equipment
    from partners.services import feed_token_for

    override_settings(
        ALLOWED_HOSTS=["testserver"],
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ).enable()
    tz = local_tz()
    week: date = bench_week()
    first, after = month_before(week)
    manager = get_user_model().objects.get(username="manager")
    page = Client()
    page.force_login(manager)
    api = Client(HTTP_AUTHORIZATION=f"Token {api_token_issue(user=manager)}")
    pk = Equipment.objects.order_by("id").values_list("id", flat=True)[0]
    week_start = datetime.combine(week, datetime.min.time(), tz)
    window = {"start": week_start.isoformat(), "end": (week_start + timedelta(days=7)).isoformat()}
    report = {"start": first.isoformat(), "end": after.isoformat()}
    feed_key = feed_token_for(user=manager).key
    requests = {
        "planning": lambda: page.get("/planning/", {"view": "week", "date": week.isoformat()}),
        "availability": lambda: api.get(f"/api/v1/equipment/{pk}/availability/", window),
        "feed": lambda: page.get(f"/calendars/equipment/{pk}.ics", {"token": feed_key}),
        "month": lambda: api.get(
            "/api/v1/reservations/",
            {
                "equipment": pk,
                "start": datetime.combine(first, datetime.min.time(), tz).isoformat(),
                "end": datetime.combine(after, datetime.min.time(), tz).isoformat(),
            },
        ),
        "partner": lambda: api.get(
            "/api/v1/reports/usage/", {**report, "group_by": "partner", "format": "csv"}
        ),
        "xlsx": lambda: api.get(
            "/api/v1/reports/usage/", {**report, "detail": "reservations", "format": "xlsx"}
        ),
    }
    captured: list[tuple[float, str, Any]] = []

    def timer(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            captured.append(((time.perf_counter() - began) * 1000, sql, params))

    for name in args.requests:
        response = requests[name]()
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        captured.clear()
        with connection.execute_wrapper(timer):
            response = requests[name]()
            if getattr(response, "streaming", False):
                b"".join(response.streaming_content)
        ms, sql, params = max(captured, key=lambda c: c[0])
        print(f"=== {name} on {args.size}: slowest of {len(captured)} statements, {ms:.1f} ms")
        if sql.startswith("DECLARE"):
            sql = sql.split(" FOR ", 1)[1]
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + sql, params)
            for (line,) in cursor.fetchall():
                print(line)


if __name__ == "__main__":
    main()
