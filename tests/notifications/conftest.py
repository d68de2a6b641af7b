from __future__ import annotations

import pytest

from .smtp import free_port


@pytest.fixture
def smtp_port(settings) -> int:
    """Mail goes over real SMTP to a port of the loopback (nothing listens there yet)."""
    port = free_port()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 1
    return port


@pytest.fixture
def addressed_campus(settings, campus):
    """The campus's people with email addresses, the rheometer with its manager."""
    settings.DEFAULT_FROM_EMAIL = "plateforme@example.org"
    for user in (campus.researcher, campus.industrial, campus.teacher, campus.eq_manager):
        user.email = f"{user.username}@example.org"
        user.save()
    campus.rheometer.managers.add(campus.eq_manager)
    return campus
