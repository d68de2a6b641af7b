from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = _("Core")

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import pre_save

        from core.signals import carry_tokens_across_rehash

        pre_save.connect(
            carry_tokens_across_rehash,
            sender=get_user_model(),
            dispatch_uid="core_carry_tokens_across_rehash",
        )
