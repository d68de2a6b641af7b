"""The OpenAPI schema generates without a warning and the docs page serves our own assets."""

from __future__ import annotations

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_schema_generates_without_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    # --fail-on-warn turns any warning of drf-spectacular into an error.
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    text = target.read_text()
    for path in ("/api/v1/equipment/", "/api/v1/projects/", "/api/v1/me/", "/api/v1/auth/token/"):
        assert f"{path}:" in text


@pytest.mark.django_db
def test_docs_page_loads_no_cdn(client, campus):
    client.force_login(campus.teacher)
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui" in html
    assert "cdn." not in html and "unpkg" not in html
