"""Admin for closures: read-only, and removal goes through the closure service."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from .models import Closure
from .services.closures import closure_delete


@admin.register(Closure)
class ClosureAdmin(admin.ModelAdmin):
    """Closures displace reservations, so they are made by the closure service (pages,
    API, import); the admin lists them and removes them through the same service."""

    list_display = ["reason", "kind", "equipment", "site", "start", "end", "source"]
    list_filter = ["kind", "site"]
    search_fields = ["reason"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Closure) -> None:
        closure_delete(closure=obj, user=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Closure]) -> None:
        for closure in queryset.select_related("equipment", "site"):
            closure_delete(closure=closure, user=request.user)
