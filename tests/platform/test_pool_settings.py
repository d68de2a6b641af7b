"""The PostgreSQL connection pool's settings (SPEC §14): bounded, from the environment, checked."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]
PG_URL = "postgres://app@127.0.0.1:5432/app"


def database_settings(**env: str) -> subprocess.CompletedProcess:
    """DATABASES['default'] as the production settings read it from this environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DJANGO_"))}
    clean |= {"DEBUG": "1", "DATABASE_URL": PG_URL, **env}
    clean["DJANGO_SETTINGS_MODULE"] = "platform_booking.settings"
    code = (
        "import json; from django.conf import settings;"
        "print(json.dumps(settings.DATABASES['default'], default=str))"
    )
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True
    )


def test_postgresql_gets_a_bounded_pool_and_no_persistent_connections():
    result = database_settings()
    assert result.returncode == 0, result.stderr
    db = json.loads(result.stdout)
    assert db["CONN_MAX_AGE"] == 0 and db["CONN_HEALTH_CHECKS"] is True
    pool = db["OPTIONS"]["pool"]
    assert (pool["min_size"], pool["max_size"], pool["timeout"]) == (2, 10, 10)
    assert db["OPTIONS"]["connect_timeout"] == 5


def test_pool_sizes_come_from_the_environment():
    result = database_settings(DB_POOL_MIN_SIZE="1", DB_POOL_MAX_SIZE="4", DB_POOL_TIMEOUT="3")
    pool = json.loads(result.stdout)["OPTIONS"]["pool"]
    assert (pool["min_size"], pool["max_size"], pool["timeout"]) == (1, 4, 3)


def test_a_pool_size_of_zero_turns_the_pool_off():
    db = json.loads(database_settings(DB_POOL_MAX_SIZE="0").stdout)
    assert "pool" not in db["OPTIONS"] and db["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    "env",
    [
        {"DB_POOL_MIN_SIZE": "5", "DB_POOL_MAX_SIZE": "4"},
        {"DB_POOL_MAX_SIZE": "-1"},
        {"DB_POOL_TIMEOUT": "0"},
        {"DB_POOL_MAX_SIZE": "many"},
    ],
)
def test_bad_pool_settings_fail_loudly(env):
    result = database_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "DB_POOL" in result.stderr


def test_sqlite_stays_without_a_pool():
    db = json.loads(database_settings(DATABASE_URL="sqlite:////tmp/x.sqlite3").stdout)
    assert db["OPTIONS"] == {"transaction_mode": "IMMEDIATE", "timeout": 20}
    assert db["CONN_MAX_AGE"] == 0


@pytest.mark.django_db
def test_the_running_connection_is_pooled_on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's")
    connection.ensure_connection()
    assert connection.pool is not None
    assert connection.pool.max_size >= 17  # the concurrency tests hold 16 connections at once
