"""Benchmark: what promotion adds to a cancellation when 100 entries wait on the equipment.

Run on PostgreSQL (the production database): `.venv/bin/python bench/bench_waitlist.py`
(BENCH_DATABASE_URL, BENCH_WAITING, BENCH_RUNS to change). It drops and recreates the
database named below, then, for each run, books a two-hour slot through the service and
cancels it through the service, timing only the cancellation: once with BENCH_WAITING (100)
waiting entries overlapping the slot (the promotion reads them, books the first through the
booking service, skips the others), once with none (the promotion's one read of the
candidates). It prints the median and p90 of each and the difference, with the queries.
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
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/platform_booking_bench_waitlist"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_booking.settings")
os.environ.setdefault("EMAIL_URL", "locmem://")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["DEBUG"] = "false"

import warnings

import django

warnings.filterwarnings("ignore", message="No directory at")

WAITING = int(os.environ.get("BENCH_WAITING", "100"))
RUNS = int(os.environ.get("BENCH_RUNS", "15"))


def main() -> None:
    recreate_database()
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from core.roles import SYSTEM
    from core.timezones import local_tz
    from equipment.services import category_create, equipment_create, site_create
    from partners.services import partner_create, project_create
    from reservations.services import reservation_cancel, reservation_create
    from waitlist.models import EntryStatus, WaitlistEntry

    call_command("migrate", verbosity=0)
    tz = local_tz()
    users = get_user_model().objects
    holder = users.create_user("holder")
    waiting = [users.create_user(f"waiting{n:03}") for n in range(WAITING)]
    partner = partner_create(
        actor=SYSTEM, name="Bench", kind="university", rate_category="academic"
    )
    project = project_create(
        actor=SYSTEM,
        name="Bench research",
        kind="research",
        partner=partner,
        leader=holder,
        members=waiting,
        active_from=date(2026, 1, 1),
    )
    site = site_create(actor=SYSTEM, name="Bench", city="Orléans")
    category = category_create(actor=SYSTEM, name="Bench")
    equipment = equipment_create(
        actor=SYSTEM, code="BENCH-WAIT", name="Bench", category=category, site=site
    )
    now = datetime(2026, 11, 23, 7, 0, tzinfo=tz)  # a Monday
    weekdays = [
        d for d in (date(2026, 11, 24) + timedelta(days=n) for n in range(55)) if d.weekday() < 5
    ]
    slots = [
        datetime(day.year, day.month, day.day, hour, tzinfo=tz)
        for day in weekdays
        for hour in (8, 11, 14)
    ]

    def cancel_once(start: datetime, with_entries: bool) -> tuple[float, int]:
        end = start + timedelta(hours=2)
        held = reservation_create(
            user=holder,
            project=project,
            equipment=[equipment],
            start=start,
            end=end,
            title="Held",
            now=now,
        ).reservations[0]
        if with_entries:
            WaitlistEntry.objects.bulk_create(
                WaitlistEntry(
                    equipment=equipment,
                    project=project,
                    booked_by=user,
                    start=start,
                    end=end,
                    title=f"Waiting {n}",
                    status=EntryStatus.WAITING,
                    priority="research",
                    created_at=now + timedelta(seconds=n),
                    updated_at=now,
                )
                for n, user in enumerate(waiting)
            )
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            began = time.perf_counter()
            reservation_cancel(reservation=held, user=holder, now=now)
            elapsed = (time.perf_counter() - began) * 1000
        if with_entries:  # the promotion booked the first: free the slot for nothing else
            assert WaitlistEntry.objects.filter(status=EntryStatus.BOOKED, start=start).count() == 1
        return elapsed, queries

    # Warm up (imports, caches), then alternate so that both see the same database growth.
    cancel_once(slots.pop(), True)
    cancel_once(slots.pop(), False)
    timings: dict[bool, list[float]] = {True: [], False: []}
    queries: dict[bool, int] = {}
    for _run in range(RUNS):
        for with_entries in (True, False):
            elapsed, n = cancel_once(slots.pop(0), with_entries)
            timings[with_entries].append(elapsed)
            queries[with_entries] = n
    print(f"cancellation on {connection.vendor}, {RUNS} runs each")
    for with_entries, label in ((False, "no waiting entry"), (True, f"{WAITING} waiting")):
        values = sorted(timings[with_entries])
        p90 = values[int(0.9 * (len(values) - 1))]
        print(
            f"  {label:>18}: median={statistics.median(values):.1f} ms p90={p90:.1f} ms "
            f"queries={queries[with_entries]}"
        )
    added = statistics.median(timings[True]) - statistics.median(timings[False])
    print(f"  promotion adds {added:.1f} ms (median), booking the first of {WAITING}")


if __name__ == "__main__":
    main()
