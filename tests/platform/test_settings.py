"""The settings module refuses to start on bad configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from platform_booking.env import email_config, env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]


def load_settings(**env: str) -> subprocess.CompletedProcess:
    """Import the production settings module in a fresh interpreter with this environment."""
    clean = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {
            "DEBUG",
            "SECRET_KEY",
            "DATABASE_URL",
            "TIME_ZONE",
            "LANGUAGE_CODE",
            "SITE_URL",
            "EMAIL_URL",
            "ALLOWED_HOSTS",
        }
    }
    clean.update(env)
    clean["DJANGO_SETTINGS_MODULE"] = "platform_booking.settings"
    code = (
        "import django; from django.conf import settings; django.setup();"
        "print(settings.DATABASES['default']['ENGINE'], settings.TIME_ZONE, settings.LANGUAGE_CODE)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_without_secret_key_refuses_to_start():
    result = load_settings(DEBUG="0")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_debug_without_secret_key_starts_on_sqlite_in_paris_and_french():
    result = load_settings(DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["django.db.backends.sqlite3", "Europe/Paris", "fr"]


def test_postgres_url_selects_postgresql():
    result = load_settings(SECRET_KEY="x", DATABASE_URL="postgres://u:p@127.0.0.1:5432/db")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == "django.db.backends.postgresql"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "maybe"}, "DEBUG must be a boolean"),
        ({"SECRET_KEY": "x", "DATABASE_URL": "mysql://u@h/db"}, "SQLite or PostgreSQL"),
        ({"SECRET_KEY": "x", "DATABASE_URL": "nonsense://"}, "DATABASE_URL"),
        ({"SECRET_KEY": "x", "TIME_ZONE": "Europe/Atlantis"}, "TIME_ZONE is not a known"),
        ({"SECRET_KEY": "x", "LANGUAGE_CODE": "de"}, "LANGUAGE_CODE must be one of"),
        ({"SECRET_KEY": "x", "SITE_URL": "booking.example.org"}, "SITE_URL must start"),
        ({"SECRET_KEY": "x", "EMAIL_URL": "pigeon://coop"}, "EMAIL_URL scheme"),
    ],
)
def test_bad_values_fail_loudly(env, message):
    result = load_settings(**env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("yes", True), ("OFF", False), ("", False)]
)
def test_env_bool_reads_common_spellings(raw, expected):
    assert env_bool("X", not expected, {"X": raw}) is expected


def test_env_bool_default_when_unset():
    assert env_bool("X", True, {}) is True


def test_env_int_rejects_words():
    with pytest.raises(ImproperlyConfigured):
        env_int("N", 1, {"N": "ten"})
    assert env_int("N", 1, {"N": "10"}) == 10


def test_env_list_splits_and_strips():
    assert env_list("H", [], {"H": " a.fr, b.fr ,,"}) == ["a.fr", "b.fr"]


def test_email_url_smtp_with_credentials():
    config = email_config("submission://user%40campus:s3cret@smtp.campus.fr")
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert config["EMAIL_HOST"] == "smtp.campus.fr"
    assert config["EMAIL_PORT"] == 587
    assert config["EMAIL_HOST_USER"] == "user@campus"
    assert config["EMAIL_HOST_PASSWORD"] == "s3cret"
    assert config["EMAIL_USE_TLS"] is True


def test_email_url_console():
    assert email_config("console://")["EMAIL_BACKEND"].endswith("console.EmailBackend")
