"""Managers' closures pages, included by platform_booking.urls in the `web` namespace."""

from django.urls import path

from . import web

urlpatterns = [
    path("manage/closures/", web.closures, name="closures"),
    path("manage/closures/<int:pk>/delete/", web.closure_remove, name="closure_delete"),
    path("manage/closures/import/", web.closures_import, name="closures_import"),
    path("manage/closures/holidays/", web.closures_holidays, name="closures_holidays"),
]
