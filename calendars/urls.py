"""iCalendar feeds (SPEC §4)."""

from django.urls import path

from . import views

app_name = "calendars"

urlpatterns = [
    path("equipment/<int:pk>.ics", views.equipment_feed, name="equipment"),
    path("projects/<int:pk>.ics", views.project_feed, name="project"),
    path("partners/<int:pk>.ics", views.partner_feed, name="partner"),
    path("me.ics", views.my_feed, name="me"),
]
