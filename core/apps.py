from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.backends.signals import connection_created
        from django.db.models.signals import pre_save

        from core.db import use_fast_timestamps
        from core.signals import carry_tokens_across_rehash

        connection_created.connect(use_fast_timestamps, dispatch_uid="core_fast_timestamps")

        pre_save.connect(
            carry_tokens_across_rehash,
            sender=get_user_model(),
            dispatch_uid="core_carry_tokens_across_rehash",
        )
