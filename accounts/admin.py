"""Read-only list of the identities single sign-on linked to local users."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import ExternalIdentity


@admin.register(ExternalIdentity)
class ExternalIdentityAdmin(admin.ModelAdmin):
    list_display = ["user", "provider", "subject", "email", "last_login_at"]
    list_filter = ["provider"]
    search_fields = ["subject", "email", "user__username", "user__email"]
    # A platform manager may unlink an identity (delete): the next login creates a new user.
    readonly_fields = ["user", "provider", "subject", "email", "created_at", "last_login_at"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
