"""System checks of the outbox's settings (SPEC §12)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Warning
from django.utils.translation import gettext as _


def lease_outlives_a_send(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """A worker renews a row's lease before each message; the lease must outlive the send
    of one message (a few waits of EMAIL_TIMEOUT at most), or a slow mail server lets a
    second worker take the row and send it too."""
    timeout = getattr(settings, "EMAIL_TIMEOUT", None)
    lease = settings.NOTIFICATION_LEASE_SECONDS
    if timeout is None or lease >= 2 * timeout:
        return []
    return [
        Warning(
            _(
                "NOTIFICATION_LEASE_SECONDS (%(lease)s) is shorter than twice EMAIL_TIMEOUT "
                "(%(timeout)s): a slow mail server may have a notification sent twice."
            )
            % {"lease": lease, "timeout": timeout},
            hint=_("Make the lease longer than a few email timeouts (default: 300 s and 10 s)."),
            id="notifications.W001",
        )
    ]
