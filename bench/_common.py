"""What every benchmark shares: databases by size, a bench environment for Django."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import psycopg

# Bump when bench/seed.py changes what it writes: the seeded databases are then redone.
SEED_VERSION = "1"
# Small: 10,000 reservations in all (the current month and week, then history);
# large: 1,000,000 reservations of history besides the same current month and week.
SIZES = ("small", "large")
SMALL_TOTAL = 10_000
LARGE_HISTORY = 1_000_000
SERVER = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432").rstrip("/")
# The databases' names are PREFIX_small and PREFIX_large (BENCH_DB_PREFIX, so that two
# checkouts sharing a server do not reseed each other's).
PREFIX = os.environ.get("BENCH_DB_PREFIX", "platform_booking_bench")


def database_url(size: str) -> str:
    return f"{SERVER}/{PREFIX}_{size}"


def django_environment(url: str) -> None:
    """Settings for a benchmark process: this database, DEBUG off, no real email."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_booking.settings")
    os.environ.setdefault("EMAIL_URL", "locmem://")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    os.environ["DEBUG"] = "false"
    import warnings

    # Whitenoise warns that static files were not collected: the bench serves none.
    warnings.filterwarnings("ignore", message="No directory at")


def recreate_database(url: str | None = None) -> None:
    """Drop (closing its connections) and create the database of `url` (or DATABASE_URL)."""
    parts = urlsplit(url or os.environ["DATABASE_URL"])
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def meta_read(url: str) -> dict[str, str]:
    """What the bench wrote about a seeded database (empty if absent or unreadable)."""
    try:
        with psycopg.connect(url, connect_timeout=5) as conn:
            return dict(conn.execute("SELECT key, value FROM bench_meta").fetchall())
    except psycopg.Error:
        return {}


def meta_write(url: str, values: dict[str, str]) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_meta (key text PRIMARY KEY, value text)")
        for key, value in values.items():
            conn.execute(
                "INSERT INTO bench_meta VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (key, value),
            )
