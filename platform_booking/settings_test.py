"""Test settings: the production module plus the speed-ups tests need, in one place."""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key")
os.environ.setdefault("EMAIL_URL", "locmem://")
# The concurrency tests hold 16 connections at once, plus the test's own.
os.environ.setdefault("DB_POOL_MAX_SIZE", "20")
# Tasks run where they are enqueued (after the commit), so a test sees the emails at once;
# the worker's own tests start `manage.py worker` on the database queue.
os.environ.setdefault("TASKS_BACKEND", "immediate")

from .settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {  # noqa: F405
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
}
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] = {"login": "1000/minute"}  # noqa: F405
# Serve static files from the apps, as in development: no collectstatic before tests.
WHITENOISE_AUTOREFRESH = True
WHITENOISE_USE_FINDERS = True

# One SQLite test database per test process, so that parallel runs do not collide.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f"test-db-{os.getpid()}.sqlite3")}  # noqa: F405
else:
    # The same on PostgreSQL: several checkouts of the project may run their tests at once.
    DATABASES["default"]["TEST"] = {  # noqa: F405
        "NAME": f"test_{DATABASES['default']['NAME']}_{os.getpid()}"  # noqa: F405
    }
