"""The django-scheduler mirror is written only by calendars.sync (from the reservation
table, the source of truth): its models are not edited in the admin, where a change would
go unchecked and be overwritten by the next sync."""

import schedule.admin  # noqa: F401  (registers them first, whatever the apps' order)
from django.contrib import admin
from schedule.models import Calendar, CalendarRelation, Event, EventRelation, Occurrence, Rule

for model in (Calendar, CalendarRelation, Event, EventRelation, Occurrence, Rule):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
