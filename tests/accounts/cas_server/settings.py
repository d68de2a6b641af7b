"""A minimal CAS server (django-cas-server) for the CAS tests, run in its own process.

Its database is the SQLite file named by CAS_TEST_DB; provision.py creates its users and
the service pattern of our platform. Its cookies have their own names: browsers (and
requests' cookie jar) share cookies between the ports of 127.0.0.1, so the CAS session
cookie (the TGC) must not overwrite our `sessionid`.
"""

import os

SECRET_KEY = "cas-test-server-only"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "cas_server",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "tests.accounts.cas_server.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.environ["CAS_TEST_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
USE_TZ = True
STATIC_URL = "/static/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_NAME = "CASTGC"
CSRF_COOKIE_NAME = "cas_csrftoken"

# Users are checked against this server's own Django users; their fields are the
# attributes the service pattern releases (renamed there to mail, givenName, sn).
CAS_AUTH_CLASS = "cas_server.auth.DjangoAuthUser"
# Loopback only: no look-up of a newer version on PyPI.
CAS_NEW_VERSION_HTML_WARNING = False
CAS_NEW_VERSION_EMAIL_WARNING = False
CAS_SHOW_POWERED = False
CAS_SLO_TIMEOUT = 5
