"""The django-scheduler mirror cannot be edited in the admin (calendars.sync writes it)."""

from django.contrib import admin
from schedule.models import Calendar, Event, EventRelation


def test_the_scheduler_models_are_not_in_the_admin():
    for model in (Calendar, Event, EventRelation):
        assert not admin.site.is_registered(model), model


def test_closures_are_in_the_admin_read_only():
    from reservations.models import Closure

    closure_admin = admin.site._registry[Closure]
    assert closure_admin.has_add_permission(request=None) is False
    assert closure_admin.has_change_permission(request=None) is False


def test_removing_a_closure_in_the_admin_goes_through_the_service(
    campus, client, django_capture_on_commit_callbacks
):
    """The service removes the closure's calendar event too, and refuses a manager who may
    not remove it."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from django.contrib.contenttypes.models import ContentType

    from reservations.models import Closure
    from reservations.services import closure_create

    paris = ZoneInfo("Europe/Paris")
    with django_capture_on_commit_callbacks(execute=True):
        closure, _ = closure_create(
            user=campus.admin,
            equipment=campus.rheometer,
            start=datetime(2026, 12, 7, 8, tzinfo=paris),
            end=datetime(2026, 12, 7, 19, tzinfo=paris),
            reason="Maintenance",
            now=datetime(2026, 11, 23, 8, tzinfo=paris),
        )
    linked = EventRelation.objects.filter(
        content_type=ContentType.objects.get_for_model(Closure), object_id=closure.pk
    )
    assert linked.count() == 1
    campus.admin.is_superuser = True  # the admin's own model permissions
    campus.admin.save(update_fields=["is_superuser"])
    client.force_login(campus.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/reservations/closure/{closure.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not Closure.objects.filter(pk=closure.pk).exists()
    assert linked.count() == 0  # the service's event reached the calendar mirror
