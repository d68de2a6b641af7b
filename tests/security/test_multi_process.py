"""The login lockout holds across processes: a real `gunicorn -w 2`, DEBUG off, with the
shared store (the database by default, Redis when configured)."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

pytestmark = [pytest.mark.slow_security, pytest.mark.django_db(transaction=True)]

LIMIT = 6
PASSWORD = "Bon-mot-de-passe-1"
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{db['NAME']}"
    user = db["USER"] or "postgres"
    return f"postgres://{user}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def gunicorn(tmp_path):
    """Start `gunicorn -w 2` with the production settings; answer its URL and access log."""
    processes = []

    def start(**env_extra: str) -> tuple[str, Path]:
        port = free_port()
        log = tmp_path / f"access-{port}.log"
        errors = tmp_path / f"errors-{port}.log"
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(tmp_path),
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": f"http://127.0.0.1:{port}",
            "DATABASE_URL": database_url(),
            "LOGIN_FAILURES_PER_ADDRESS": str(LIMIT),
            "LOGIN_FAILURES_PER_ACCOUNT": "1000",
            "LOGIN_THROTTLE_RATE": "1000/minute",
            "LOG_LEVEL": "ERROR",
            **env_extra,
        }
        with errors.open("wb") as stderr:
            process = subprocess.Popen(
                [
                    str(GUNICORN),
                    "-w",
                    "2",
                    "-b",
                    f"127.0.0.1:{port}",
                    "--access-logfile",
                    str(log),
                    "--access-logformat",
                    "%(p)s %(s)s",
                    "platform_booking.wsgi",
                ],
                cwd=settings.BASE_DIR,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"gunicorn stopped: {errors.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return url, log
            except OSError:
                time.sleep(0.2)
        pytest.fail("gunicorn did not answer within 60 s")

    yield start
    for process in processes:
        process.terminate()
        process.wait(timeout=30)


def login(url: str, username: str, password: str, forwarded: str) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{url}/api/v1/auth/token/",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json", "X-Forwarded-For": forwarded},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


@pytest.mark.parametrize("store", ["database", "redis"])
def test_lockout_holds_across_two_worker_processes(gunicorn, store):
    env = {}
    if store == "redis":
        if not redis_up():
            pytest.fail("Redis is not running on 127.0.0.1:6379")
        env = {"CACHE_URL": "redis://127.0.0.1:6379/0", "CACHE_KEY_PREFIX": secrets.token_hex(8)}
    user = get_user_model().objects.create(username="alice")
    # A cheap PBKDF2 (the production hashers do not include the tests' MD5).
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "sel-de-test", iterations=1000)
    user.save()
    url, log = gunicorn(**env)

    def wrong(i: int) -> int:
        # A new address in X-Forwarded-For each time: from an untrusted peer, ignored.
        return login(url, f"user{i}", "wrong", f"198.51.100.{i % 250}")[0]

    # Two at a time, so that both workers take requests.
    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = list(pool.map(wrong, range(3 * LIMIT)))
    failures = answers.count(400)
    # One counter for both workers: LIMIT failures get through (one more at most, when
    # two requests pass the check at the same instant). One counter per process would
    # let LIMIT through each worker.
    assert LIMIT <= failures <= LIMIT + 1, answers
    assert answers.count(429) == len(answers) - failures
    status, headers = login(url, "alice", PASSWORD, "192.0.2.1")
    assert status == 429
    assert int(headers["Retry-After"]) > 0

    # Both workers answered (their pids are in the access log), and both refuse now: ask
    # two at a time until both pids show a 429 (gunicorn writes its access log after
    # answering, and either worker may take both requests), for at most 30 s.
    def right(i: int) -> int:
        return login(url, "alice", PASSWORD, f"192.0.2.{i % 250}")[0]

    later: list[int] = []
    refusing: set[str] = set()
    deadline = time.monotonic() + 30
    with ThreadPoolExecutor(max_workers=2) as pool:
        while len(refusing) < 2 and time.monotonic() < deadline:
            later += pool.map(right, range(len(later), len(later) + 8))
            refusing = set(re.findall(r"^<(\d+)> 429$", log.read_text(), re.MULTILINE))
            time.sleep(0.1)
    assert len(later) >= 8 and set(later) == {429}, later
    pids = set(re.findall(r"^<(\d+)> \d+$", log.read_text(), re.MULTILINE))
    assert len(pids) == 2, pids
    assert refusing == pids, (refusing, pids)
