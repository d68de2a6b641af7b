"""`{% if user|may_plan %}`: whether the menu shows the term planner (one query at most)."""

from __future__ import annotations

from typing import Any

from django import template

from planner.permissions import may_use_planner

register = template.Library()


@register.filter
def may_plan(user: Any) -> bool:
    return may_use_planner(user)
