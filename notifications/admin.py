"""The outbox for platform managers: what was sent, skipped, and what failed (SPEC §12)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import Notification, Status


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
        "last_error",
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

    @admin.action(description=_("Try the selected notifications again now"))
    def retry(self, request: HttpRequest, queryset: QuerySet[Notification]) -> None:
        count = queryset.exclude(status=Status.SENT).update(
            status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), leased_until=None
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
