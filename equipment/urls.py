"""The inventory's pages; platform_booking.urls adds the equipment page of reservations."""

from django.urls import path

from . import views

urlpatterns = [
    path("", views.catalogue, name="catalogue"),
]
