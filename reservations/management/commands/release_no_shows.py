"""Mark no-shows after the check-in grace and complete ended reservations."""

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from reservations.services import release_no_shows


class Command(BaseCommand):
    help = "Mark no-shows after the check-in grace and complete ended reservations."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = release_no_shows(now=timezone.now())
        self.stdout.write(f"{counts['no_show']} no-show(s), {counts['completed']} completed.")
