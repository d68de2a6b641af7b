"""HTTP load test: gunicorn (2 workers, DEBUG off, 127.0.0.1 only) on the small database.

Run by bench/run.py as `python bench/load.py WEEK OUT.json` once the small database is
seeded. 32 clients (threads of this process, `http.client`, loopback only) send for
BENCH_LOAD_S seconds (default 20) a mix of availability reads (4 in 5) and bookings
(1 in 5) of a few contested slots: each second four new one-hour slots are fought over,
so that most bookings meet a conflict (409) and a few win (201). Then one SQL query
checks that no two live reservations of one equipment overlap, and the slots are freed.

Two phases, each BENCH_LOAD_S long:
- saturation: each client sends its next request as soon as the last is answered (a closed
  loop). This measures the capacity (requests per second); its latency is not a
  response time a user meets but the queue of 32 clients in front of two workers: by
  Little's law the mean latency is 32 / throughput, whatever the code does per request.
- paced: the 32 clients together offer BENCH_LOAD_RATE requests per second (default 120,
  each client on its own fixed schedule, starts spread over the interval; a comma list,
  e.g. 60,120,180, runs one paced phase per rate, the first judged by the target). A request's
  latency counts from when it was due, not when it was sent, so that a server that
  falls behind is charged for the wait it causes (no "coordinated omission"). The p99
  target is judged here: the response time at a stated load.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from _common import database_url, django_environment  # noqa: E402 (after the path set-up)

CLIENTS = int(os.environ.get("BENCH_LOAD_CLIENTS", "32"))
SECONDS = float(os.environ.get("BENCH_LOAD_S", "20"))
# Requests per second offered by the paced phases (the first is judged by the p99 target).
RATES = [float(r) for r in os.environ.get("BENCH_LOAD_RATE", "120").split(",")]
WORKERS = os.environ.get("BENCH_GUNICORN_WORKERS", "2")
# Extra gunicorn options, e.g. "--worker-class gthread --threads 4" (default: sync workers).
GUNICORN_ARGS = os.environ.get("BENCH_GUNICORN_ARGS", "").split()
OVERLAPS_SQL = """
    SELECT count(*) FROM reservations_reservation a
    JOIN reservations_reservation b
      ON a.equipment_id = b.equipment_id AND a.id < b.id
     AND tstzrange(a.start, a.blocked_until, '[)') && tstzrange(b.start, b.blocked_until, '[)')
    WHERE a.status IN ('pending', 'confirmed') AND b.status IN ('pending', 'confirmed')
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int, log: Any) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    env = {**os.environ, "ALLOWED_HOSTS": "127.0.0.1", "SITE_URL": f"http://127.0.0.1:{port}"}
    server = subprocess.Popen(
        [
            str(gunicorn),
            "platform_booking.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            WORKERS,
            "--log-level",
            "warning",
            *GUNICORN_ARGS,
        ],
        cwd=HERE.parent,
        env=env,
        stdout=log,
        stderr=log,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/healthz")
            if conn.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise SystemExit("gunicorn did not answer /healthz within 60 s")


def stop_server(server: subprocess.Popen[bytes]) -> None:
    # Only the server this process started: its own process group.
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def main() -> None:
    week, out = date.fromisoformat(sys.argv[1]), sys.argv[2]
    django_environment(database_url("small"))
    import django

    django.setup()
    import psycopg
    from django.contrib.auth import get_user_model

    from core.api_tokens import api_token_issue
    from core.timezones import local_tz
    from equipment.models import Equipment
    from partners.models import Project

    tz = local_tz()
    users = get_user_model().objects
    reader_key = api_token_issue(user=users.get(username="manager"))
    booker_key = api_token_issue(user=users.get(username="booker"))
    project = Project.objects.get(name="Projet 01-1").pk
    ids = list(Equipment.objects.order_by("id").values_list("id", flat=True))
    readers, bookable = ids[:20], ids[100:]
    week_start = datetime.combine(week, datetime.min.time(), tz)
    window = urlencode(
        {"start": week_start.isoformat(), "end": (week_start + timedelta(days=7)).isoformat()}
    )
    # Contested slots: in weeks 6 and 7 after the bench week (the suite's booking benchmark
    # uses weeks 2 to 5), four per second of the test, on different equipment.
    slots = []
    for offset in range(35, 49):
        day = week + timedelta(days=offset)
        if day.weekday() < 5:
            for hour in range(8, 18):
                start = datetime.combine(day, datetime.min.time(), tz).replace(hour=hour)
                slots.extend((pk, start) for pk in bookable)
    random.Random(12).shuffle(slots)

    port = free_port()
    # The server's own log (its warnings for every 409) goes to a file, not the table.
    log_path = Path(os.environ.get("BENCH_LOAD_LOG", "/tmp/bench-gunicorn.log"))
    log = log_path.open("wb")
    server = start_server(port, log)
    records: list[tuple[str, int, float]] = []
    lock = threading.Lock()
    began = 0.0
    stop = threading.Event()

    def client(seed: int, interval: float | None, first_slot: int) -> None:
        """Send until `stop`: back to back (interval None) or one request every
        `interval` seconds from a start spread by the seed, timed from when it was due."""
        rng = random.Random(seed)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[tuple[str, int, float]] = []
        due = time.perf_counter() + (interval * seed / CLIENTS if interval else 0)
        while not stop.is_set():
            if interval is not None:
                wait = due - time.perf_counter()
                if wait > 0 and stop.wait(wait):
                    break
            if rng.random() < 0.8:
                kind = "availability"
                pk = rng.choice(readers)
                path, body, key = f"/api/v1/equipment/{pk}/availability/?{window}", None, reader_key
            else:
                kind = "booking"
                pk, start = slots[first_slot + int(time.monotonic() - began) * 4 + rng.randrange(4)]
                body = json.dumps(
                    {
                        "equipment": pk,
                        "project": project,
                        "start": start.isoformat(),
                        "end": (start + timedelta(hours=1)).isoformat(),
                        "title": "Bench LOAD",
                    }
                )
                path, key = "/api/v1/reservations/", booker_key
            headers = {"Authorization": f"Token {key}", "Content-Type": "application/json"}
            started = time.perf_counter() if interval is None else due
            try:
                conn.request("POST" if body else "GET", path, body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                status = response.status
                if response.will_close:
                    conn.close()
            except (OSError, http.client.HTTPException):
                conn.close()
                status = 0  # no answer: counted apart
            mine.append((kind, status, (time.perf_counter() - started) * 1000))
            if interval is not None:
                due += interval
        with lock:
            records.extend(mine)

    try:
        # Warm up each worker (imports, templates, pool) before the clock starts.
        for _ in range(8):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(
                "GET",
                f"/api/v1/equipment/{readers[0]}/availability/?{window}",
                headers={"Authorization": f"Token {reader_key}"},
            )
            conn.getresponse().read()
            conn.close()
        # One client alone first: the latency of a request without queueing, for scale.
        alone = []
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for n in range(50):
            started = time.perf_counter()
            conn.request(
                "GET",
                f"/api/v1/equipment/{readers[n % 20]}/availability/?{window}",
                headers={"Authorization": f"Token {reader_key}"},
            )
            response = conn.getresponse()
            response.read()
            alone.append((time.perf_counter() - started) * 1000)
            if response.will_close:
                conn.close()
        conn.close()
        phases: dict[str, tuple[list[tuple[str, int, float]], float]] = {}
        first_slot = 0
        runs = [("saturation", None)] + [(f"paced {r:g}", CLIENTS / r) for r in RATES]
        for phase, interval in runs:
            records = []
            stop.clear()
            threads = [
                threading.Thread(target=client, args=(n, interval, first_slot))
                for n in range(CLIENTS)
            ]
            began = time.monotonic()
            for thread in threads:
                thread.start()
            time.sleep(SECONDS)
            stop.set()
            for thread in threads:
                thread.join()
            phases[phase] = (records, time.monotonic() - began)
            first_slot += int(SECONDS + 2) * 4 + 4  # fresh contested slots for the next
    finally:
        stop_server(server)
        log.close()

    with psycopg.connect(database_url("small"), autocommit=True) as conn:
        overlaps = conn.execute(OVERLAPS_SQL).fetchone()[0]
        won = conn.execute(
            "SELECT count(*) FROM reservations_reservation "
            "WHERE title = 'Bench LOAD' AND status IN ('pending', 'confirmed')"
        ).fetchone()[0]
        conn.execute(
            "UPDATE reservations_reservation SET status = 'cancelled' "
            "WHERE title = 'Bench LOAD' AND status IN ('pending', 'confirmed')"
        )

    def figures(rows: list[tuple[str, int, float]]) -> dict[str, Any]:
        times = sorted(ms for _, _, ms in rows)
        if not times:
            return {"requests": 0}
        return {
            "requests": len(rows),
            "p50": statistics.median(times),
            "p99": times[max(0, -(-len(times) * 99 // 100) - 1)],
            "statuses": dict(sorted(Counter(str(s) for _, s, _ in rows).items())),
        }

    def phase(rows: list[tuple[str, int, float]], elapsed: float) -> dict[str, Any]:
        return {
            "seconds": elapsed,
            "throughput": len(rows) / elapsed,
            "all": figures(rows),
            "availability": figures([r for r in rows if r[0] == "availability"]),
            "booking": figures([r for r in rows if r[0] == "booking"]),
            "server_errors": sum(1 for _, s, _ in rows if s >= 500 or s == 0),
        }

    result = {
        "clients": CLIENTS,
        "workers": WORKERS,
        "gunicorn_args": " ".join(GUNICORN_ARGS) or "sync workers (gunicorn's default)",
        "rate": RATES[0],
        **phase(*phases["saturation"]),
        "paced": phase(*phases[f"paced {RATES[0]:g}"]),
        "paced_more": [{"rate": r, **phase(*phases[f"paced {r:g}"])} for r in RATES[1:]],
        "overlaps": overlaps,
        "bookings_kept": won,
        "server_log": str(log_path),
        "alone_p50": statistics.median(alone),
    }
    Path(out).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
