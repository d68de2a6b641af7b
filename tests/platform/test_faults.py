"""Real faults (SPEC §14): a private PostgreSQL, started by these tests, is stopped and started
again under a real gunicorn serving the app on the loopback while clients keep booking; a
saturated pool; the development server's connections. Marker `faults` (PostgreSQL's server
binaries are needed; the SQLite run deselects them)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
PARIS = ZoneInfo("Europe/Paris")
BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivatePostgres:
    """A PostgreSQL cluster of our own in a temporary directory, on a free loopback port.

    initdb refuses to run as root: as root, the cluster belongs to the `postgres` user.
    """

    def __init__(self) -> None:
        if not BIN:
            pytest.skip("PostgreSQL's server binaries (initdb, pg_ctl) are not installed")
        self.bin = BIN[-1].parent
        self.dir = Path(tempfile.mkdtemp(prefix="pb-faults-pg-"))
        self.data = self.dir / "data"
        self.port = free_port()
        self.as_owner: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_owner = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        with psycopg.connect(self.dsn("postgres"), autocommit=True) as conn:
            conn.execute("CREATE DATABASE app")
        self.url = f"postgres://postgres@127.0.0.1:{self.port}/app"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, str(self.bin / tool), *args],
            check=True,
            capture_output=True,
            timeout=120,
        )

    def dsn(self, database: str = "app") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=40"
        )
        log = str(self.dir / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: open sessions are terminated, committed data is kept."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def destroy(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def query(self, sql: str, *params: object) -> list[tuple]:
        with psycopg.connect(self.dsn()) as conn:
            return conn.execute(sql, params).fetchall()

    def app_connections(self) -> int:
        return self.query(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = 'app' "
            "AND pid <> pg_backend_pid()"
        )[0][0]


SETUP = """
import datetime, json
from django.contrib.auth import get_user_model
from core.models import ApiToken
from core.roles import SYSTEM
from equipment.services import category_create, equipment_create, site_create
from partners.models import Partner, ProjectKind
from partners.services import partner_create, project_create
user = get_user_model().objects.create_user("chercheur", password="pw")
partner = partner_create(actor=SYSTEM, name="Université d'Orléans", kind=Partner.Kind.UNIVERSITY,
                         rate_category=Partner.RateCategory.ACADEMIC)
project = project_create(actor=SYSTEM, name="Thèse", kind=ProjectKind.RESEARCH, partner=partner,
                         leader=user, active_from=datetime.date(2026, 1, 1))
site = site_create(actor=SYSTEM, name="We Lab", city="Orléans")
category = category_create(actor=SYSTEM, name="Rhéologie")
equipment = [equipment_create(actor=SYSTEM, code=f"EQ-{i:02d}", name=f"Rhéomètre {i}",
                              category=category, site=site).pk for i in range(8)]
print(json.dumps({"token": ApiToken.issue(user)[1], "project": project.pk,
                  "equipment": equipment}))
"""


@dataclass
class App:
    pg: PrivatePostgres
    token: str
    project: int
    equipment: list[int]


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    pg = PrivatePostgres()
    try:
        env = server_env(pg, pool_max=2)
        run = {"cwd": ROOT, "env": env, "capture_output": True, "text": True, "timeout": 300}
        done = subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], **run)  # type: ignore[call-overload]
        assert done.returncode == 0, done.stderr
        done = subprocess.run([sys.executable, "manage.py", "shell", "-c", SETUP], **run)  # type: ignore[call-overload]
        assert done.returncode == 0, done.stderr
        data = json.loads(done.stdout.strip().splitlines()[-1])
        yield App(pg, data["token"], data["project"], data["equipment"])
    finally:
        pg.destroy()


def server_env(pg: PrivatePostgres, *, pool_max: int, pool_timeout: int = 10) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DB_POOL"))}
    env.update(
        DATABASE_URL=pg.url,
        DEBUG="0",
        SECRET_KEY="faults-test-secret-key-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1",
        SITE_URL="http://127.0.0.1",
        EMAIL_URL="locmem://",
        DB_POOL_MIN_SIZE="1",
        DB_POOL_MAX_SIZE=str(pool_max),
        DB_POOL_TIMEOUT=str(pool_timeout),
        LOG_LEVEL="INFO",
        # As in production: notifications wait in the database queue for a worker (the
        # test settings' `immediate` would deliver them inside gunicorn, during the outage).
        TASKS_BACKEND="database",
    )
    return env


class Server:
    """gunicorn (or the development server) serving the app on a free loopback port."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path):
        self.port = free_port()
        self.log_path = log
        self.log = open(log, "w")  # noqa: SIM115 (closed in stop)
        argv = [a.replace("{port}", str(self.port)) for a in command]
        self.process = subprocess.Popen(
            argv, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"server exited: {log.read_text()[-3000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("server did not start")

    @classmethod
    def gunicorn(cls, env: dict[str, str], log: Path, *, workers: int, threads: int) -> Server:
        command = [
            *[sys.executable, "-m", "gunicorn", "platform_booking.wsgi:application"],
            *["--bind", "127.0.0.1:{port}", "--workers", str(workers)],
            *["--worker-class", "gthread", "--threads", str(threads)],
            *["--timeout", "120", "--graceful-timeout", "5", "--log-level", "info"],
        ]
        return cls(command, env, log)

    def stop(self) -> str:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()
        return self.log_path.read_text()


@dataclass
class Answer:
    at: float
    status: int
    content_type: str
    body: dict = field(default_factory=dict)
    retry_after: str | None = None
    sent: float = 0.0  # when the request left (`at`: when its answer came)


def call(port: int, method: str, path: str, token: str | None = None, body=None) -> Answer:
    sent = time.monotonic()
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method)
    request.add_header("Content-Type", "application/json")
    request.add_header("Accept-Language", "en")
    if token:
        request.add_header("Authorization", f"Token {token}")
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            status, headers, raw = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, headers, raw = error.code, error.headers, error.read()
    content_type = headers.get("Content-Type", "")
    parsed = json.loads(raw) if content_type.startswith("application/json") else {}
    return Answer(time.monotonic(), status, content_type, parsed, headers.get("Retry-After"), sent)


def slots(start_in_days: int) -> Iterator[tuple[str, str]]:
    """One-hour weekday slots from a few days ahead, in Paris time."""
    day = date.today() + timedelta(days=start_in_days)
    while True:
        if day.weekday() < 5:
            for hour in range(9, 17):
                start = datetime.combine(day, dtime(hour), tzinfo=PARIS)
                yield start.isoformat(), (start + timedelta(hours=1)).isoformat()
        day += timedelta(days=1)


def assert_api_error_shape(answer: Answer) -> None:
    assert answer.content_type == "application/json", answer
    assert answer.body.get("code") and answer.body.get("detail"), answer


def test_a_database_restart_answers_503_then_recovers_without_losing_a_booking(app, tmp_path):
    """Four clients book in a loop; PostgreSQL stops for 6 s, then starts again."""
    server = Server.gunicorn(
        server_env(app.pg, pool_max=3, pool_timeout=2),
        tmp_path / "gunicorn.log",
        workers=2,
        threads=4,
    )
    answers: list[tuple[int, Answer]] = []  # (client, answer); client -1 is /healthz
    stop = threading.Event()

    def client(index: int) -> None:
        equipment = app.equipment[index]
        for start, end in slots(start_in_days=2):
            if stop.is_set():
                return
            body = {
                "equipment": equipment,
                "project": app.project,
                "start": start,
                "end": end,
                "title": f"client {index}",
            }
            answers.append(
                (index, call(server.port, "POST", "/api/v1/reservations/", app.token, body))
            )
            time.sleep(0.1)

    def health() -> None:
        while not stop.is_set():
            answers.append((-1, call(server.port, "GET", "/healthz")))
            time.sleep(0.2)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(4)]
    threads.append(threading.Thread(target=health))
    try:
        for thread in threads:
            thread.start()
        time.sleep(3)
        stopped_at = time.monotonic()
        app.pg.stop()
        time.sleep(6)
        app.pg.start()
        started_at = time.monotonic()
        time.sleep(15)
        stop.set()
        for thread in threads:
            thread.join(timeout=90)
    finally:
        stop.set()
        log = server.stop()

    bookings = [a for i, a in answers if i >= 0]
    checks = [a for i, a in answers if i < 0]
    statuses = sorted({a.status for a in bookings})
    assert set(statuses) <= {201, 503}, statuses  # never a 500, nor anything else
    for answer in bookings:
        assert_api_error_shape(answer) if answer.status != 201 else None
    outage = [a for a in bookings if a.status == 503]
    assert outage, "no request was refused while the database was down"
    for answer in outage:
        assert answer.body["code"] == "service_unavailable"
        assert answer.retry_after and int(answer.retry_after) > 0
        # A 503 may also come just before the stop: the pool (3 connections, 2 s timeout)
        # is saturated by 4 clients on a loaded machine, which is a 503 too (SPEC §14).
        assert answer.at <= started_at + 10
    assert any(stopped_at <= a.at <= started_at for a in outage), "no 503 during the outage"
    # /healthz follows the database.
    assert any(a.status == 503 and a.retry_after for a in checks if a.at < started_at)
    assert checks[-1].status == 200
    # Recovery by itself, without restarting gunicorn: bookings succeed again soon.
    first_back = min(a.at for a in bookings if a.status == 201 and a.at > started_at)
    recovery = first_back - started_at
    print(
        f"\nrecovered {recovery:.1f} s after PostgreSQL started; "
        f"{len(outage)} answers 503, {sum(a.status == 201 for a in bookings)} bookings"
    )
    assert recovery < 10
    # Each gunicorn worker reconnects on its own; by the end, every client books again.
    for index in range(4):
        own = sorted((a for i, a in answers if i == index), key=lambda a: a.sent)
        assert len(own) >= 3 and own[-3].sent > started_at, index
        assert [a.status for a in own[-3:]] == [201, 201, 201], (index, own[-3:])
    assert log.count("Booting worker") == 2, "a worker was restarted"

    # Nothing answered 201 is lost.
    created = [a.body["id"] for a in bookings if a.status == 201]
    stored = {
        row[0]
        for row in app.pg.query(
            "SELECT id FROM reservations_reservation WHERE id = ANY(%s)", created
        )
    }
    assert stored == set(created)

    # One line when the outage starts and one when it ends, per worker; no traceback.
    assert "Traceback" not in log, log[max(0, log.find("Traceback") - 1500) :][:5000]
    assert 1 <= log.count("database unavailable") <= 2, log[-3000:]
    assert 1 <= log.count("database available again") <= 2, log[-3000:]


def test_more_concurrent_bookings_than_pooled_connections_answer_201_or_409(app, tmp_path):
    """24 simultaneous bookings, one gunicorn worker with 24 threads, a pool of 4: every
    answer is 201 or 409 (the requests wait for a connection, up to DB_POOL_TIMEOUT, 10 s),
    and PostgreSQL never sees more than 4 connections from the app."""
    server = Server.gunicorn(
        server_env(app.pg, pool_max=4), tmp_path / "gunicorn.log", workers=1, threads=24
    )
    peak = 0
    sampling = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not sampling.is_set():
            peak = max(peak, app.pg.app_connections())
            time.sleep(0.02)

    shared = next(slots(start_in_days=10))
    own = slots(start_in_days=10)
    barrier = threading.Barrier(24)
    answers: list[Answer] = []

    def book(index: int) -> None:
        # Half race for one slot of one equipment, half book slots of their own.
        equipment = app.equipment[7] if index % 2 else app.equipment[6]
        start, end = shared if index % 2 else mine[index]
        body = {
            "equipment": equipment,
            "project": app.project,
            "start": start,
            "end": end,
            "title": f"burst {index}",
        }
        barrier.wait(timeout=30)
        answers.append(call(server.port, "POST", "/api/v1/reservations/", app.token, body))

    mine = {index: next(own) for index in range(0, 24, 2)}
    sampler = threading.Thread(target=sample)
    try:
        sampler.start()
        threads = [threading.Thread(target=book, args=(i,)) for i in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=90)
    finally:
        sampling.set()
        sampler.join()
        log = server.stop()
    statuses = [a.status for a in answers]
    assert len(answers) == 24
    assert set(statuses) <= {201, 409}, [a.body for a in answers if a.status not in (201, 409)]
    assert statuses.count(201) == 12 + 1  # 12 own slots, one winner of the shared slot
    assert 1 <= peak <= 4, peak
    assert "Traceback" not in log


def test_a_request_that_waits_past_the_pool_timeout_answers_503_with_retry_after(app, tmp_path):
    """One connection for 24 simultaneous requests, a 1-second pool timeout: those that
    wait longer answer 503 with Retry-After, never 500; those that got through are stored.

    To make the wait certain, another session holds an ACCESS EXCLUSIVE lock on the
    reservations until a request has answered 503: the request that got the only pooled
    connection waits for the lock while holding it, so the others wait for the pool past
    its timeout."""
    server = Server.gunicorn(
        server_env(app.pg, pool_max=1, pool_timeout=1),
        tmp_path / "gunicorn.log",
        workers=1,
        threads=24,
    )
    own = slots(start_in_days=20)
    mine = [next(own) for _ in range(24)]
    barrier = threading.Barrier(24)
    answers: list[Answer] = []

    def book(index: int) -> None:
        start, end = mine[index]
        body = {
            "equipment": app.equipment[5],
            "project": app.project,
            "start": start,
            "end": end,
            "title": f"squeeze {index}",
        }
        barrier.wait(timeout=30)
        answers.append(call(server.port, "POST", "/api/v1/reservations/", app.token, body))
        answers.append(call(server.port, "GET", "/api/v1/reservations/?page_size=50", app.token))

    try:
        with psycopg.connect(app.pg.dsn()) as blocker:
            # The transaction (psycopg opens one) keeps the lock until the commit below.
            blocker.execute("LOCK TABLE reservations_reservation IN ACCESS EXCLUSIVE MODE")
            threads = [threading.Thread(target=book, args=(i,)) for i in range(24)]
            for thread in threads:
                thread.start()
            # Released once a request has given up waiting (at the latest after 30 s).
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not any(a.status == 503 for a in answers):
                time.sleep(0.05)
            released_at = time.monotonic()
            blocker.commit()
        for thread in threads:
            thread.join(timeout=90)
    finally:
        log = server.stop()
    statuses = [a.status for a in answers]
    print(
        f"\npool of 1, timeout 1 s: {statuses.count(201)} × 201, {statuses.count(200)} × 200, "
        f"{statuses.count(503)} × 503"
    )
    assert len(answers) == 48
    assert set(statuses) <= {200, 201, 503}, statuses
    # The requests that waited for the held connection gave up after the pool's timeout.
    assert 503 in statuses, statuses
    assert any(a.status == 503 and a.at < released_at for a in answers), statuses
    for answer in answers:
        if answer.status == 503:
            assert answer.body["code"] == "service_unavailable" and answer.retry_after
    created = [a.body["id"] for a in answers if a.status == 201]
    stored = app.pg.query("SELECT id FROM reservations_reservation WHERE id = ANY(%s)", created)
    assert len(stored) == len(created)
    assert "Traceback" not in log


def test_the_development_server_keeps_its_connections_bounded(app, tmp_path):
    """60 sequential requests to runserver left 11 connections open with CONN_MAX_AGE=60;
    with the pool, no more than its maximum."""
    env = server_env(app.pg, pool_max=3)
    env["DEBUG"] = "1"
    server = Server(
        [sys.executable, "manage.py", "runserver", "--noreload", "127.0.0.1:{port}"],
        env,
        tmp_path / "runserver.log",
    )
    try:
        for _ in range(60):
            assert call(server.port, "GET", "/healthz").status == 200
            assert call(server.port, "GET", "/api/v1/me/", app.token).status == 200
        open_connections = app.pg.app_connections()
    finally:
        server.stop()
    assert 1 <= open_connections <= 3, open_connections
