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


@pytest.mark.django_db
def test_schema_documents_the_free_filter(client, campus):
    client.force_login(campus.teacher)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    parameters = schema["paths"]["/api/v1/equipment/"]["get"]["parameters"]
    by_name = {p["name"]: p for p in parameters}
    for name in ("free_from", "free_to", "site", "category", "q"):
        assert name in by_name, sorted(by_name)
    assert by_name["free_from"]["schema"] == {"type": "string", "format": "date-time"}
