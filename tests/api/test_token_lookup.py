"""The token lookup of every API request (core.api.authentication.token_with_user) reads
the token and its user as the ORM would, in one query, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from core.api.authentication import token_with_user
from core.models import ApiToken, token_digest

pytestmark = pytest.mark.django_db


def fields_of(instance):
    return {f.attname: getattr(instance, f.attname) for f in type(instance)._meta.concrete_fields}


def test_the_token_and_its_user_read_as_the_orm_reads_them(make_user, django_assert_num_queries):
    user = make_user("lecteur", is_staff=True, first_name="Zoé", email="zoe@example.org")
    user.last_login = datetime(2026, 12, 1, 8, 30, 15, 123456, tzinfo=UTC)
    user.save()
    token, key = ApiToken.issue(user)
    with django_assert_num_queries(1):
        found = token_with_user(token_digest(key))
    assert found is not None
    assert fields_of(found.user) == fields_of(get_user_model().objects.get(pk=user.pk))
    assert isinstance(found.user.is_staff, bool) and found.user.last_login.tzinfo is not None
    stored = ApiToken.objects.get(pk=token.pk)
    for name in ("id", "digest", "user_id", "password_fingerprint"):
        assert getattr(found, name) == getattr(stored, name)
    assert found.user_id == user.pk and found.is_valid()
    # Its creation time is read when asked for.
    assert found.created_at == stored.created_at


def test_an_inactive_user_or_unknown_digest(make_user):
    user = make_user("parti", is_active=False)
    _token, key = ApiToken.issue(user)
    found = token_with_user(token_digest(key))
    assert found is not None and found.user.is_active is False and not found.is_valid()
    assert token_with_user(token_digest("nothing")) is None
