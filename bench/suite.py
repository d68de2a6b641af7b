"""One size of the benchmark: seed its database if needed, time every request, print JSON.

Run by bench/run.py as `python bench/suite.py SIZE WEEK OUT.json` (SIZE small or large,
WEEK the bench week's Monday). Each operation is timed through Django's test client,
in-process (middleware, view, templates, serialisation; no HTTP server, DEBUG off),
interleaved run by run with the hand-written SQL giving the same facts (psycopg, its own
connection, rows fetched into Python).
"""

from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import (  # noqa: E402 (after the path set-up)
    LARGE_HISTORY,
    SEED_VERSION,
    SMALL_TOTAL,
    database_url,
    django_environment,
    meta_read,
    meta_write,
)

RUNS = int(os.environ.get("BENCH_RUNS", "30"))
BUDGET_S = float(os.environ.get("BENCH_BUDGET_S", "40"))  # per operation, at least 10 runs
PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")
LIVE = ("pending", "confirmed")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ensure_seeded(size: str, week: date, reseed: bool) -> dict[str, Any]:
    """Seed the size's database unless it holds this seed version for this week."""
    import psycopg
    from _common import recreate_database
    from seed import current_count

    url = database_url(size)
    history = LARGE_HISTORY if size == "large" else SMALL_TOTAL - current_count(week)
    wanted = {"version": SEED_VERSION, "week": week.isoformat(), "history": str(history)}
    meta = {} if reseed else meta_read(url)
    import django
    from django.core.management import call_command

    if all(meta.get(k) == v for k, v in wanted.items()):
        # Reused: brought to the code's migrations (new indexes) before it is measured.
        django.setup()
        call_command("migrate", verbosity=0)
        return {"seeded_now": False, **json.loads(meta.get("seed", "{}"))}
    recreate_database(url)
    django.setup()
    from seed import seed

    began = time.perf_counter()
    call_command("migrate", verbosity=0)
    migrate_s = time.perf_counter() - began
    figures = seed(week=week, history=history)
    from django.db import connection

    connection.close()
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    figures["vacuum_s"] = time.perf_counter() - began
    figures["migrate_s"] = migrate_s
    figures["total_s"] = (
        migrate_s + figures["inventory_s"] + figures["reservations_s"] + figures["vacuum_s"]
    )
    meta_write(url, {**wanted, "seed": json.dumps(figures)})
    return {"seeded_now": True, **figures}


class Counter:
    """Count (and time) the statements Django sends, without the debug cursor's cost."""

    def __init__(self) -> None:
        self.queries: list[tuple[float, str]] = []

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append(((time.perf_counter() - began) * 1000, sql))


def measure(
    name: str,
    ours: Callable[[int], Any],
    sql: Callable[[int], int],
    *,
    runs: int = RUNS,
    note: str = "",
) -> dict[str, Any]:
    """Time `ours` and `sql` alternately; count the statements of one run of `ours`."""
    from django.db import connection

    for i in range(2):  # warm up: templates, translations, connections, plans
        ours(-1 - i)
        sql(-1 - i)
    counter = Counter()
    with connection.execute_wrapper(counter):
        ours(-3)
    rows = sql(-3)
    timings: list[float] = []
    reference: list[float] = []
    began = time.perf_counter()
    n = 0
    while n < runs and (n < 10 or time.perf_counter() - began < BUDGET_S):
        for fn, into in (
            ((ours, timings), (sql, reference))
            if n % 2 == 0
            else (
                (sql, reference),
                (ours, timings),
            )
        ):
            started = time.perf_counter()
            fn(n)
            into.append((time.perf_counter() - started) * 1000)
        n += 1
    slowest = sorted(counter.queries, reverse=True)[:2]
    result = {
        "name": name,
        "runs": n,
        "ours_median": statistics.median(timings),
        "ours_p99": percentile(timings, 0.99),
        "ours_min": min(timings),
        "sql_median": statistics.median(reference),
        "sql_min": min(reference),
        "sql_p99": percentile(reference, 0.99),
        "queries": len(counter.queries),
        "db_ms": sum(ms for ms, _ in counter.queries),
        "slowest": [(round(ms, 2), " ".join(q.split())[:160]) for ms, q in slowest],
        "rows": rows,
        "note": note,
        "ours_samples": timings,
        "sql_samples": reference,
    }
    if PROFILE:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.runcall(lambda: [ours(-10 - i) for i in range(3)])
        print(f"--- profile of 3 runs of {name} (cumulative)", file=sys.stderr)
        stats = pstats.Stats(profiler, stream=sys.stderr)
        # The project's own functions first (the middleware wrappers say little), then
        # where the time itself is spent, anywhere.
        project = f"{HERE.parent}/(?!bench/)"
        stats.sort_stats("cumulative").print_stats(project, 25)
        stats.sort_stats("tottime").print_stats(15)
    return result


def main() -> None:
    size, week_text, out = sys.argv[1], sys.argv[2], sys.argv[3]
    reseed = os.environ.get("BENCH_RESEED", "") not in ("", "0")
    only = {n for n in os.environ.get("BENCH_ONLY", "").split(",") if n}
    week = date.fromisoformat(week_text)
    django_environment(database_url(size))
    seeding = ensure_seeded(size, week, reseed)
    import django

    django.setup()
    results = run_all(week, only)
    Path(out).write_text(json.dumps({"size": size, "seed": seeding, "results": results}))


def run_all(week: date, only: set[str]) -> list[dict[str, Any]]:
    import floor
    import psycopg
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import override_settings
    from seed import month_before

    from calendars.feeds import (
        CANCELLED_KEPT,
        ENDED_STATUSES,
        SHOWN_STATUSES,
        WINDOW_AFTER,
        WINDOW_BEFORE,
    )
    from core.api_tokens import api_token_issue
    from core.timezones import local_tz
    from equipment.models import Equipment
    from equipment.policy import PLATFORM_DEFAULTS
    from partners.models import Project
    from partners.services import feed_token_for

    override_settings(
        ROOT_URLCONF="floor",  # the project's URLs and the framework's floor (bench/floor.py)
        ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"],
        STORAGES={
            **settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ).enable()
    tz = local_tz()
    users = get_user_model().objects
    manager = users.get(username="manager")
    booker = users.get(username="booker")
    manager_key = api_token_issue(user=manager)
    booker_key = api_token_issue(user=booker)
    feed_key = feed_token_for(user=manager).key
    project = Project.objects.get(name="Projet 01-1")
    equipment = list(Equipment.objects.order_by("id"))
    ids = [e.pk for e in equipment]
    readers = ids[:20]  # availability, feeds, the month
    bookable = ids[100:]  # the booking benchmark's slots, never read by the others
    longest = timedelta(minutes=max(e.policy.max_duration_minutes for e in equipment))
    week_start = datetime.combine(week, datetime.min.time(), tz)
    week_end = week_start + timedelta(days=7)
    month_first, month_after = month_before(week)
    month_start = datetime.combine(month_first, datetime.min.time(), tz)
    month_end = datetime.combine(month_after, datetime.min.time(), tz)

    pg = psycopg.connect(os.environ["DATABASE_URL"])
    pg.autocommit = True

    def fetch(query: str, params: dict[str, Any]) -> int:
        return len(pg.execute(query, params).fetchall())

    session = Client()
    session.force_login(manager)
    api = Client(HTTP_AUTHORIZATION=f"Token {manager_key}")
    api_booker = Client(HTTP_AUTHORIZATION=f"Token {booker_key}")
    feeds = Client()

    def get(client: Client, path: str, data: dict[str, Any] | None = None) -> Any:
        response = client.get(path, data)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        return response

    results: list[dict[str, Any]] = []

    def wanted(name: str) -> bool:
        return not only or name in only

    # 1. The planning page, whole campus, one week.
    if wanted("planning"):
        planning_sql = """
            SELECT r.id, r.equipment_id, r.start, r."end", r.status, r.priority, r.title,
                   p.name, u.first_name, u.last_name
            FROM reservations_reservation r
            JOIN reservations_project p ON p.id = r.project_id
            JOIN auth_user u ON u.id = r.booked_by_id
            WHERE r.start < %(to)s AND r."end" > %(from)s AND r.start > %(lowest)s
              AND r.status IN ('pending', 'confirmed', 'completed', 'no_show')
            ORDER BY r.equipment_id, r.start
        """
        equipment_sql = """
            SELECT e.id, e.code, e.name, e.requires_check_in, s.name, c.name
            FROM equipment_equipment e JOIN equipment_site s ON s.id = e.site_id
            JOIN equipment_category c ON c.id = e.category_id
            WHERE e.status <> 'retired' ORDER BY s.name, e.code
        """
        closures_sql = """
            SELECT id, equipment_id, site_id, start, "end", reason FROM equipment_closure
            WHERE start < %(to)s AND "end" > %(from)s
        """
        window = {"from": week_start, "to": week_end, "lowest": week_start - longest}

        def planning_sql_run(_: int) -> int:
            fetch(equipment_sql, {})
            fetch(closures_sql, window)
            return fetch(planning_sql, window)

        results.append(
            measure(
                "planning week, 200 equipment",
                lambda _: get(session, "/planning/", {"view": "week", "date": week.isoformat()}),
                planning_sql_run,
            )
        )

    # 2. Availability of 20 equipment for the week.
    availability_sql = """
        SELECT equipment_id, start, blocked_until FROM reservations_reservation
        WHERE equipment_id = ANY(%(ids)s) AND status IN ('pending', 'confirmed')
          AND start < %(to)s AND blocked_until > %(from)s AND start > %(lowest)s
        ORDER BY equipment_id, start
    """
    closures_of = """
        SELECT c.equipment_id, c.site_id, c.start, c."end" FROM equipment_closure c
        WHERE c.start < %(to)s AND c."end" > %(from)s
          AND (c.equipment_id = ANY(%(ids)s)
               OR c.site_id IN (SELECT site_id FROM equipment_equipment WHERE id = ANY(%(ids)s))
               OR (c.equipment_id IS NULL AND c.site_id IS NULL))
    """
    avail_params = {
        "ids": readers,
        "from": week_start,
        "to": week_end,
        "lowest": week_start - longest,
    }

    def availability_sql_run(_: int) -> int:
        fetch(closures_of, avail_params)
        return fetch(availability_sql, avail_params)

    window_query = {"start": week_start.isoformat(), "end": week_end.isoformat()}
    if wanted("availability"):
        results.append(
            measure(
                "availability, 20 equipment, 20 requests",
                lambda _: [
                    get(api, f"/api/v1/equipment/{pk}/availability/", window_query)
                    for pk in readers
                ],
                availability_sql_run,
            )
        )
    if wanted("availability"):
        many = {"equipment": ",".join(map(str, readers)), **window_query}
        probe = api.get("/api/v1/availability/", many)
        if probe.status_code == 200:
            results.append(
                measure(
                    "availability, 20 equipment, one request",
                    lambda _: get(api, "/api/v1/availability/", many),
                    availability_sql_run,
                )
            )
        else:
            results.append(
                {
                    "name": "availability, 20 equipment, one request",
                    "missing": f"not available (GET /api/v1/availability/ answered "
                    f"{probe.status_code})",
                }
            )

    # 3. 20 equipment feeds.
    if wanted("feeds"):
        now = datetime.now(tz)
        feed_sql = """
            SELECT r.id, r.start, r."end", r.status, r.title, r.revision, r.updated_at,
                   p.name, u.first_name, u.last_name
            FROM reservations_reservation r
            JOIN reservations_project p ON p.id = r.project_id
            JOIN auth_user u ON u.id = r.booked_by_id
            WHERE r.equipment_id = %(pk)s AND r.start < %(to)s AND r."end" > %(from)s
              AND r.start > %(lowest)s
              AND (r.status = ANY(%(shown)s)
                   OR (r.status = ANY(%(ended)s) AND r.status_changed_at >= %(kept)s))
            ORDER BY r.start, r.id
        """
        feed_closures = """
            SELECT id, start, "end", reason FROM equipment_closure
            WHERE start < %(to)s AND "end" > %(from)s
              AND (equipment_id = %(pk)s OR site_id = %(site)s
                   OR (equipment_id IS NULL AND site_id IS NULL))
        """
        sites = {e.pk: e.site_id for e in equipment}

        def feeds_sql_run(_: int) -> int:
            rows = 0
            low, high = now - WINDOW_BEFORE, now + WINDOW_AFTER
            for pk in readers:
                params = {
                    "pk": pk,
                    "site": sites[pk],
                    "from": low,
                    "to": high,
                    "lowest": low - longest,
                    "shown": list(SHOWN_STATUSES),
                    "ended": list(ENDED_STATUSES),
                    "kept": now - CANCELLED_KEPT,
                }
                rows += fetch(feed_sql, params)
                fetch(feed_closures, params)
            return rows

        results.append(
            measure(
                "20 equipment feeds (.ics)",
                lambda _: [
                    get(feeds, f"/calendars/equipment/{pk}.ics", {"token": feed_key})
                    for pk in readers
                ],
                feeds_sql_run,
            )
        )

    # 4. One equipment's reservations for a month through the API.
    if wanted("month"):
        month_sql = """
            SELECT r.id, r.equipment_id, r.project_id, r.start, r."end", r.blocked_until,
                   r.status, r.priority, r.title, r.expected_participants, r.revision,
                   r.series_id, r.session_id, r.created_at, r.updated_at,
                   u.username, u.first_name, u.last_name
            FROM reservations_reservation r JOIN auth_user u ON u.id = r.booked_by_id
            WHERE r.equipment_id = %(pk)s AND r.start < %(to)s AND r."end" > %(from)s
              AND r.start > %(lowest)s
            ORDER BY r.start, r.id
        """
        month_params = {
            "pk": readers[0],
            "from": month_start,
            "to": month_end,
            "lowest": month_start - longest,
        }
        month_query = {
            "equipment": readers[0],
            "start": month_start.isoformat(),
            "end": month_end.isoformat(),
        }
        results.append(
            measure(
                "one equipment's month, API",
                lambda _: get(api, "/api/v1/reservations/", month_query),
                lambda _: fetch(month_sql, month_params),
            )
        )
        floor.MONTH_SQL, floor.LONGEST = month_sql, longest
        results.append(
            measure(
                "floor: the month's SQL alone in a DRF view",
                lambda _: get(api, "/bench/floor/month/", month_query),
                lambda _: fetch(month_sql, month_params),
            )
        )

    # 5. Usage reports of the month.
    report_window = {"start": month_first.isoformat(), "end": month_after.isoformat()}
    report_params = {
        "from": month_start,
        "to": month_end,
        "lowest": month_start - longest,
        "now": datetime.now(tz),
        "grace_minutes": PLATFORM_DEFAULTS["check_in_grace_minutes"],
        "late_hours": PLATFORM_DEFAULTS["late_cancellation_hours"],
    }
    if wanted("xlsx"):
        detail_sql = """
            SELECT r.id, r.start, r."end", r.status, e.id, e.code, e.name, s.name, c.name,
                   pa.id, pa.name, p.id, p.name, p.kind, u.username, r.title,
                   LEAST(r."end", %(to)s) - GREATEST(r.start, %(from)s) AS booked,
                   u2.checked_in_at, u2.checked_out_at, r.status_changed_at,
                   e.rate_teaching, e.rate_academic, e.rate_industrial, pa.rate_category
            FROM reservations_reservation r
            JOIN equipment_equipment e ON e.id = r.equipment_id
            JOIN equipment_site s ON s.id = e.site_id
            JOIN equipment_category c ON c.id = e.category_id
            JOIN reservations_project p ON p.id = r.project_id
            JOIN reservations_partner pa ON pa.id = p.partner_id
            JOIN auth_user u ON u.id = r.booked_by_id
            LEFT JOIN reservations_usagerecord u2 ON u2.reservation_id = r.id
            WHERE r.start < %(to)s AND r."end" > %(from)s AND r.start > %(lowest)s
              AND r.status IN ('pending', 'confirmed', 'completed', 'no_show', 'cancelled')
            ORDER BY r.start, r.id
        """
        results.append(
            measure(
                "usage detail of a month, XLSX",
                lambda _: get(
                    api,
                    "/api/v1/reports/usage/",
                    {**report_window, "detail": "reservations", "format": "xlsx"},
                ),
                lambda _: fetch(detail_sql, report_params),
            )
        )
    if wanted("partner"):
        # The same figures as ours (SPEC §5), the way one would write them by hand: each
        # reservation's values once (LATERAL), summed per partner and in total in one pass.
        # Effective statuses as ours: a confirmed booking on check-in equipment past its
        # grace without check-in is a no-show, a confirmed ended one (checked in, or on
        # equipment without check-in) is completed; grace and lateness from each
        # equipment's overrides or the platform's defaults.
        partner_sql = """
            SELECT GROUPING(pa.id) AS is_total, pa.id, pa.name,
                   count(*) FILTER (WHERE r.status IN ('pending', 'confirmed', 'completed',
                                                      'no_show')) AS reservations,
                   sum(x.clipped) FILTER (WHERE r.status IN ('confirmed', 'completed',
                                                            'no_show')) AS booked,
                   sum(COALESCE(x.checked, CASE WHEN x.done_unchecked THEN x.clipped END))
                       AS used,
                   sum(x.billable) AS billable,
                   count(*) FILTER (WHERE x.no_show) AS no_shows,
                   count(*) FILTER (WHERE r.status = 'cancelled') AS cancellations,
                   count(*) FILTER (WHERE r.status = 'cancelled'
                       AND r.start - r.status_changed_at < make_interval(hours =>
                           COALESCE((e.policy_overrides->>'late_cancellation_hours')::int,
                                    %(late_hours)s))) AS late_cancellations,
                   count(*) FILTER (WHERE r.status = 'displaced') AS displaced,
                   count(DISTINCT r.booked_by_id) FILTER (WHERE r.status IN
                       ('pending', 'confirmed', 'completed', 'no_show')) AS users,
                   sum(CASE WHEN p.kind = 'pedagogical' THEN e.rate_teaching
                            WHEN pa.rate_category = 'industrial' THEN e.rate_industrial
                            ELSE e.rate_academic END
                       * extract(epoch FROM x.billable) / 3600) AS amount
            FROM reservations_reservation r
            JOIN equipment_equipment e ON e.id = r.equipment_id
            JOIN reservations_project p ON p.id = r.project_id
            JOIN reservations_partner pa ON pa.id = p.partner_id
            LEFT JOIN reservations_usagerecord u ON u.reservation_id = r.id
            CROSS JOIN LATERAL (
                SELECT LEAST(r."end", %(to)s) - GREATEST(r.start, %(from)s) AS clipped,
                       r.status = 'no_show' OR (r.status = 'confirmed' AND e.requires_check_in
                           AND u.id IS NULL AND r.start + make_interval(mins =>
                               COALESCE((e.policy_overrides->>'check_in_grace_minutes')::int,
                                        %(grace_minutes)s)) <= %(now)s) AS no_show,
                       CASE WHEN u.id IS NOT NULL AND r.status IN ('confirmed', 'completed')
                            THEN GREATEST(interval '0', LEAST(COALESCE(u.checked_out_at,
                                 LEAST(r."end", %(now)s)), %(to)s)
                                 - GREATEST(u.checked_in_at, %(from)s)) END AS checked,
                       NOT e.requires_check_in AND u.id IS NULL AND (r.status = 'completed'
                           OR (r.status = 'confirmed' AND r."end" <= %(now)s)) AS done_unchecked
            ) x0
            CROSS JOIN LATERAL (
                SELECT x0.*, CASE WHEN x0.no_show THEN x0.clipped
                                  WHEN x0.checked IS NOT NULL THEN x0.checked
                                  WHEN x0.done_unchecked THEN x0.clipped END AS billable
            ) x
            WHERE r.start < %(to)s AND r."end" > %(from)s AND r.start > %(lowest)s
              AND r.status <> 'rejected'
            GROUP BY GROUPING SETS ((pa.id, pa.name), ())
        """
        results.append(
            measure(
                "usage per partner of a month, CSV",
                lambda _: get(
                    api,
                    "/api/v1/reports/usage/",
                    {**report_window, "group_by": "partner", "format": "csv"},
                ),
                lambda _: fetch(partner_sql, report_params),
            )
        )

    # 6. One booking with every rule, over HTTP, each on a fresh free slot.
    if wanted("booking"):
        release_bench_bookings(pg)
        slots = []
        for offset in range(7, 7 + 28):
            day = week + timedelta(days=offset)
            if day.weekday() >= 5:
                continue
            for hour in range(8, 18):
                for pk in bookable:
                    start = datetime.combine(day, datetime.min.time(), tz).replace(hour=hour)
                    slots.append((pk, start, start + timedelta(hours=1)))
        # Spread over equipment first: consecutive bookings do not touch the same rows.
        slots.sort(key=lambda s: (s[1], s[0]))
        qualifies = {e.pk: e.requires_qualification for e in equipment}

        def book_http(n: int) -> Any:
            pk, start, end = slots[3 * (n + 20)]
            response = api_booker.post(
                "/api/v1/reservations/",
                {
                    "equipment": pk,
                    "project": project.pk,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "title": f"Bench POST {n}",
                },
                content_type="application/json",
            )
            assert response.status_code == 201, (response.status_code, response.content[:300])
            return response

        def book_sql(n: int) -> int:
            pk, start, end = slots[3 * (n + 20) + 1]
            with pg.transaction():
                row = pg.execute(
                    "SELECT requires_qualification, site_id FROM equipment_equipment "
                    "WHERE id = %s FOR UPDATE",
                    (pk,),
                ).fetchone()
                assert row is not None
                if qualifies[pk]:
                    valid = pg.execute(
                        "SELECT valid_until FROM equipment_qualification "
                        "WHERE user_id = %s AND equipment_id = %s",
                        (booker.pk, pk),
                    ).fetchone()
                    assert valid is not None and valid[0] >= end.date()
                clash = pg.execute(
                    "SELECT 1 FROM reservations_reservation WHERE equipment_id = %s "
                    "AND status IN ('pending', 'confirmed') AND start < %s "
                    "AND blocked_until > %s AND start > %s LIMIT 1",
                    (pk, end, start, start - longest),
                ).fetchone()
                assert clash is None
                pg.execute(
                    """
                    INSERT INTO reservations_reservation
                        (equipment_id, project_id, booked_by_id, start, "end", blocked_until,
                         title, expected_participants, status, priority, revision,
                         status_changed_at, created_at, updated_at)
                    VALUES (%s, %s, %s, %s, %s, %s, %s, 1, 'confirmed', %s, 0, now(), now(),
                            now())
                    """,
                    (pk, project.pk, booker.pk, start, end, end, f"Bench SQL {n}", project.kind),
                )
            return 1

        results.append(
            measure(
                "one booking, every rule, HTTP POST",
                book_http,
                book_sql,
                note="HTTP timing includes the work run after the commit (emails, calendar)",
            )
        )
        floor.LONGEST, floor.PROJECT_KIND = longest, project.kind

        def book_floor(n: int) -> Any:
            pk, start, end = slots[3 * (n + 20) + 2]
            response = api_booker.post(
                "/bench/floor/booking/",
                {
                    "equipment": pk,
                    "project": project.pk,
                    "start": start.isoformat(),
                    "end": end.isoformat(),
                    "title": f"Bench SQL floor {n}",
                },
                content_type="application/json",
            )
            assert response.status_code == 201, (response.status_code, response.content[:300])
            return response

        # Its slots alternate with the SQL's: the SQL is timed again beside it.
        results.append(
            measure(
                "floor: the booking's SQL alone in a DRF view",
                book_floor,
                lambda n: book_sql(n + 1000),  # slots the first measure did not take
            )
        )
        release_bench_bookings(pg)
    connection.close()
    pg.close()
    return results


def release_bench_bookings(pg: Any) -> None:
    """Free the slots the booking benchmarks took (the service's are cancelled)."""
    pg.execute("DELETE FROM reservations_reservation WHERE title LIKE 'Bench SQL %%'")
    pg.execute(
        "UPDATE reservations_reservation SET status = 'cancelled' "
        "WHERE title LIKE 'Bench %%' AND status IN ('pending', 'confirmed')"
    )


if __name__ == "__main__":
    main()
