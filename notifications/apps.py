from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from django.core import checks

        from . import receivers
        from .checks import lease_outlives_a_send

        receivers.connect()
        checks.register(lease_outlives_a_send)
