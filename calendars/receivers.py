"""Keep the django-scheduler mirror in step with what the reservation services announce."""

from __future__ import annotations

from typing import Any

from core.events import closures_changed, equipment_sited, reservations_changed
from reservations.models import Closure

from .sync import sync_after_commit


def on_reservations_changed(
    sender: Any, *, action: str, reservations: list[Any], **kwargs: Any
) -> None:
    # A completed reservation keeps its event as it was ("Reserved – kind").
    if action != "completed":
        sync_after_commit(reservation_ids=[r.pk for r in reservations])


def on_closures_changed(sender: Any, *, closure_ids: list[int], **kwargs: Any) -> None:
    sync_after_commit(closure_ids=closure_ids)


def on_equipment_sited(sender: Any, *, site_ids: list[int | None], **kwargs: Any) -> None:
    """An equipment new at a site, or moved there, shows the closures that now cover it:
    the site's and the campus-wide ones."""
    closures = Closure.objects.touching(site_ids=[pk for pk in site_ids if pk])
    sync_after_commit(closure_ids=closures.values_list("pk", flat=True))


def connect() -> None:
    reservations_changed.connect(on_reservations_changed, dispatch_uid="calendars.sync")
    closures_changed.connect(on_closures_changed, dispatch_uid="calendars.sync")
    equipment_sited.connect(on_equipment_sited, dispatch_uid="calendars.sync")
