from django.apps import AppConfig


class PlatformBookingConfig(AppConfig):
    name = "platform_booking"
    verbose_name = "Platform booking"

    def ready(self) -> None:
        from django.core.signals import request_finished

        # Connects the login lockout's counters to Django's login signals.
        from . import login_guard  # noqa: F401
        from .collector import freeze_after_first_request

        request_finished.connect(freeze_after_first_request, dispatch_uid="freeze_after_first")
