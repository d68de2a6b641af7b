"""Benchmark: book 10,000 reservations through the service, every rule applied.

Run on PostgreSQL (the production database): `make bench`, or
`.venv/bin/python bench/bench_booking.py` (BENCH_DATABASE_URL, BENCH_BOOKINGS to change).
It drops and recreates the database named in DATABASE_URL (default below), then prints
the median and p99 time per booking and the queries per booking.
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

import django

TOTAL = int(os.environ.get("BENCH_BOOKINGS", "10000"))


def main() -> None:
    recreate_database()
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, connections

    from core.roles import SYSTEM
    from equipment.services import category_create, equipment_create, site_create
    from partners.services import partner_create, project_create
    from reservations.services import reservation_create

    call_command("migrate", verbosity=0)
    from core.timezones import local_tz

    tz = local_tz()
    user = get_user_model().objects.create_user("bench", password="x")
    partner = partner_create(
        actor=SYSTEM, name="Bench", kind="university", rate_category="academic"
    )
    project = project_create(
        actor=SYSTEM,
        name="Bench",
        kind="pedagogical",
        partner=partner,
        leader=user,
        active_from=date(2026, 1, 1),
    )
    site = site_create(actor=SYSTEM, name="Bench", city="Orléans")
    category = category_create(actor=SYSTEM, name="Bench")
    now = datetime(2026, 11, 23, 7, 0, tzinfo=tz)
    days = [now.date() + timedelta(days=n) for n in range(1, 200)]
    days = [d for d in days if d.weekday() < 5]
    slots = [(9, 12), (14, 17)]
    per_equipment = len(days) * len(slots)
    equipment = [
        equipment_create(
            actor=SYSTEM, code=f"BENCH-{n:03}", name=f"Bench {n}", category=category, site=site
        )
        for n in range(TOTAL // per_equipment + 1)
    ]
    requests = [
        (
            item,
            datetime.combine(day, datetime.min.time().replace(hour=a), tzinfo=tz),
            datetime.combine(day, datetime.min.time().replace(hour=b), tzinfo=tz),
        )
        for item in equipment
        for day in days
        for a, b in slots
    ][:TOTAL]

    timings: list[float] = []
    totals: list[float] = []
    queries: list[int] = []
    later: list[int] = []
    statements = [0, 0]  # in the booking transaction, after the commit
    hooking = [False]

    def count(execute, sql, params, many, context):
        statements[hooking[0]] += 1
        return execute(sql, params, many, context)

    # The work Django runs after the commit (emails, the django-scheduler calendar) is
    # timed apart: the booking itself is done and committed by then.
    after_commit: list[float] = []
    wrapper = connections["default"]
    run_hooks = wrapper.run_and_clear_commit_hooks

    def timed_hooks() -> None:
        began = time.perf_counter()
        hooking[0] = True
        try:
            run_hooks()
        finally:
            hooking[0] = False
        after_commit.append((time.perf_counter() - began) * 1000)

    wrapper.run_and_clear_commit_hooks = timed_hooks  # type: ignore[method-assign]

    # A cheap execute wrapper counts the statements (BEGIN and COMMIT are not statements
    # sent through it); Django's debug cursor would slow every query down.
    with connection.execute_wrapper(count):
        for item, start, end in requests:
            statements[:] = [0, 0]
            before = len(after_commit)
            began = time.perf_counter()
            reservation_create(
                user=user,
                project=project,
                equipment=[item],
                start=start,
                end=end,
                title="Bench",
                now=now,
            )
            total = (time.perf_counter() - began) * 1000
            hooks = sum(after_commit[before:])
            timings.append(total - hooks)
            totals.append(total)
            queries.append(statements[0])
            later.append(statements[1])

    def figures(values: list[float]) -> str:
        values = sorted(values)
        p99 = values[int(len(values) * 0.99) - 1]
        return (
            f"median={statistics.median(values):.2f} ms p99={p99:.2f} ms "
            f"mean={statistics.fmean(values):.2f} ms"
        )

    print(f"bookings={len(timings)} on {connection.vendor}")
    print(f"  booking transaction (every rule, write, commit): {figures(timings)}")
    print(f"  with after-commit work (emails, calendar sync):  {figures(totals)}")
    print(
        f"  SQL statements per booking: in the transaction min={min(queries)} "
        f"max={max(queries)}, after the commit min={min(later)} max={max(later)} "
        "(BEGIN and COMMIT not counted)"
    )


if __name__ == "__main__":
    main()
