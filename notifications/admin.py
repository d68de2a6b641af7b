"""The outbox for platform managers: what was sent, skipped, and what failed (SPEC §12)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.db.models.functions import Now
from django.http import HttpRequest
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from core.roles import is_platform_manager

from .models import Notification, Status

# What a platform manager may try again: never a pending row, which a worker may be
# delivering right now (it is retried by itself anyway).
RETRYABLE = (Status.FAILED, Status.SKIPPED)


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "error",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["recipient__username", "recipient__email", "last_error"]
    list_select_related = ["recipient"]
    date_hierarchy = "created_at"
    actions = ["retry"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # written by the services only

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return is_platform_manager(request.user)

    @admin.display(description=_("last error"), ordering="last_error")
    def error(self, obj: Notification) -> str:
        # The reasons for skipping are stored in English and shown in the reader's language;
        # a mail server's own words are shown as they are.
        return gettext(obj.last_error) if obj.last_error else ""

    @admin.action(
        description=_("Try the selected notifications again now"),
        permissions=["retry"],
    )
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        selected = queryset.count()
        count = queryset.filter(status__in=RETRYABLE).update(
            status=Status.PENDING, attempts=0, next_attempt_at=Now(), leased_until=None
        )
        self.message_user(
            request,
            ngettext(
                "%(count)d notification will be tried again.",
                "%(count)d notifications will be tried again.",
                count,
            )
            % {"count": count},
            messages.SUCCESS,
        )
        if selected > count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d notification was left as it was: only failed or skipped "
                    "ones are tried again.",
                    "%(count)d notifications were left as they were: only failed or "
                    "skipped ones are tried again.",
                    selected - count,
                )
                % {"count": selected - count},
                messages.WARNING,
            )
