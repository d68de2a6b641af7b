"""Benchmark: the planning page (week view) of 50 equipment of one site in a busy week.

Run on PostgreSQL (the production database): `make bench`, or
`.venv/bin/python bench/bench_planning.py` (BENCH_DATABASE_URL, BENCH_EQUIPMENT,
BENCH_PER_DAY, BENCH_RUNS to change). It drops and recreates the database named in
DATABASE_URL (default below), books BENCH_PER_DAY reservations per equipment per open day
of one week through the service (every rule applied), then times `GET /planning/` for that
site and week with Django's test client (the whole request: middleware, view, template)
for a platform manager (every block in full) and an outsider (busy time only), and prints
the median and p90 server time and the query count of each.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import recreate_database

os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/platform_booking_bench"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_booking.settings")
os.environ.setdefault("EMAIL_URL", "locmem://")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["DEBUG"] = "false"

import warnings

import django

# Whitenoise warns that static files were not collected: the bench serves none.
warnings.filterwarnings("ignore", message="No directory at")

EQUIPMENT = int(os.environ.get("BENCH_EQUIPMENT", "50"))
PER_DAY = int(os.environ.get("BENCH_PER_DAY", "10"))
RUNS = int(os.environ.get("BENCH_RUNS", "20"))
# BENCH_PROFILE=1: also profile the requests of each reader and print where the time goes.
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
WEEK = date(2026, 11, 30)  # a Monday, a week after the booking clock below


def main() -> None:
    recreate_database()
    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings

    from core.roles import SYSTEM
    from core.timezones import local_tz
    from equipment.services import category_create, equipment_create, site_create
    from partners.services import partner_create, project_create
    from reservations.models import Closure
    from reservations.services import reservation_create

    # Static files are not collected for a bench: their plain URLs, without the manifest.
    override_settings(
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ).enable()
    call_command("migrate", verbosity=0)
    tz = local_tz()
    users = get_user_model().objects
    booker = users.create_user("bench", password="x", first_name="Ada", last_name="Bench")
    manager = users.create_user("manager", password="x", is_staff=True)
    outsider = users.create_user("outsider", password="x")
    partner = partner_create(
        actor=SYSTEM, name="Bench", kind="university", rate_category="academic"
    )
    projects = [
        project_create(
            actor=SYSTEM,
            name=f"Bench {kind}",
            kind=kind,
            partner=partner,
            leader=booker,
            active_from=date(2026, 1, 1),
            confidential=kind == "research",
        )
        for kind in ("pedagogical", "research", "industrial")
    ]
    site = site_create(actor=SYSTEM, name="Bench", city="Orléans")
    other = site_create(actor=SYSTEM, name="Elsewhere", city="Tours")
    category = category_create(actor=SYSTEM, name="Bench")
    now = datetime(2026, 11, 23, 7, 0, tzinfo=tz)
    equipment = [
        equipment_create(
            actor=SYSTEM, code=f"BENCH-{n:03}", name=f"Bench {n}", category=category, site=site
        )
        for n in range(EQUIPMENT)
    ]
    equipment_create(actor=SYSTEM, code="OTHER-1", name="Other", category=category, site=other)
    # Open 08:00–19:00 on weekdays: PER_DAY bookings of an hour each from 08:00 (at most
    # 11), the project kinds (so the priorities) taking turns.
    days = [WEEK + timedelta(days=n) for n in range(5)]
    booked = 0
    began = time.perf_counter()
    for index, item in enumerate(equipment):
        for day in days:
            for slot in range(PER_DAY):
                start = datetime(day.year, day.month, day.day, 8 + slot, tzinfo=tz)
                reservation_create(
                    user=booker,
                    project=projects[(index + slot) % len(projects)],
                    equipment=[item],
                    start=start,
                    end=start + timedelta(hours=1),
                    title=f"Mesures {slot}",
                    now=now,
                )
                booked += 1
    # A closure of the whole site on the Saturday: a closure block on every row.
    Closure.objects.create(
        site=site,
        start=datetime(2026, 12, 5, 9, 0, tzinfo=tz),
        end=datetime(2026, 12, 5, 12, 0, tzinfo=tz),
        reason="Maintenance électrique",
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")  # fresh statistics, as autovacuum would give
    print(
        f"seeded {EQUIPMENT} equipment, {booked} reservations in the week of {WEEK} "
        f"in {time.perf_counter() - began:.0f} s on {connection.vendor}"
    )

    # A cheap execute wrapper counts the statements (the debug cursor's log is reset at
    # each request's start, and would slow every query down).
    statements = [0]

    def count(execute, sql, params, many, context):
        statements[0] += 1
        return execute(sql, params, many, context)

    url = f"/planning/?site={site.pk}&view=week&date={WEEK.isoformat()}"
    for label, user in (("platform manager", manager), ("outsider", outsider)):
        client = Client()
        client.force_login(user)
        for _ in range(3):  # warm up: templates, translations, connection
            assert client.get(url).status_code == 200
        statements[0] = 0
        with connection.execute_wrapper(count):
            response = client.get(url)
        timings = []
        for _ in range(RUNS):
            started = time.perf_counter()
            response = client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
        if PROFILE:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            profiler.runcall(lambda c=client: [c.get(url) for _ in range(5)])
            print(f"--- profile of 5 requests as {label} (cumulative, then own time)")
            stats = pstats.Stats(profiler).strip_dirs()
            stats.sort_stats("cumulative").print_stats(25)
            stats.sort_stats("tottime").print_stats(20)
        timings.sort()
        print(
            f"GET /planning/ week, {EQUIPMENT} equipment, as {label}: "
            f"median={statistics.median(timings):.1f} ms "
            f"p90={timings[int(len(timings) * 0.9) - 1]:.1f} ms "
            f"min={timings[0]:.1f} ms, {statements[0]} queries, "
            f"{len(response.content) // 1024} KiB"
        )


if __name__ == "__main__":
    main()
