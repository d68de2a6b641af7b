"""Permission hook handed to django-scheduler: its own views are never open to anyone."""

from typing import Any


def deny(obj: Any, user: Any) -> bool:
    return False
