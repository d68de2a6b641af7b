from django.apps import AppConfig


class PlatformBookingConfig(AppConfig):
    name = "platform_booking"
    verbose_name = "Platform booking"

    def ready(self) -> None:
        # Connects the login lockout's counters to Django's login signals.
        from . import login_guard  # noqa: F401
