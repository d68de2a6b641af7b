"""Booking pages (SPEC §8): planning, booking form, my reservations, managers' pages."""

from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("planning/", views.planning, name="planning"),
    path("book/", views.book, name="book"),
    path("book/done/", views.book_done, name="book_done"),
    path("my/", views.my_reservations, name="my"),
    path("my/<int:pk>/cancel/", views.cancel, name="cancel"),
    path("my/<int:pk>/check-in/", views.check_in, name="check_in"),
    path("my/<int:pk>/check-out/", views.check_out, name="check_out"),
    path("manage/approvals/", views.approvals, name="approvals"),
    path(
        "manage/approvals/<int:pk>/approve/",
        views.decide,
        {"decision": "approve"},
        name="approve",
    ),
    path("manage/approvals/<int:pk>/reject/", views.decide, {"decision": "reject"}, name="reject"),
    path("manage/closures/", views.closures, name="closures"),
    path("manage/closures/<int:pk>/delete/", views.closure_remove, name="closure_delete"),
    path("manage/closures/import/", views.closures_import, name="closures_import"),
    path("manage/closures/holidays/", views.closures_holidays, name="closures_holidays"),
]
