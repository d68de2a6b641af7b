from django.apps import AppConfig


class PlatformBookingConfig(AppConfig):
    name = "platform_booking"
    verbose_name = "Platform booking"
