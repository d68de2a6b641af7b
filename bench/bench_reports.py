"""Benchmark: usage reports over 1,000,000 reservations on PostgreSQL.

Run: `make bench`, or `.venv/bin/python bench/bench_reports.py`. It drops and recreates
the database of BENCH_DATABASE_URL (default below), fills it in SQL with 1,000,000
reservations over 200 equipment and 40 partners (8 slots of 1.5 h a day on every
equipment, from 2025-07-01, about 21 months; statuses of every kind; check-in records on
the equipment that requires it), then prints:

- the yearly per-partner report (2026, about 584,000 reservations): median of 3 runs;
- the full CSV export (every reservation, one row each, through the API view) in rows
  per second, and the peak memory of the process that ran it: its peak resident set
  size (ru_maxrss, everything: Python, Django, buffers), measured in a fresh process so
  that filling the database does not count, with the resident size before the export.

BENCH_RESERVATIONS changes the count; BENCH_KEEP=1 reuses a filled database.
Targets (issue 5): report under 1.5 s; export over 100,000 rows/s and under 150 MB.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import recreate_database

os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL",
    "postgres://postgres@127.0.0.1:5432/platform_booking_bench_reports",
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_booking.settings")
os.environ.setdefault("EMAIL_URL", "locmem://")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django

TOTAL = int(os.environ.get("BENCH_RESERVATIONS", "1000000"))
EQUIPMENT = 200
PARTNERS = 40
SLOTS_PER_DAY = 8  # 07:00 to 19:00, 1.5 h each
FIRST_DAY = "2025-07-01"
NOW = "2026-09-15 12:00:00+02"  # reservations after it are still pending or confirmed


def fill() -> None:
    """Inventory through the services, reservations and usage in SQL (a few seconds)."""
    from datetime import date

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from core.roles import SYSTEM
    from equipment.services import category_create, equipment_create, site_create
    from partners.services import partner_create, project_create

    call_command("migrate", verbosity=0)
    User = get_user_model()
    admin = User.objects.create_user("admin", password="x", is_staff=True)
    users = User.objects.bulk_create([User(username=f"user{n:03}") for n in range(400)])
    sites = [site_create(actor=SYSTEM, name=f"Site {n}", city="Orléans") for n in range(4)]
    categories = [category_create(actor=SYSTEM, name=f"Category {n}") for n in range(10)]
    kinds = ["pedagogical", "research", "industrial"]
    for n in range(PARTNERS):
        partner = partner_create(
            actor=SYSTEM,
            name=f"Partner {n:02}",
            kind="company" if n % 4 == 0 else "university",
            rate_category="industrial" if n % 4 == 0 else "academic",
        )
        for k in range(3):
            project_create(
                actor=SYSTEM,
                name=f"Project {n:02}-{k}",
                kind=kinds[k],
                partner=partner,
                leader=users[(n * 3 + k) % len(users)],
                active_from=date(2025, 1, 1),
                confidential=True,
            )
    for n in range(EQUIPMENT):
        equipment_create(
            actor=SYSTEM,
            code=f"EQ-{n:03}",
            name=f"Equipment {n}",
            category=categories[n % 10],
            site=sites[n % 4],
            requires_check_in=n % 3 == 0,
            rates={"teaching": 5, "academic": 30 + n % 7, "industrial": 120 + n % 11},
            policy={"late_cancellation_hours": 48} if n % 5 == 0 else None,
        )
    del admin
    with connection.cursor() as cursor:
        # Reservation g: equipment g % 200, slot g // 200 (8 a day from FIRST_DAY). Slots of
        # one equipment never overlap, so the exclusion constraint holds.
        cursor.execute(
            """
            WITH eq AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
                        FROM equipment_equipment),
                 pr AS (SELECT id, kind, row_number() OVER (ORDER BY id) - 1 AS n
                        FROM reservations_project),
                 us AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
                        FROM auth_user WHERE username LIKE 'user%%'),
                 g AS (SELECT s AS g,
                              ((%(first)s::date + (s / %(eq)s / %(slots)s)::int)::timestamp
                               + time '07:00' + ((s / %(eq)s) %% %(slots)s) * interval '90 min')
                              AT TIME ZONE 'Europe/Paris' AS start
                       FROM generate_series(0::bigint, %(total)s - 1) AS s)
            INSERT INTO reservations_reservation
                (equipment_id, project_id, booked_by_id, start, "end", blocked_until, title,
                 expected_participants, status, priority, revision, status_changed_at,
                 created_at, updated_at)
            SELECT eq.id, pr.id, us.id, g.start, g.start + interval '90 min',
                   g.start + interval '90 min',
                   CASE WHEN g.g %% 1000 = 0 THEN '=HYPERLINK("http://x", "bench")'
                        ELSE 'Bench reservation ' || g.g END,
                   1,
                   CASE WHEN g.g %% 100 < 8 THEN 'cancelled'
                        WHEN g.g %% 100 < 10 THEN 'displaced'
                        WHEN g.g %% 100 < 11 THEN 'rejected'
                        WHEN g.start > %(now)s::timestamptz
                            THEN CASE WHEN g.g %% 100 < 20 THEN 'pending' ELSE 'confirmed' END
                        WHEN g.g %% 100 < 15 THEN 'no_show'
                        ELSE 'completed' END,
                   pr.kind, 0,
                   g.start - (g.g %% 72) * interval '1 hour',
                   g.start - interval '20 days', g.start - interval '20 days'
            FROM g
            JOIN eq ON eq.n = g.g %% %(eq)s
            JOIN pr ON pr.n = (g.g * 7919) %% %(projects)s
            JOIN us ON us.n = (g.g * 104729) %% 400
            """,
            {
                "first": FIRST_DAY,
                "eq": EQUIPMENT,
                "slots": SLOTS_PER_DAY,
                "total": TOTAL,
                "now": NOW,
                "projects": PARTNERS * 3,
            },
        )
        # Check-in records for the completed reservations of check-in equipment: some
        # arrive late and leave early.
        cursor.execute(
            """
            INSERT INTO reservations_usagerecord
                (reservation_id, checked_in_at, checked_in_by_id, checked_out_at,
                 checked_out_by_id)
            SELECT r.id, r.start + (r.id % 4) * interval '5 min', r.booked_by_id,
                   r."end" - (r.id % 3) * interval '10 min', r.booked_by_id
            FROM reservations_reservation r
            JOIN equipment_equipment e ON e.id = r.equipment_id
            WHERE e.requires_check_in AND r.status = 'completed'
            """
        )
        cursor.execute("VACUUM ANALYZE" if connection.get_autocommit() else "ANALYZE")


def time_report() -> tuple[float, int, int]:
    from datetime import datetime

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from core.timezones import local_tz
    from reports.services import Scope, usage_report

    tz = local_tz()
    now = datetime.fromisoformat(NOW.replace("+02", "+02:00"))
    timings = []
    queries = 0
    for _ in range(3):
        with CaptureQueriesContext(connection) as ctx:
            began = time.perf_counter()
            report = usage_report(
                start=datetime(2026, 1, 1, tzinfo=tz),
                end=datetime(2027, 1, 1, tzinfo=tz),
                group_by=["partner"],
                scope=Scope(everything=True),
                now=now,
            )
            timings.append(time.perf_counter() - began)
        queries = len(ctx.captured_queries)
    return statistics.median(timings), report.totals["reservations"], queries


def export_child() -> None:
    """In a fresh process: stream the full CSV export through the API view, print JSON."""
    django.setup()
    from django.contrib.auth import get_user_model
    from rest_framework.test import APIRequestFactory, force_authenticate

    from reports.api import UsageReportView

    admin = get_user_model().objects.get(username="admin")
    request = APIRequestFactory().get(
        "/api/v1/reports/usage/",
        {"start": "2025-01-01", "end": "2028-01-01", "detail": "reservations", "format": "csv"},
    )
    force_authenticate(request, user=admin)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    began = time.perf_counter()
    response = UsageReportView.as_view()(request)
    rows = -1  # the header line
    size = 0
    for chunk in response.streaming_content:
        rows += chunk.count(b"\n")
        size += len(chunk)
    response.close()
    elapsed = time.perf_counter() - began
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {"rows": rows, "seconds": elapsed, "bytes": size, "rss_before": before, "peak": peak}
        )
    )


def main() -> None:
    if "--export-child" in sys.argv:
        export_child()
        return
    if os.environ.get("BENCH_KEEP") != "1":
        recreate_database()
        django.setup()
        began = time.perf_counter()
        fill()
        print(f"filled {TOTAL:,} reservations in {time.perf_counter() - began:.1f} s")
    else:
        django.setup()
    from django.db import connection

    median, counted, queries = time_report()
    print(
        f"yearly per-partner report on {connection.vendor}: median of 3 = {median:.3f} s "
        f"({counted:,} reservations counted, {queries} queries) — target < 1.5 s"
    )
    connection.close()
    child = subprocess.run(
        [sys.executable, __file__, "--export-child"],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ,
    )
    result = json.loads(child.stdout.strip().splitlines()[-1])
    print(
        f"full CSV export: {result['rows']:,} rows, {result['bytes'] / 1e6:.0f} MB in "
        f"{result['seconds']:.2f} s = {result['rows'] / result['seconds']:,.0f} rows/s "
        f"— target > 100,000"
    )
    print(
        f"export peak memory (process peak RSS): {result['peak']:.0f} MB "
        f"(RSS before the export: {result['rss_before']:.0f} MB) — target < 150 MB"
    )


if __name__ == "__main__":
    main()
