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
        assert str(backup) in result.stdout and backup.is_file()  # in either language
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
    # The platform's language (French): "est incomplet (tronqué ?)".
    assert result.returncode != 0 and "incomplet (tronqué ?)" in result.stderr
    assert target.fingerprint() == before
    assert before != expected


# --- In this run's test database (transactional tests: restore empties whole tables) ---

in_process = pytest.mark.django_db(transaction=True)


def _leftover_table(sql_type_for_key: str = "varchar(40)") -> None:
    """A table no installed app owns, pointing at auth_user: `authtoken_token` after core/0003."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE authtoken_token (key {sql_type_for_key} PRIMARY KEY, "
            "created timestamp NOT NULL, "
            "user_id integer NOT NULL REFERENCES auth_user (id) DEFERRABLE INITIALLY DEFERRED)"
        )


def _drop_leftover_table() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS authtoken_token")


@in_process
def test_the_backup_file_is_readable_by_its_owner_only(tmp_path, monkeypatch):
    import stat

    from platform_booking import backup as module

    modes = []
    replace = module.os.replace

    def spy(src, dst):
        modes.append(stat.S_IMODE(os.stat(src).st_mode))
        replace(src, dst)

    monkeypatch.setattr(module.os, "replace", spy)
    for name in ("db.jsonl.gz", "db.jsonl"):
        path = tmp_path / name
        path.write_text("old")
        path.chmod(0o644)
        (tmp_path / f"{name}.partial").write_text("stale")
        (tmp_path / f"{name}.partial").chmod(0o644)
        module.backup_write(path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert modes == [0o600, 0o600]  # the .partial too, while it is written


@in_process
def test_migrations_of_apps_no_longer_installed_do_not_block_a_restore(tmp_path):
    from django.contrib.auth.models import User
    from django.db.migrations.recorder import MigrationRecorder

    from platform_booking.backup import backup_restore, backup_write

    User.objects.create_user("kept")
    recorder = MigrationRecorder.Migration.objects
    # An upgraded database: rest_framework.authtoken's migrations are still recorded.
    recorder.create(app="authtoken", name="0001_initial")
    upgraded = tmp_path / "upgraded.jsonl"
    backup_write(upgraded)
    # A fresh database never had them.
    recorder.filter(app="authtoken").delete()
    backup_restore(upgraded, force=True)
    assert User.objects.filter(username="kept").exists()
    # And the other way round: a backup of a fresh database into an upgraded one.
    fresh = tmp_path / "fresh.jsonl"
    backup_write(fresh)
    recorder.create(app="authtoken", name="0001_initial")
    backup_restore(fresh, force=True)
    assert User.objects.filter(username="kept").exists()


@in_process
def test_force_empties_an_empty_leftover_table_pointing_at_users(tmp_path):
    from django.contrib.auth.models import User

    from platform_booking.backup import backup_restore, backup_write

    User.objects.create_user("kept")
    path = tmp_path / "db.jsonl"
    backup_write(path)
    _leftover_table()
    try:
        User.objects.create_user("someone-else")
        backup_restore(path, force=True)
        assert list(User.objects.values_list("username", flat=True)) == ["kept"]
    finally:
        _drop_leftover_table()


@in_process
def test_force_refuses_a_leftover_table_holding_rows_and_names_it(tmp_path):
    from django.contrib.auth.models import User
    from django.db import connection

    from platform_booking.backup import BackupError, backup_restore, backup_write

    path = tmp_path / "db.jsonl"
    backup_write(path)
    _leftover_table()
    try:
        someone = User.objects.create_user("someone-else")
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
                ["0123456789abcdef0123456789abcdef01234567", "2026-01-01 00:00:00", someone.pk],
            )
        with pytest.raises(BackupError, match="authtoken_token"):
            backup_restore(path, force=True)
        assert User.objects.filter(username="someone-else").exists()  # nothing changed
    finally:
        _drop_leftover_table()


@in_process
def test_a_restore_never_gives_out_the_id_of_a_row_deleted_before_the_backup(tmp_path):
    from django.contrib.auth.models import User

    from platform_booking.backup import backup_restore, backup_write

    User.objects.create_user("kept")
    deleted = User.objects.create_user("deleted")
    deleted_id = deleted.pk
    deleted.delete()
    path = tmp_path / "db.jsonl.gz"
    backup_write(path)
    backup_restore(path, force=True)
    assert User.objects.create_user("new").pk > deleted_id
