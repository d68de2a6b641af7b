"""`GET /api/v1/audit/`: who reads which entries, the filters, their errors, the paging."""

from __future__ import annotations

import pytest

from core.models import AuditEntry

pytestmark = pytest.mark.django_db
URL = "/api/v1/audit/"


def keys(body) -> set[tuple[str, int, str]]:
    return {(e["object_type"], e["object_id"], e["action"]) for e in body["results"]}


def refused(response, code: str, status: int) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code and body["detail"], body
    return body


def test_platform_managers_read_the_whole_trail(client_for, trail):
    response = client_for(trail.campus.admin).get(URL, {"page_size": 500})
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == AuditEntry.objects.count()
    assert {e["object_type"] for e in body["results"]} == {
        "reservation",
        "closure",
        "equipment",
        "project",
        "qualification",
    }
    # Newest first, ties (the fixture's closures share one instant) broken by id, newest first.
    order = [(e["at"], e["id"]) for e in body["results"]]
    assert order == sorted(order, reverse=True)
    assert len({e["id"] for e in body["results"]}) == len(order)


def test_an_equipment_manager_reads_what_concerns_their_equipment_only(client_for, trail):
    campus, closures = trail.campus, trail.closures
    body = client_for(campus.eq_manager).get(URL, {"page_size": 500}).json()
    seen = keys(body)
    assert ("reservation", trail.on_hplc.pk, "create") in seen
    assert ("reservation", trail.on_rheo.pk, "create") not in seen
    closures_seen = {pk for kind, pk, _ in seen if kind == "closure"}
    assert closures_seen == {closures.hplc.pk, closures.hplc_site.pk, closures.everywhere.pk}
    assert ("equipment", campus.hplc.pk, "update") in seen
    assert ("equipment", campus.rheometer.pk, "update") not in seen
    assert {kind for kind, _pk, _a in seen} == {
        "reservation",
        "closure",
        "equipment",
        "qualification",
    }
    assert all(e["equipment"] in (campus.hplc.pk, None) for e in body["results"]), body["results"]


def test_others_are_refused(client_for, trail):
    refused(client_for(trail.campus.researcher).get(URL), "permission_denied", 403)
    refused(client_for(trail.campus.referent).get(URL), "permission_denied", 403)
    refused(client_for(None).get(URL), "not_authenticated", 401)


def test_an_entry_says_who_when_what_from_what_to_what(client_for, trail):
    campus = trail.campus
    body = (
        client_for(campus.admin)
        .get(
            URL, {"object": "equipment", "object_id": campus.hplc.pk, "user": campus.eq_manager.pk}
        )
        .json()
    )
    (entry,) = body["results"]
    assert entry["by"] == campus.eq_manager.pk and entry["by_name"] == "gestionnaire"
    assert entry["changes"] == {"policy.buffer_minutes": [None, 10]}
    assert entry["equipment"] == campus.hplc.pk and entry["action"] == "update"
    body = client_for(campus.admin).get(
        URL, {"object": "reservation", "object_id": trail.on_hplc.pk}
    )
    (created,) = body.json()["results"]
    assert created["at"] == "2026-11-23T08:00:00+01:00"  # Paris time, like the other lists
    assert created["changes"]["status"] == [None, "confirmed"]
    assert created["changes"]["start"] == [None, "2026-11-25T09:00:00+00:00"]


def test_filters(client_for, trail):
    campus = trail.campus
    admin = client_for(campus.admin)
    closures = admin.get(URL, {"object": "closure"}).json()
    assert closures["count"] == 5
    mine = client_for(campus.eq_manager).get(URL, {"user": "me"}).json()
    assert {e["by"] for e in mine["results"]} == {campus.eq_manager.pk}
    assert mine["count"] == 1
    # Times without offset are Paris time; the end is excluded.
    at_eight = admin.get(URL, {"start": "2026-11-23T08:00", "end": "2026-11-23T09:00"}).json()
    assert keys(at_eight) == {("reservation", trail.on_hplc.pk, "create")}
    assert (
        admin.get(URL, {"start": "2026-11-23T08:00:01", "end": "2026-11-23T09:00"}).json()["count"]
        == 0
    )
    assert (
        admin.get(URL, {"start": "2026-11-23T07:00:00Z", "end": "2026-11-23T07:00:01Z"}).json()[
            "count"
        ]
        == 1
    )


@pytest.mark.parametrize(
    ("params", "code", "field"),
    [
        ({"object": "invoice"}, "bad_filter", "object"),
        ({"object_id": "12a"}, "bad_filter", "object_id"),
        ({"user": "someone"}, "bad_filter", "user"),
        ({"start": "yesterday"}, "invalid", "start"),
        ({"end": "2026-02-30T10:00"}, "invalid", "end"),
        ({"start": "2027-03-28T02:30"}, "ambiguous_time", "start"),
    ],
)
def test_bad_filters_answer_400_with_a_code(client_for, trail, params, code, field):
    body = refused(client_for(trail.campus.admin).get(URL, params), code, 400)
    assert field in body["fields"]


def test_paginated_like_the_other_lists(client_for, trail):
    body = client_for(trail.campus.admin).get(URL, {"page_size": 2}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    assert len(body["results"]) == 2 and body["next"]


def test_query_budget_does_not_grow_with_the_page(client_for, trail, django_assert_max_num_queries):
    manager, admin = client_for(trail.campus.eq_manager), client_for(trail.campus.admin)
    # Token and user, "manages equipment?", count, page: whatever the number of entries.
    with django_assert_max_num_queries(4):
        assert manager.get(URL, {"page_size": 500}).status_code == 200
    with django_assert_max_num_queries(3):
        assert admin.get(URL, {"page_size": 500}).status_code == 200


def test_the_schema_documents_the_trail(client, campus):
    client.force_login(campus.teacher)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/audit/"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert {"object", "object_id", "user", "start", "end", "page", "page_size"} <= names
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    fields = schema["components"]["schemas"]["AuditEntry"]["properties"]
    assert {"at", "by", "object_type", "object_id", "action", "changes", "reason"} <= set(fields)
