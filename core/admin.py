"""The audit trail in the admin: read only (entries are written by the services alone)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "by", "object_type", "object_id", "action", "equipment_id", "reason"]
    list_filter = ["object_type", "action"]
    search_fields = ["reason", "by__username"]
    date_hierarchy = "at"
    list_select_related = ["by"]
    readonly_fields = [f.name for f in AuditEntry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
