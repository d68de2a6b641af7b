"""Waitlist pages (SPEC §8): platform_booking.urls gathers them under the `web` namespace
with the booking pages they extend."""

from django.urls import URLPattern, path

from . import web

urlpatterns: list[URLPattern] = [
    path("waitlist/join/", web.join, name="waitlist_join"),
    path("waitlist/joined/", web.joined, name="waitlist_joined"),
    path("waitlist/<int:pk>/cancel/", web.cancel, name="waitlist_cancel"),
    path("manage/waitlist/", web.manage, name="waitlist_manage"),
]
