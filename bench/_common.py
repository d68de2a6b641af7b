"""What every benchmark shares: a fresh PostgreSQL database named by DATABASE_URL."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

import psycopg


def recreate_database() -> None:
    """Drop (closing its connections) and create the database of DATABASE_URL."""
    url = urlsplit(os.environ["DATABASE_URL"])
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
