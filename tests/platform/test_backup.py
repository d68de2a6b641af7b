"""`manage.py backup` and `manage.py restore` (SPEC §14), run as an operator would, in
subprocesses, on the engine of this run's DATABASE_URL (SQLite or PostgreSQL): the demo
database round-trips table by table (row counts and a checksum of every row), passwords
still log in, new rows get fresh ids, and a database holding data is only replaced with
--force. Each test builds its own databases, away from the test database."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

from platform_booking.backup import backed_up_models

pytestmark = pytest.mark.backup

ROOT = Path(__file__).resolve().parents[2]
ENGINE = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]


class Database:
    """A database of this run's engine, created empty and dropped afterwards."""

    def __init__(self, tmp_path: Path, name: str):
        if ENGINE == "sqlite3":
            self.path = tmp_path / f"{name}.sqlite3"
            self.url = f"sqlite:///{self.path}"
        else:
            base = settings.DATABASES["default"]
            self.name = f"backup_{name}_{uuid.uuid4().hex[:8]}"
            self.admin = f"postgresql://{base['USER']}@{base['HOST']}:{base['PORT']}/postgres"
            with psycopg.connect(self.admin, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{self.name}"')
            self.url = f"postgres://{base['USER']}@{base['HOST']}:{base['PORT']}/{self.name}"

    def drop(self) -> None:
        if ENGINE != "sqlite3":
            with psycopg.connect(self.admin, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**os.environ, "DATABASE_URL": self.url, "DEBUG": "1", "DB_POOL_MAX_SIZE": "2"}
        env.pop("DJANGO_SETTINGS_MODULE", None)
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check:
            assert result.returncode == 0, result.stderr[-3000:]
        return result

    def rows(self, table: str) -> list[tuple]:
        query = f'SELECT * FROM "{table}" ORDER BY 1'
        if ENGINE == "sqlite3":
            with sqlite3.connect(self.path) as conn:
                return conn.execute(query).fetchall()
        with psycopg.connect(self.url.replace("postgres://", "postgresql://", 1)) as conn:
            return conn.execute(query).fetchall()

    def fingerprint(self) -> dict[str, tuple[int, str]]:
        """Rows and a checksum of their contents, table by table."""
        tables = sorted({model._meta.db_table for model in backed_up_models()})
        prints = {}
        for table in tables:
            rows = self.rows(table)
            prints[table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
        return prints


@pytest.fixture
def databases(tmp_path) -> Iterator:
    made: list[Database] = []

    def make(name: str) -> Database:
        made.append(Database(tmp_path, name))
        return made[-1]

    yield make
    for database in made:
        database.drop()


@pytest.fixture(scope="module")
def demo_backup(tmp_path_factory) -> Iterator[tuple[Path, dict[str, tuple[int, str]]]]:
    """The demo database, backed up; its fingerprint."""
    tmp = tmp_path_factory.mktemp("demo")
    source = Database(tmp, "demo")
    try:
        source.manage("migrate", "--no-input", "-v0")
        source.manage("demo_data")
        backup = tmp / "demo.jsonl.gz"
        result = source.manage("backup", str(backup))
        assert "Backed up" in result.stdout or "Sauvegard" in result.stdout
        yield backup, source.fingerprint()
    finally:
        source.drop()


AFTER_RESTORE = """
import datetime as dt
from zoneinfo import ZoneInfo
from django.contrib.auth import authenticate, get_user_model
from django.utils import timezone
from equipment.models import Equipment
from partners.models import Project
from platform_booking.demo import DEFAULT_PASSWORD
from reservations.exceptions import BookingError
from reservations.models import Reservation
from reservations.services import reservation_create

User = get_user_model()
assert authenticate(username="admin", password=DEFAULT_PASSWORD) is not None
last_user = User.objects.order_by("-pk").first().pk
user = User.objects.create_user("after-restore", password="x")
last = Reservation.objects.order_by("-pk").first().pk
tz, now = ZoneInfo("Europe/Paris"), timezone.now()
for days in range(3, 30):
    day = (now.astimezone(tz) + dt.timedelta(days=days)).date()
    if day.weekday() >= 5:
        continue
    for project in Project.objects.filter(kind="research"):
        for item in Equipment.objects.filter(requires_qualification=False):
            start = dt.datetime.combine(day, dt.time(11), tzinfo=tz)
            try:
                outcome = reservation_create(
                    user=project.leader, project=project, equipment=[item], start=start,
                    end=start + dt.timedelta(hours=1), title="after restore", now=now,
                )
            except BookingError:
                continue
            print(last_user, user.pk, last, outcome.reservations[0].pk)
            raise SystemExit(0)
raise SystemExit("no slot could be booked")
"""


def test_the_demo_round_trips_into_an_empty_database(demo_backup, databases):
    backup, expected = demo_backup
    target = databases("empty")  # no tables at all: restore migrates it first
    result = target.manage("restore", str(backup))
    assert result.returncode == 0
    restored = target.fingerprint()
    assert restored == expected
    assert sum(rows for rows, _ in expected.values()) > 1000  # the demo, not an empty shell
    assert expected["reservations_reservation"][0] > 100

    # New rows get fresh ids: the sequences moved past the restored ones.
    out = target.manage("shell", "-c", AFTER_RESTORE).stdout.split()
    last_user, new_user, last_booking, new_booking = map(int, out[-4:])
    assert new_user > last_user and new_booking > last_booking


def test_a_database_holding_data_is_replaced_only_with_force(demo_backup, databases):
    backup, expected = demo_backup
    target = databases("busy")
    target.manage("migrate", "--no-input", "-v0")
    target.manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User;User.objects.create_user('someone-else')",
    )
    refused = target.manage("restore", str(backup), check=False)
    assert refused.returncode != 0
    assert "--force" in refused.stderr
    assert target.rows("auth_user")[0][4] == "someone-else"  # untouched

    target.manage("restore", str(backup), "--force")
    assert target.fingerprint() == expected


def test_a_freshly_migrated_database_counts_as_empty(demo_backup, databases):
    backup, expected = demo_backup
    target = databases("migrated")
    target.manage("migrate", "--no-input", "-v0")
    target.manage("restore", str(backup))
    assert target.fingerprint() == expected


def test_a_truncated_backup_changes_nothing(demo_backup, databases, tmp_path):
    backup, expected = demo_backup
    import gzip

    lines = gzip.decompress(backup.read_bytes()).decode().splitlines(keepends=True)
    truncated = tmp_path / "truncated.jsonl"
    truncated.write_text("".join(lines[: len(lines) // 2]))
    target = databases("truncated")
    target.manage("migrate", "--no-input", "-v0")
    before = target.fingerprint()
    result = target.manage("restore", str(truncated), "--force", check=False)
    assert result.returncode != 0 and "incomplete" in result.stderr
    assert target.fingerprint() == before
    assert before != expected
