"""The waitlist in the admin: read only (entries are written by waitlist.services, which
audit and notify)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import WaitlistEntry

FIELDS = (
    "equipment",
    "project",
    "booked_by",
    "start",
    "end",
    "title",
    "expected_participants",
    "status",
    "priority",
    "displaced",
    "reservation",
    "displaced_reservation",
    "group",
    "created_at",
    "updated_at",
)


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(admin.ModelAdmin):
    list_display = ["title", "equipment", "booked_by", "start", "end", "status", "priority"]
    list_filter = ["status", "priority", "displaced", "equipment"]
    search_fields = ["title", "booked_by__username", "equipment__code"]
    list_select_related = ["equipment", "booked_by"]
    date_hierarchy = "start"
    fields = FIELDS
    readonly_fields = FIELDS

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
