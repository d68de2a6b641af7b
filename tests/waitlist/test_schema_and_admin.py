"""The OpenAPI schema documents the waitlist; the admin shows entries read only."""

from __future__ import annotations

import pytest

from waitlist.models import WaitlistEntry

from .helpers import NOW, book, join, thu

pytestmark = pytest.mark.django_db


@pytest.fixture
def openapi(client, campus):
    client.force_login(campus.teacher)
    return client.get("/api/schema/", {"format": "json"}).json()


def test_booking_documents_the_202_and_the_waitlist_flag(openapi):
    booking = openapi["paths"]["/api/v1/reservations/"]["post"]
    assert {"201", "202", "409"} <= set(booking["responses"])
    queued = booking["responses"]["202"]["content"]["application/json"]["schema"]
    assert queued["$ref"] == "#/components/schemas/QueuedAnswer"
    variants = openapi["components"]["schemas"]["QueuedAnswer"]["oneOf"]
    assert len(variants) == 2
    body = booking["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    fields = openapi["components"]["schemas"][body.rsplit("/", 1)[1]]["properties"]
    assert fields["waitlist"]["type"] == "boolean" and fields["waitlist"]["default"] is False


def test_waitlist_endpoints_and_their_errors_are_documented(openapi):
    paths = openapi["paths"]
    assert {"400", "401", "403", "404", "503"} <= set(
        paths["/api/v1/waitlist/{id}/cancel/"]["post"]["responses"]
    )
    assert {"200", "404"} <= set(paths["/api/v1/waitlist/{id}/"]["get"]["responses"])
    names = {p["name"] for p in paths["/api/v1/waitlist/"]["get"]["parameters"]}
    assert {"equipment", "status", "user", "page"} <= names
    entry = openapi["components"]["schemas"]["WaitlistEntry"]["properties"]
    assert list(entry) == [
        "id",
        "equipment",
        "project",
        "booked_by",
        "start",
        "end",
        "title",
        "expected_participants",
        "status",
        "position",
        "reservation",
        "group",
        "created_at",
    ]
    assert entry["group"]["nullable"] is True and entry["group"]["format"] == "uuid"


def test_admin_shows_entries_read_only(client, campus, make_user):
    member = make_user("doctorant")
    campus.research.members.add(member)
    book(campus.researcher, campus.research, campus.rheometer, thu(10), thu(12))
    entry = join(member, campus.research, campus.rheometer, thu(10), thu(12), now=NOW)
    superuser = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    page = client.get(f"/admin/waitlist/waitlistentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert client.get("/admin/waitlist/waitlistentry/add/").status_code == 403
    assert WaitlistEntry.objects.count() == 1
