"""Settings for platform-booking, all read from the environment (see README.md)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from .env import email_config, env_bool, env_int, env_list, env_str, networks
from .scheduler_perms import deny as scheduler_deny

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
SITE_URL = env_str("SITE_URL", "http://localhost:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL must start with http:// or https://, got {SITE_URL!r}")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    # Ours first, so that our templates (registration/login.html) win.
    "platform_booking",
    "core",
    "partners",
    "equipment",
    "reservations",
    "calendars",
    "waitlist",
    "notifications",
    "reports",
    "accounts",
    "planner",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Needed even on SQLite: range fields and RangeOperators import from it.
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    # The background worker's queue (SPEC §12): Django 6's tasks framework, backported.
    "django_tasks",
    "django_tasks_db",
    # Last, so that Django's and DRF's translations win over its own.
    "schedule",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Django's LocaleMiddleware, without its search for a language in unprefixed paths.
    "platform_booking.middleware.LocaleMiddleware",
    # After the language is chosen: the 413 answer speaks the reader's language.
    "platform_booking.middleware.BodySizeMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-csp's, building the settings' header once (platform_booking.middleware).
    "platform_booking.middleware.CSPMiddleware",
    "platform_booking.login_guard.LoginGuardMiddleware",
    "platform_booking.middleware.OutOfRangeMiddleware",
    "platform_booking.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "platform_booking.urls"
WSGI_APPLICATION = "platform_booking.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ----------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
try:
    _default_db = dj_database_url.parse(DATABASE_URL, conn_max_age=0)
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL is not a valid database URL: {exc}") from None
if _default_db["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE transactions make concurrent writers queue for the lock instead of
    # failing half-way with "database is locked" (see shared/STACK.md).
    _default_db["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    # A file-backed test database: the in-memory one cannot serve several threads.
    _default_db["TEST"] = {"NAME": str(BASE_DIR / "test-db.sqlite3")}
elif _default_db["ENGINE"] == "django.db.backends.postgresql":
    # One bounded pool per process (Django's psycopg pool), under gunicorn and runserver
    # alike: persistent connections (CONN_MAX_AGE > 0) leak one connection per request
    # thread. A request waits at most DB_POOL_TIMEOUT seconds for a connection, then
    # answers 503. The pool checks a connection before lending it (CONN_HEALTH_CHECKS),
    # so one broken by a database restart is replaced, not served. A failed reconnection
    # gives up after 5 s and the next waiting request starts a new one: the pool's
    # exponential back-off never delays the recovery by more than a few seconds.
    # DB_POOL_MAX_SIZE=0 turns the pool off (e.g. behind PgBouncer).
    _pool_min = env_int("DB_POOL_MIN_SIZE", 2)
    _pool_max = env_int("DB_POOL_MAX_SIZE", 10)
    _pool_timeout = env_int("DB_POOL_TIMEOUT", 10)
    if _pool_max < 0 or _pool_timeout <= 0 or (_pool_max and not 0 <= _pool_min <= _pool_max):
        raise ImproperlyConfigured(
            "Need 0 <= DB_POOL_MIN_SIZE <= DB_POOL_MAX_SIZE and DB_POOL_TIMEOUT > 0, got "
            f"{_pool_min}, {_pool_max}, {_pool_timeout}."
        )
    # Connecting to an address that drops packets fails after this, instead of hanging.
    _default_db["OPTIONS"] = {
        "connect_timeout": env_int("DB_CONNECT_TIMEOUT", 5),
        **_default_db.get("OPTIONS", {}),
    }
    _default_db["CONN_MAX_AGE"] = 0
    _default_db["CONN_HEALTH_CHECKS"] = True
    if _pool_max:
        _default_db["OPTIONS"]["pool"] = {
            "min_size": _pool_min,
            "max_size": _pool_max,
            "timeout": _pool_timeout,
            "reconnect_timeout": 5,
            "name": "platform-booking",
        }
else:
    raise ImproperlyConfigured("DATABASE_URL must point to SQLite or PostgreSQL.")
DATABASES = {"default": _default_db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Request limits and failures (SPEC §14) -----------------------------------------
# A body larger than these answers 413 before it is read: Django's limit for forms and
# request.body, and a larger one for file uploads (multipart), which Django streams to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_BODY_BYTES", 2_621_440)
# The largest equipment document (SPEC §13); a larger file answers 413 `file_too_large`.
EQUIPMENT_DOCUMENT_MAX_BYTES = env_int("EQUIPMENT_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
# A multipart body carries the file and a little more (boundaries, the other fields): a
# document within its limit must never be stopped by the body's (`request_too_large`).
MAX_UPLOAD_BODY_BYTES = env_int(
    "MAX_UPLOAD_BODY_BYTES", max(10 * 1024 * 1024, EQUIPMENT_DOCUMENT_MAX_BYTES + 1024 * 1024)
)
if EQUIPMENT_DOCUMENT_MAX_BYTES <= 0 or MAX_UPLOAD_BODY_BYTES <= EQUIPMENT_DOCUMENT_MAX_BYTES:
    raise ImproperlyConfigured(
        "Need 0 < EQUIPMENT_DOCUMENT_MAX_BYTES < MAX_UPLOAD_BODY_BYTES (leave room for the "
        f"rest of the form), got {EQUIPMENT_DOCUMENT_MAX_BYTES} and {MAX_UPLOAD_BODY_BYTES}."
    )
# Seconds a client is asked to wait (Retry-After) when the database cannot be reached.
RETRY_AFTER_SECONDS = env_int("RETRY_AFTER_SECONDS", 30)

# --- Auth ----------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Django's password backend with the lockout: a locked account or address is refused even
# with the right password, whatever the login path (pages, API, admin).
AUTHENTICATION_BACKENDS = ["platform_booking.login_guard.LockoutBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "equipment:catalogue"
LOGOUT_REDIRECT_URL = "login"
# Password reset by email (platform_booking.password_reset): the link works once, for this
# many seconds after the email is made (Django's default: 3 days); an email still not sent
# by then is dropped. At most so many emails per account, and requests per client address,
# over the last hour (silently: the page says the same).
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600)
PASSWORD_RESET_PER_HOUR = env_int("PASSWORD_RESET_PER_HOUR", 3)
PASSWORD_RESET_PER_ADDRESS = env_int("PASSWORD_RESET_PER_ADDRESS", 20)

# --- Single sign-on: OpenID Connect (SPEC §13, README "Single sign-on") -------------
# On when the first three are set; the endpoints come from the provider's discovery
# document (OIDC_ISSUER/.well-known/openid-configuration). The backend answers only the
# callback of accounts.oidc (never a password), so it stays listed when OIDC is off.
OIDC_ISSUER = env_str("OIDC_ISSUER", "")
OIDC_CLIENT_ID = env_str("OIDC_CLIENT_ID", "")
OIDC_CLIENT_SECRET = env_str("OIDC_CLIENT_SECRET", "")
OIDC_SCOPES = env_str("OIDC_SCOPES", "openid email profile")
OIDC_LABEL = env_str("OIDC_LABEL", "OpenID Connect")
_oidc_issuer = urlsplit(OIDC_ISSUER)
if OIDC_ISSUER and not (
    _oidc_issuer.scheme == "https"
    or (_oidc_issuer.scheme == "http" and _oidc_issuer.hostname in ("127.0.0.1", "localhost"))
):
    raise ImproperlyConfigured(f"OIDC_ISSUER must be an https:// URL, got {OIDC_ISSUER!r}")
if "openid" not in OIDC_SCOPES.split():
    raise ImproperlyConfigured(f"OIDC_SCOPES must include openid, got {OIDC_SCOPES!r}")
AUTHENTICATION_BACKENDS.append("accounts.oidc.OIDCBackend")

# --- Single sign-on: SAML 2 (SPEC §13; README "Single sign-on") ----------------------
# On when SAML_IDP_METADATA is set: the identity provider's (or federation's) metadata,
# a URL or a file. The backend finds users through accounts.services.sign_in only.
SAML_IDP_METADATA = env_str("SAML_IDP_METADATA", "")
SAML_IDP_METADATA_CERT = env_str("SAML_IDP_METADATA_CERT", "")  # checks a signed download
SAML_IDP_ENTITY_ID = env_str("SAML_IDP_ENTITY_ID", "")  # when the metadata lists several
SAML_SP_ENTITY_ID = env_str("SAML_SP_ENTITY_ID", f"{SITE_URL}/accounts/saml/metadata/")
SAML_SP_KEY_FILE = env_str("SAML_SP_KEY_FILE", "")
SAML_SP_CERT_FILE = env_str("SAML_SP_CERT_FILE", "")
SAML_LABEL = env_str("SAML_LABEL", "SAML")
SAML_METADATA_REFRESH = env_int("SAML_METADATA_REFRESH", 6 * 3600)  # seconds
AUTHENTICATION_BACKENDS += ["accounts.saml.SamlBackend"]

# --- Single sign-on: CAS (SPEC §13; README "Single sign-on") -------------------------
# On when CAS_SERVER_URL is set. django-cas-ng's views check the ticket; accounts.cas's
# backend makes the user through accounts.services.sign_in only (never by username or
# email, never staff or groups from the attributes). Its tables (tickets of the sessions,
# for the CAS server's single logout) are there even when CAS is off.
# The providers' origins: logging out (a form) is redirected there, which the Content
# Security Policy's form-action must allow.
_sso_origins: list[str] = []
CAS_SERVER_URL = env_str("CAS_SERVER_URL", "").strip() or None
if CAS_SERVER_URL:
    if not CAS_SERVER_URL.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"CAS_SERVER_URL must be an http(s) URL, got {CAS_SERVER_URL!r}")
    CAS_SERVER_URL = CAS_SERVER_URL.rstrip("/") + "/"  # its login, logout… are joined to it
    _sso_origins.append("{0.scheme}://{0.netloc}".format(urlsplit(CAS_SERVER_URL)))
CAS_VERSION = env_str("CAS_VERSION", "3")
if CAS_VERSION not in {"2", "3", "CAS_2_SAML_1_0"}:  # 1 releases no attributes
    raise ImproperlyConfigured(f"CAS_VERSION must be 2, 3 or CAS_2_SAML_1_0, got {CAS_VERSION!r}")
CAS_LABEL = env_str("CAS_LABEL", "CAS")
CAS_ATTRIBUTE_EMAIL = env_str("CAS_ATTRIBUTE_EMAIL", "mail")
CAS_ATTRIBUTE_GIVEN_NAME = env_str("CAS_ATTRIBUTE_GIVEN_NAME", "givenName")
CAS_ATTRIBUTE_FAMILY_NAME = env_str("CAS_ATTRIBUTE_FAMILY_NAME", "sn")
CAS_CREATE_USER = False
CAS_APPLY_ATTRIBUTES_TO_USER = False
CAS_IGNORE_REFERER = True
CAS_LOGOUT_COMPLETELY = True
CAS_LOGIN_MSG = None
CAS_LOGGED_MSG = None
INSTALLED_APPS += ["django_cas_ng"]
AUTHENTICATION_BACKENDS += ["accounts.cas.CASBackend"]

# --- Language and time ---------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "fr")
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE must be one of fr, en; got {LANGUAGE_CODE!r}")
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "Europe/Paris")
try:
    ZoneInfo(TIME_ZONE)
except (ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE is not a known time zone: {TIME_ZONE!r}") from None
USE_I18N = True
USE_TZ = True

# --- Static files --------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Private files -------------------------------------------------------------
# Equipment documents (SPEC §13) live here, served only by views that check the reader:
# never under STATIC_ROOT, and no URL serves this directory. Back it up beside the database.
PRIVATE_MEDIA_ROOT = Path(env_str("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "private-media"))).resolve()
if PRIVATE_MEDIA_ROOT.is_relative_to(STATIC_ROOT.resolve()):
    raise ImproperlyConfigured("PRIVATE_MEDIA_ROOT must not lie under the static files.")

# --- Email -------------------------------------------------------------------
_email_url = env_str("EMAIL_URL", "console://" if DEBUG else "")
if _email_url:
    globals().update(email_config(_email_url))
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "plateforme@campus-cosmetopharma.fr")
# Connect and send timeout of the SMTP backend (seconds): a stalled mail server holds a
# worker at most this long per try; requests never wait for it (SPEC §12).
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)

# --- Background worker (SPEC §12) ----------------------------------------------
# `database` (default): the queue is a table of this database, run by `manage.py worker`;
# `immediate`: tasks run in the process that enqueues them (tests, tiny set-ups); or the
# dotted path of another django-tasks backend (a broker, e.g. django_tasks_rq.RQBackend).
_TASK_BACKENDS = {
    "database": "django_tasks_db.DatabaseBackend",
    "immediate": "django_tasks.backends.immediate.ImmediateBackend",
}
_task_backend = env_str("TASKS_BACKEND", "database")
if _task_backend not in _TASK_BACKENDS and "." not in _task_backend:
    raise ImproperlyConfigured(
        f"TASKS_BACKEND must be database, immediate or a dotted path, got {_task_backend!r}"
    )
TASKS = {"default": {"BACKEND": _TASK_BACKENDS.get(_task_backend, _task_backend)}}
# Delivery tries of a notification and the wait before each retry, in seconds (the last
# wait repeats): 1, 5, 25 and 125 minutes, then it is marked failed for platform managers.
NOTIFICATION_MAX_ATTEMPTS = env_int("NOTIFICATION_MAX_ATTEMPTS", 5)
NOTIFICATION_BACKOFF_SECONDS = [
    int(m) for m in env_list("NOTIFICATION_BACKOFF_SECONDS", ["60", "300", "1500", "7500"])
]
# How long a worker owns a notification it is delivering: one killed mid-delivery leaves
# it to be retried once the lease runs out (longer than a batch's connect and sends).
NOTIFICATION_LEASE_SECONDS = env_int("NOTIFICATION_LEASE_SECONDS", 300)
# Periodic jobs of the worker: seconds between runs (0 switches a job off).
WORKER_SCHEDULE = {
    "deliver_due_notifications": env_int("WORKER_SWEEP_SECONDS", 60),
    "release_no_shows": env_int("WORKER_NO_SHOWS_SECONDS", 300),
    "expire_waitlist": env_int("WORKER_WAITLIST_EXPIRY_SECONDS", 120),
    "repair_calendars": env_int("WORKER_CALENDAR_REPAIR_SECONDS", 3600),
    "prune": env_int("WORKER_PRUNE_SECONDS", 24 * 3600),
}
# The daily reminders of tomorrow's reservations leave at this local time (HH:MM).
REMINDERS_AT = env_str("REMINDERS_AT", "17:00")

# --- Security (SPEC §13, §14) ------------------------------------------------------
# Proxies whose X-Forwarded-For / X-Forwarded-Proto we believe (IPs or CIDRs; `unix` trusts
# an empty peer: gunicorn on a unix socket behind nginx; a /0 network is refused). Anyone
# else's forwarded headers are ignored: the client address is then the TCP peer.
TRUSTED_PROXIES = networks("TRUSTED_PROXIES", env_list("TRUSTED_PROXIES", []))
if TRUSTED_PROXIES and env_bool("SECURE_PROXY_SSL", True):
    # Django reads this header only from the peer, so set it only behind a proxy that
    # always overwrites it (nginx: proxy_set_header X-Forwarded-Proto $scheme).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Login lockout: failed logins are counted per account and per client address in the
# shared cache (below), so that every process of every server sees the same counts.
LOGIN_FAILURES_PER_ACCOUNT = env_int("LOGIN_FAILURES_PER_ACCOUNT", 10)
LOGIN_FAILURES_PER_ADDRESS = env_int("LOGIN_FAILURES_PER_ADDRESS", 30)
LOGIN_FAILURE_WINDOW = env_int("LOGIN_FAILURE_WINDOW", 900)  # seconds
LOGIN_LOCKOUT_SECONDS = env_int("LOGIN_LOCKOUT_SECONDS", 900)

_https = SITE_URL.startswith("https://")
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", _https)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000 if _https else 0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Off by default, on purpose: the preload list takes whole registrable domains
        # (a university's, not booking.univ-….fr alone) and leaving it takes months.
        # Whoever owns the domain turns it on; until then the warning says nothing new.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", _https)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", _https)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy (django-csp): our scripts and styles from our own origin only,
# no inline script. Inline `style=` attributes stay allowed: the planning grid positions
# its blocks with them, and the calendar library and Swagger UI set styles inline.
_csp_extra = {
    "script-src": env_list("CSP_SCRIPT_SRC", []),
    "style-src": env_list("CSP_STYLE_SRC", []),
    "img-src": env_list("CSP_IMG_SRC", []),
    "connect-src": env_list("CSP_CONNECT_SRC", []),
}
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", *_csp_extra["script-src"]],
        "style-src": ["'self'", "'unsafe-inline'", *_csp_extra["style-src"]],
        # data: for the small SVG icons of the stylesheets and Swagger UI.
        "img-src": ["'self'", "data:", *_csp_extra["img-src"]],
        "connect-src": ["'self'", *_csp_extra["connect-src"]],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", *_sso_origins],
        "frame-ancestors": ["'none'"],
        **(
            {"report-uri": [env_str("CSP_REPORT_URI", "")]} if env_str("CSP_REPORT_URI", "") else {}
        ),
    },
}
if env_bool("CSP_REPORT_ONLY", False):
    CONTENT_SECURITY_POLICY_REPORT_ONLY = CONTENT_SECURITY_POLICY
    CONTENT_SECURITY_POLICY = {}

# --- API -----------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes anonymous requests answer 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "core.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # DRF's parsers, refusing control characters in any text of a body.
    "DEFAULT_PARSER_CLASSES": [
        "core.api.parsers.JSONParser",
        "core.api.parsers.FormParser",
        "core.api.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "core.api.pagination.Pagination",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "core.api.schema.AutoSchema",
    "EXCEPTION_HANDLER": "core.api.errors.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"login": env_str("LOGIN_THROTTLE_RATE", "60/minute")},
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Platform booking API",
    "DESCRIPTION": "Booking of the shared equipment of the Campus CosmetoPharma platform.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    # Swagger UI from our own static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "EquipmentStatusEnum": "equipment.models.Equipment.Status",
        "ProjectKindEnum": "partners.models.ProjectKind",
        "PartnerKindEnum": "partners.models.Partner.Kind",
        "RateCategoryEnum": "partners.models.Partner.RateCategory",
        "ReservationStatusEnum": "reservations.models.ReservationStatus",
        "DocumentKindEnum": "equipment.models.EquipmentDocument.Kind",
        "PlanStatusEnum": "planner.models.PlanStatus",
    },
}

# --- django-scheduler ----------------------------------------------------------
# Its own views are not routed; these keep them closed should anyone route them.
FIRST_DAY_OF_WEEK = 1
CALENDAR_VIEW_PERM = True
CHECK_EVENT_PERM_FUNC = scheduler_deny
CHECK_CALENDAR_PERM_FUNC = scheduler_deny
CHECK_OCCURRENCE_PERM_FUNC = scheduler_deny

# --- Cache: the shared store of the login throttles ---------------------------------
# Every process of every server must see the same counters, so never a per-process
# cache: the database by default (its table comes with `migrate`), Redis when configured.
CACHE_URL = env_str("CACHE_URL", env_str("REDIS_URL", ""))
if CACHE_URL.startswith(("redis://", "rediss://", "unix://")):
    CACHES: dict[str, dict[str, object]] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            # Several sites (or test runs) may share one Redis.
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "platform-booking"),
        }
    }
elif CACHE_URL in ("", "db://"):
    CACHES = {
        "default": {
            # Django's database cache, but culling expired rows only: the stock one deletes
            # the lowest third of the keys past MAX_ENTRIES, lockout counters included.
            "BACKEND": "platform_booking.login_guard.UnculledDatabaseCache",
            "LOCATION": "django_cache",
            # Past this many rows, each write first deletes the expired ones.
            "OPTIONS": {"MAX_ENTRIES": 10_000},
        }
    }
else:
    raise ImproperlyConfigured(
        f"CACHE_URL must be redis://…, rediss://… or db://, got {CACHE_URL!r}"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # The pool warns at every failed reconnection; platform_booking.outage logs one line
        # when an outage starts and one when it ends instead.
        "psycopg.pool": {"level": "ERROR"},
        # pysaml2's schema library logs its own loading at INFO.
        "xmlschema": {"level": "WARNING"},
    },
}
