"""What the feeds remember: when each reader's view of a feed last changed."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class FeedState(models.Model):
    """The ETag a reader last got from a feed, and since when the feed has read so.

    Last-Modified must move forward whenever the body changes, also when a closure is
    deleted, the reader joins a project, or a reservation enters the window, which no
    row's own time tells: comparing the ETag with the one remembered here does.
    """

    key = models.CharField(_("key"), max_length=255, unique=True)
    etag = models.CharField(_("ETag"), max_length=80)
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("feed state")
        verbose_name_plural = _("feed states")

    def __str__(self) -> str:
        return self.key
