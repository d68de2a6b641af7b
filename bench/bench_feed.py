"""Benchmark: the iCalendar feed of one equipment holding 5,000 reservations.

Run on PostgreSQL (the production database): `make bench`, or
`.venv/bin/python bench/bench_feed.py` (BENCH_DATABASE_URL, BENCH_FEED_EVENTS,
BENCH_FEED_RUNS to change). It drops and recreates the database named in
BENCH_DATABASE_URL (default below), writes the reservations directly (a fixture: the
booking rules are benchmarked by bench_booking.py), then requests
`/calendars/equipment/<id>.ics?token=...` through the Django test client and prints the
median time, the size and the SQL queries of a full answer and of a 304, for a platform
manager (every detail) and for a user of another partner (neutral busy time). It also
times icalendar's own component-by-component serialisation of the same events.
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
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/platform_booking_bench_feed"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_booking.settings")
os.environ.setdefault("EMAIL_URL", "locmem://")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

TOTAL = int(os.environ.get("BENCH_FEED_EVENTS", "5000"))
RUNS = int(os.environ.get("BENCH_FEED_RUNS", "9"))


def main() -> None:
    recreate_database()
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment
    from django.utils import timezone

    from calendars.events import reservation_events
    from calendars.feeds import WINDOW_BEFORE, feed_reservations
    from calendars.ics_writer import reference_calendar, render_calendar
    from calendars.reader import Reader
    from core.roles import SYSTEM
    from equipment.services import category_create, equipment_create, site_create
    from partners.services import feed_token_for, partner_create, project_create
    from reservations.models import Closure, Reservation

    setup_test_environment()  # the test client's host, locmem email
    call_command("migrate", verbosity=0)
    from core.timezones import local_tz

    tz = local_tz()
    users = get_user_model().objects
    manager = users.create_user("bench-manager", password="x", is_staff=True)
    booker = users.create_user("bench-booker", password="x", first_name="Claire", last_name="Dupré")
    outsider = users.create_user("bench-outsider", password="x")
    academic = partner_create(
        actor=SYSTEM, name="Université d'Orléans", kind="university", rate_category="academic"
    )
    company = partner_create(
        actor=SYSTEM, name="Servier", kind="company", rate_category="industrial"
    )
    projects = [
        project_create(
            actor=SYSTEM,
            name=name,
            kind=kind,
            partner=partner,
            leader=booker,
            active_from=date(2020, 1, 1),
            confidential=kind != "pedagogical",
        )
        for name, kind, partner in [
            ("TP formulation, licence 3", "pedagogical", academic),
            ("Thèse émulsions « Pickering »", "research", academic),
            ("Servier – validation HPLC", "industrial", company),
        ]
    ]
    site = site_create(actor=SYSTEM, name="We Lab", city="Orléans")
    category = category_create(actor=SYSTEM, name="Chromatographie")
    equipment = equipment_create(
        actor=SYSTEM,
        code="WL-HPLC-01",
        name="Chaîne HPLC Agilent 1260",
        category=category,
        site=site,
        room="Salle 12, bâtiment B",
    )

    now = timezone.now()
    first_day = (now - WINDOW_BEFORE).astimezone(tz).date() + timedelta(days=1)
    statuses = ["confirmed"] * 8 + ["pending", "cancelled"]
    rows = []
    day, hour = first_day, 7
    for n in range(TOTAL):
        start = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
        status = statuses[n % len(statuses)]
        project = projects[n % len(projects)]
        rows.append(
            Reservation(
                equipment=equipment,
                project=project,
                booked_by=booker,
                start=start,
                end=start + timedelta(hours=1),
                blocked_until=start + timedelta(hours=1),
                title=f"Analyse n° {n} : dosage des conservateurs, lot « {n % 97} »",
                expected_participants=1 + n % 12,
                status=status,
                priority=project.kind,
                revision=n % 3,
                status_changed_at=now - timedelta(days=n % 20),
                created_at=now - timedelta(days=100, minutes=n),
                updated_at=now - timedelta(days=n % 20, minutes=n),
            )
        )
        hour += 1
        if hour == 19:
            day, hour = day + timedelta(days=1), 7
    Reservation.objects.bulk_create(rows, batch_size=1000)
    for month in range(1, 13):  # a few closures of every kind
        Closure.objects.create(
            equipment=equipment if month % 2 else None,
            start=datetime(now.year, month, 1, tzinfo=tz),
            end=datetime(now.year, month, 2, tzinfo=tz),
            reason=f"Maintenance {month}",
        )
    last_day = day
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # planner statistics, as autovacuum keeps them in production

    def measure(user, label: str) -> None:
        key = feed_token_for(user=user).key
        client = Client()
        path = f"/calendars/equipment/{equipment.pk}.ics?token={key}"
        client.get(path)  # warm-up: the VTIMEZONE is computed once per process
        timings, queries = [], set()
        response = None
        for _run in range(RUNS):
            with CaptureQueriesContext(connection) as ctx:
                began = time.perf_counter()
                response = client.get(path)
                timings.append(time.perf_counter() - began)
            queries.add(len(ctx.captured_queries))
        assert response is not None and response.status_code == 200
        body = response.content
        events = body.count(b"BEGIN:VEVENT")
        etag = response["ETag"]
        cached = []
        for _run in range(RUNS):
            with CaptureQueriesContext(connection) as ctx:
                began = time.perf_counter()
                again = client.get(path, HTTP_IF_NONE_MATCH=etag)
                cached.append(time.perf_counter() - began)
            assert again.status_code == 304
        print(
            f"{label}: {events} events ({events - body.count('Analyse n°'.encode())} without "
            "their title), "
            f"{len(body) / 1e6:.2f} MB; 200 median={statistics.median(timings) * 1000:.0f} ms "
            f"min={min(timings) * 1000:.0f} max={max(timings) * 1000:.0f}; "
            f"304 median={statistics.median(cached) * 1000:.0f} ms; "
            f"queries={sorted(queries)} ({len(ctx.captured_queries)} for the 304)"
        )

    print(
        f"feed of {TOTAL} reservations ({first_day} to {last_day}) on {connection.vendor}, "
        f"{RUNS} runs each, through the Django test client:"
    )
    measure(manager, "platform manager")
    measure(outsider, "other partner")

    # Where the time goes, and what icalendar's own serialisation would cost.
    reader = Reader.of(manager)
    began = time.perf_counter()
    fetched = list(feed_reservations(Reservation.objects.filter(equipment=equipment), now))
    fetch = time.perf_counter() - began
    began = time.perf_counter()
    events = reservation_events(fetched, reader)
    build = time.perf_counter() - began
    began = time.perf_counter()
    fast = render_calendar(name="bench", uid="bench", events=events)
    render = time.perf_counter() - began
    began = time.perf_counter()
    slow = reference_calendar(name="bench", uid="bench", events=events).to_ical()
    reference = time.perf_counter() - began
    assert fast == slow, "the fast writer differs from icalendar"
    print(
        f"breakdown for {len(events)} reservations: query {fetch * 1000:.0f} ms, "
        f"events {build * 1000:.0f} ms, writing {render * 1000:.0f} ms; "
        f"icalendar Event.new + Calendar.to_ical of the same: {reference * 1000:.0f} ms "
        f"(identical bytes)"
    )


if __name__ == "__main__":
    main()
