"""The test provider's settings: its database, key and client come from its config file."""

import json
import os
from pathlib import Path

CONFIG = json.loads(Path(os.environ["OIDC_PROVIDER_CONFIG"]).read_text())

DEBUG = False
SECRET_KEY = "test-provider-only"
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oauth2_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tests.accounts.oidc_provider.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [Path(__file__).parent / "templates"],
        "APP_DIRS": True,
    }
]
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": CONFIG["database"]}}
# Tables made straight from the models (migrate --run-syncdb): quicker than migrations.
MIGRATION_MODULES = {app: None for app in ("auth", "contenttypes", "sessions", "oauth2_provider")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
USE_TZ = True
LOGIN_URL = "/login/"
# The provider's own cookie names: the test's browser talks to our app by another client.
SESSION_COOKIE_NAME = "provider_session"

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": Path(CONFIG["private_key"]).read_text(),
    "OIDC_RP_INITIATED_LOGOUT_ENABLED": True,
    # A logout named by our ID token ends the provider's session without asking.
    "OIDC_RP_INITIATED_LOGOUT_ALWAYS_PROMPT": False,
    "OAUTH2_VALIDATOR_CLASS": "tests.accounts.oidc_provider.validators.ClaimsValidator",
    "SCOPES": {"openid": "OpenID Connect", "email": "Email", "profile": "Profile"},
    "PKCE_REQUIRED": True,
}
