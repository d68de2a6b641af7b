"""Fixtures of the security tests: an empty shared cache for every test."""

from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_cache(db):
    # The database cache's table is not emptied between transactional tests.
    cache.clear()
    yield
    cache.clear()
