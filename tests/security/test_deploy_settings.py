"""Production settings (SPEC §14): `check --deploy` clean with the documented production
environment, and the security headers a production server sends."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys

import pytest
from django.conf import settings

PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "booking.example.org",
    "SITE_URL": "https://booking.example.org",
    "DATABASE_URL": "postgres://booking@127.0.0.1:5432/booking",
    "EMAIL_URL": "smtp://mail.example.org",
    "TRUSTED_PROXIES": "127.0.0.1,10.0.0.0/8",
}


def run(code: list[str], **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **PRODUCTION, **env_extra}
    return subprocess.run(
        [sys.executable, *code],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def check_deploy(**env_extra: str) -> subprocess.CompletedProcess[str]:
    return run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **env_extra)


def test_check_deploy_is_clean_with_the_production_environment():
    result = check_deploy()
    assert result.returncode == 0, result.stderr + result.stdout
    assert "System check identified no issues" in result.stdout
    preload = check_deploy(SECURE_HSTS_PRELOAD="1")
    assert preload.returncode == 0, preload.stderr
    assert "no issues (0 silenced)" in preload.stdout


def test_check_deploy_complains_without_https():
    # The test above would pass on a check that said nothing: it does say something.
    result = check_deploy(SITE_URL="http://booking.example.org")
    assert result.returncode != 0
    for code in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert code in result.stderr


def test_the_production_settings_read_from_the_environment():
    script = (
        "import django, json; from django.conf import settings as s; django.setup();"
        "print(json.dumps([s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS,"
        " s.SECURE_HSTS_INCLUDE_SUBDOMAINS, s.SECURE_HSTS_PRELOAD, s.SESSION_COOKIE_SECURE,"
        " s.CSRF_COOKIE_SECURE, list(s.SECURE_PROXY_SSL_HEADER or []),"
        " [str(n) for n in s.TRUSTED_PROXIES],"
        " s.CONTENT_SECURITY_POLICY['DIRECTIVES']['script-src'],"
        " s.CACHES['default']['BACKEND']]))"
    )
    env = {"DJANGO_SETTINGS_MODULE": "platform_booking.settings"}
    result = run(["-c", script], **env, SECURE_HSTS_SECONDS="600", SECURE_HSTS_PRELOAD="yes")
    assert result.returncode == 0, result.stderr

    values = json.loads(result.stdout)
    assert values == [
        True,
        600,
        True,
        True,
        True,
        True,
        ["HTTP_X_FORWARDED_PROTO", "https"],
        ["127.0.0.1/32", "10.0.0.0/8"],
        ["'self'"],
        "platform_booking.login_guard.UnculledDatabaseCache",
    ]
    redis = run(["-c", script], **env, CACHE_URL="redis://127.0.0.1:6379/0", TRUSTED_PROXIES="")
    assert redis.returncode == 0, redis.stderr
    # No proxy: no forwarded scheme believed either.
    redis_cache = "django.core.cache.backends.redis.RedisCache"
    assert json.loads(redis.stdout)[6:] == [[], [], ["'self'"], redis_cache]
    bad = run(["-c", script], **env, TRUSTED_PROXIES="10.0.0.0/8,not-an-ip")
    assert bad.returncode != 0 and "not-an-ip" in bad.stderr


@pytest.mark.django_db
def test_pages_carry_the_content_security_policy(client, campus):
    client.force_login(campus.researcher)
    for path in ("/equipment/", "/accounts/login/", "/api/docs/"):
        response = client.get(path)
        assert response.status_code == 200, path
        policy = response["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
        assert "frame-ancestors 'none'" in policy
        assert "<script>" not in response.content.decode(), path
