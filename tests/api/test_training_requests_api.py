"""Training requests' endpoints (SPEC §7, §13): ask, list and filter, read, accept (which
qualifies: the user can then book), decline, cancel, with the codes of refusals and the
404 of SPEC §6 for whoever may not see a request.

Time is frozen at Monday 2026-11-23 08:00 Europe/Paris.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from equipment.models import Qualification, TrainingRequest

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
URL = "/api/v1/qualifications/requests/"
FIELDS = {
    "id",
    "user",
    "equipment",
    "status",
    "message",
    "reason",
    "valid_until",
    "decided_by",
    "decided_at",
    "created_at",
}


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW)


def ask(client, equipment, **extra):
    return client.post(URL, {"equipment": equipment.pk, **extra}, format="json")


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"]
    return body


def book_hplc(client, campus):
    return client.post(
        "/api/v1/reservations/",
        {
            "equipment": campus.hplc.pk,
            "project": campus.research.pk,
            "start": "2026-12-02T10:00:00+01:00",
            "end": "2026-12-02T12:00:00+01:00",
            "title": "Dosage",
        },
        format="json",
    )


def test_ask_then_accept_then_book(client_for, campus):
    researcher, manager = client_for(campus.researcher), client_for(campus.eq_manager)
    assert_error(book_hplc(researcher, campus), 400, "not_qualified")

    response = ask(researcher, campus.hplc, message="Thèse : dosages HPLC")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == FIELDS
    assert (body["user"], body["equipment"], body["status"], body["message"]) == (
        campus.researcher.pk,
        campus.hplc.pk,
        "pending",
        "Thèse : dosages HPLC",
    )

    response = manager.post(f"{URL}{body['id']}/accept/", {"valid_until": "2027-11-30"})
    assert response.status_code == 200, response.content
    accepted = response.json()
    assert (accepted["status"], accepted["valid_until"], accepted["decided_by"]) == (
        "accepted",
        "2027-11-30",
        campus.eq_manager.pk,
    )
    assert Qualification.objects.get(user=campus.researcher, equipment=campus.hplc).valid_until == (
        date(2027, 11, 30)
    )
    response = book_hplc(researcher, campus)
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "confirmed"


def test_refusals_answer_their_codes(client_for, campus):
    researcher = client_for(campus.researcher)
    assert_error(ask(researcher, campus.rheometer), 400, "qualification_not_required")
    assert ask(researcher, campus.hplc).status_code == 201
    assert_error(ask(researcher, campus.hplc), 400, "training_request_pending")
    # An unknown equipment is not found; a missing or bad one is invalid input.
    assert_error(researcher.post(URL, {"equipment": 999999}, format="json"), 404, "not_found")
    body = assert_error(researcher.post(URL, {}, format="json"), 400, "invalid")
    assert "equipment" in body["fields"]
    # Qualified beyond today: nothing to ask.
    teacher = client_for(campus.teacher)
    Qualification.objects.create(
        user=campus.teacher, equipment=campus.hplc, valid_until=date(2027, 1, 1)
    )
    assert_error(ask(teacher, campus.hplc), 400, "already_qualified")
    assert TrainingRequest.objects.count() == 1


def test_accept_needs_a_valid_date_and_decline_a_reason(client_for, campus):
    pk = ask(client_for(campus.researcher), campus.hplc).json()["id"]
    manager = client_for(campus.eq_manager)
    body = assert_error(manager.post(f"{URL}{pk}/accept/", {}, format="json"), 400, "invalid")
    assert "valid_until" in body["fields"]
    body = assert_error(
        manager.post(f"{URL}{pk}/accept/", {"valid_until": "2026-11-22"}, format="json"),
        400,
        "invalid",
    )
    assert "valid_until" in body["fields"]
    body = assert_error(
        manager.post(f"{URL}{pk}/decline/", {"reason": " "}, format="json"), 400, "required"
    )
    assert "reason" in body["fields"]

    response = manager.post(f"{URL}{pk}/decline/", {"reason": "Session pleine"}, format="json")
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["reason"]) == ("declined", "Session pleine")
    assert not Qualification.objects.exists()
    # Decided: no second decision, no cancel.
    assert_error(
        manager.post(f"{URL}{pk}/accept/", {"valid_until": "2027-01-01"}, format="json"),
        400,
        "training_request_decided",
    )
    assert_error(
        client_for(campus.researcher).post(f"{URL}{pk}/cancel/"), 400, "training_request_decided"
    )


def test_the_requester_cancels_their_own_request(client_for, campus):
    researcher = client_for(campus.researcher)
    pk = ask(researcher, campus.hplc).json()["id"]
    # The managers decline (with a reason) rather than cancel.
    assert_error(client_for(campus.eq_manager).post(f"{URL}{pk}/cancel/"), 403, "permission_denied")
    response = researcher.post(f"{URL}{pk}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    # The requester does not decide their own request.
    pk = ask(researcher, campus.hplc).json()["id"]
    assert_error(
        researcher.post(f"{URL}{pk}/accept/", {"valid_until": "2027-01-01"}, format="json"),
        403,
        "permission_denied",
    )


def test_visibility_of_section_6(client_for, campus, make_user):
    pk = ask(client_for(campus.researcher), campus.hplc).json()["id"]
    other_manager = make_user("autre_gestionnaire")
    campus.rheometer.managers.add(other_manager)
    for user in (campus.outsider, other_manager, campus.teacher):
        client = client_for(user)
        assert client.get(URL).json()["count"] == 0
        assert_error(client.get(f"{URL}{pk}/"), 404, "not_found")
        assert_error(
            client.post(f"{URL}{pk}/accept/", {"valid_until": "2027-01-01"}, format="json"),
            404,
            "not_found",
        )
        assert_error(client.post(f"{URL}{pk}/decline/", {"reason": "x"}), 404, "not_found")
        assert_error(client.post(f"{URL}{pk}/cancel/"), 404, "not_found")
    for user in (campus.researcher, campus.eq_manager, campus.admin):
        client = client_for(user)
        assert [r["id"] for r in client.get(URL).json()["results"]] == [pk]
        assert client.get(f"{URL}{pk}/").status_code == 200
    # A platform manager decides on any equipment.
    response = client_for(campus.admin).post(
        f"{URL}{pk}/accept/", {"valid_until": "2027-06-30"}, format="json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["decided_by"] == campus.admin.pk
    assert client_for(None).get(URL).status_code == 401


def test_list_filters(client_for, campus):
    campus.rheometer.requires_qualification = True
    campus.rheometer.save()
    campus.rheometer.managers.add(campus.eq_manager)
    researcher = client_for(campus.researcher)
    hplc = ask(researcher, campus.hplc).json()["id"]
    rheo = ask(researcher, campus.rheometer).json()["id"]
    researcher.post(f"{URL}{rheo}/cancel/")
    manager = client_for(campus.eq_manager)

    def ids(**params):
        response = manager.get(URL, params)
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["results"]}

    assert ids() == {hplc, rheo}
    assert ids(status="pending") == {hplc}
    assert ids(status="cancelled") == {rheo}
    assert ids(equipment=campus.rheometer.pk) == {rheo}
    assert_error(manager.get(URL, {"status": "lost"}), 400, "invalid")
    assert_error(manager.get(URL, {"equipment": "x"}), 400, "bad_filter")


def test_the_schema_documents_the_endpoints(client, campus):
    client.force_login(campus.teacher)
    paths = client.get("/api/schema/", {"format": "json"}).json()["paths"]
    create = paths["/api/v1/qualifications/requests/"]["post"]["responses"]
    assert {"201", "400", "403", "404"} <= set(create)
    for action in ("accept", "decline", "cancel"):
        responses = paths[f"/api/v1/qualifications/requests/{{id}}/{action}/"]["post"]["responses"]
        assert {"200", "400", "403", "404"} <= set(responses)
    listing = paths["/api/v1/qualifications/requests/"]["get"]
    assert {"status", "equipment", "page"} <= {p["name"] for p in listing["parameters"]}


def test_the_list_costs_the_same_queries_however_many_requests(
    client_for, campus, make_user, django_assert_max_num_queries
):
    manager = client_for(campus.eq_manager)
    for n in range(6):
        ask(client_for(make_user(f"etudiant{n}")), campus.hplc)
    with django_assert_max_num_queries(6):  # token, count, page (+ session bookkeeping)
        response = manager.get(URL)
    assert response.json()["count"] == 6
