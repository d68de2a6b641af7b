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


# --- every operation documents its error answers (core.api.schema) -------------------------


@pytest.fixture
def openapi(client, campus):
    client.force_login(campus.teacher)
    return client.get("/api/schema/", {"format": "json"}).json()


def _operations(openapi):
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if method in {"get", "post", "patch", "put", "delete"}:
                yield f"{method.upper()} {path}", operation


def _error_ref(response):
    return response["content"]["application/json"]["schema"]["$ref"]


@pytest.mark.django_db
def test_every_operation_documents_unavailable_and_login_errors(openapi):
    for name, operation in _operations(openapi):
        responses = operation["responses"]
        assert "503" in responses, name
        assert responses["503"]["headers"]["Retry-After"]["required"] is True, name
        assert _error_ref(responses["503"]) == "#/components/schemas/Error", name
        assert "401" in responses, name
        if name != "POST /api/v1/auth/token/":
            assert "403" in responses, name


@pytest.mark.django_db
def test_error_statuses_follow_what_the_operation_takes(openapi):
    operations = dict(_operations(openapi))
    me = operations["GET /api/v1/me/"]["responses"]
    assert "400" not in me and "404" not in me and "413" not in me  # no input, no object
    detail = operations["GET /api/v1/reservations/{id}/"]["responses"]
    assert {"400", "404"} <= set(detail)  # an id beyond the database's integers is a 400
    listing = operations["GET /api/v1/sites/"]["responses"]
    assert "404" in listing  # ?page= past the last page
    write = operations["POST /api/v1/closures/"]["responses"]
    assert {"400", "403", "413", "415"} <= set(write)
    login = operations["POST /api/v1/auth/token/"]
    assert "429" in login["responses"]
    assert login["responses"]["429"]["headers"]["Retry-After"]["required"] is True
    assert {} in login["security"]  # open to anonymous callers


@pytest.mark.django_db
def test_error_body_reads_code_detail_and_fields(openapi):
    error = openapi["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"code", "detail"}
    assert error["properties"]["fields"]["additionalProperties"]["type"] == "array"


@pytest.mark.django_db
def test_booking_and_move_document_the_conflict_with_alternatives(openapi):
    operations = dict(_operations(openapi))
    for name in ("POST /api/v1/reservations/", "PATCH /api/v1/reservations/{id}/"):
        ref = _error_ref(operations[name]["responses"]["409"])
        assert ref == "#/components/schemas/Conflict", name
    conflict = openapi["components"]["schemas"]["Conflict"]
    assert {"code", "detail", "conflicts", "alternatives"} <= set(conflict["required"])


@pytest.mark.django_db
def test_cancel_documents_the_reservation_and_what_was_cancelled(openapi, client_for, campus):
    from datetime import timedelta

    from django.utils import timezone

    operations = dict(_operations(openapi))
    ok = operations["POST /api/v1/reservations/{id}/cancel/"]["responses"]["200"]
    ref = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schema = openapi["components"]["schemas"][ref]
    assert schema["type"] == "object"
    assert "cancelled" in schema["required"] and "id" in schema["required"]
    # ... and the answer has that shape.
    client = client_for(campus.researcher)
    day = timezone.localdate() + timedelta(days=7)
    day += timedelta(days=(1 - day.weekday()) % 7)  # a Tuesday, one or two weeks ahead
    booked = client.post(
        "/api/v1/reservations/",
        {
            "equipment": campus.rheometer.pk,
            "project": campus.open_research.pk,
            "start": f"{day.isoformat()}T10:00",
            "end": f"{day.isoformat()}T11:00",
            "title": "Essai",
        },
        format="json",
    )
    assert booked.status_code == 201, booked.content
    body = client.post(f"/api/v1/reservations/{booked.json()['id']}/cancel/", {}, format="json")
    assert body.status_code == 200, body.content
    assert set(body.json()) >= set(schema["required"])


@pytest.mark.django_db
def test_closure_import_refusals_are_documented_as_answered(openapi, client_for, campus):
    operations = dict(_operations(openapi))
    refused = operations["POST /api/v1/closures/import/"]["responses"]["400"]
    ref = _error_ref(refused).rsplit("/", 1)[1]
    required = set(openapi["components"]["schemas"][ref]["required"])
    # A form without a file answers `invalid` with fields, and no created/skipped/errors.
    body = client_for(campus.admin).post("/api/v1/closures/import/", {}, format="multipart")
    assert body.status_code == 400
    assert required <= set(body.json()), (required, body.json())


@pytest.mark.django_db
def test_a_series_booking_answers_the_documented_group_shape(openapi, client_for, campus):
    from datetime import timedelta

    from django.utils import timezone

    operations = dict(_operations(openapi))
    ok = operations["POST /api/v1/reservations/"]["responses"]["201"]
    answer = ok["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
    schemas = openapi["components"]["schemas"]
    shapes = [schemas[one["$ref"].rsplit("/", 1)[1]] for one in schemas[answer]["oneOf"]]
    client = client_for(campus.researcher)
    day = timezone.localdate() + timedelta(days=7)
    day += timedelta(days=(1 - day.weekday()) % 7)  # a Tuesday, one or two weeks ahead
    body = client.post(
        "/api/v1/reservations/",
        {
            "equipment": campus.rheometer.pk,
            "project": campus.open_research.pk,
            "start": f"{day.isoformat()}T10:00",
            "end": f"{day.isoformat()}T11:00",
            "title": "Essai",
            "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=2"},
        },
        format="json",
    )
    assert body.status_code == 201, body.content
    # The answer has every key of exactly one of the documented shapes.
    matching = [shape for shape in shapes if set(shape["required"]) <= set(body.json())]
    assert len(matching) == 1, (body.json().keys(), [s["required"] for s in shapes])
    assert "reservations" in matching[0]["required"]


def test_errors_documented_with_words_only_get_the_error_body():
    """A view naming an error without a body (as a token login may) gets `Error`, and a
    throttled one `Retry-After`."""
    from django.urls import path
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.utils import OpenApiResponse, extend_schema
    from rest_framework import serializers
    from rest_framework.permissions import AllowAny
    from rest_framework.response import Response
    from rest_framework.throttling import AnonRateThrottle
    from rest_framework.views import APIView

    class Login(serializers.Serializer):
        username = serializers.CharField()

    class Throttle(AnonRateThrottle):
        rate = "1/minute"

    class LoginView(APIView):
        permission_classes = [AllowAny]
        throttle_classes = [Throttle]

        @extend_schema(
            request=Login,
            responses={200: Login, 400: OpenApiResponse(description="Wrong password.")},
            auth=[],
        )
        def post(self, request):
            return Response({})

    schema = SchemaGenerator(patterns=[path("api/v1/login/", LoginView.as_view())]).get_schema(
        request=None, public=True
    )
    responses = schema["paths"]["/api/v1/login/"]["post"]["responses"]
    assert responses["400"]["description"] == "Wrong password."
    assert _error_ref(responses["400"]) == "#/components/schemas/Error"
    assert responses["429"]["headers"]["Retry-After"]["required"] is True
    assert _error_ref(responses["429"]) == "#/components/schemas/Error"
