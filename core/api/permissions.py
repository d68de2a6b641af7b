"""DRF permission classes built on platform_booking.roles."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from core.roles import is_platform_manager


class ReadAnyWriteStaff(BasePermission):
    """Reference data: every logged-in user reads, platform managers write."""

    def has_permission(self, request, view) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        return request.method in SAFE_METHODS or is_platform_manager(request.user)
