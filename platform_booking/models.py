"""The worker's record of periodic runs: one row per job and time slot (SPEC §12)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PeriodicRun(models.Model):
    """A periodic job was enqueued for this slot. The unique (job, slot) pair is what keeps
    several workers, on several machines, from running one job twice for the same slot:
    only the worker whose insert succeeds enqueues it (platform_booking.scheduler)."""

    job = models.CharField(_("job"), max_length=50)
    slot = models.DateTimeField(_("slot"))
    enqueued_at = models.DateTimeField(_("enqueued at"))
    worker = models.CharField(_("worker"), max_length=100, blank=True)

    class Meta:
        ordering = ["-slot", "job"]
        verbose_name = _("periodic run")
        verbose_name_plural = _("periodic runs")
        constraints = [
            models.UniqueConstraint(fields=["job", "slot"], name="periodic_run_once_per_slot")
        ]

    def __str__(self) -> str:
        return f"{self.job} @ {timezone.localtime(self.slot):%Y-%m-%d %H:%M:%S}"
