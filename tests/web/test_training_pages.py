"""Training requests' pages (SPEC §8, §13): the request button on the equipment's page and
the state of one's request, the managers' queue with accept (a date) and decline (a
reason), each form posting then redirecting; 403 for non-managers, 404 for the requests
of equipment a manager does not manage."""

from __future__ import annotations

from datetime import date

import pytest

from core.roles import SYSTEM
from equipment.models import Qualification, TrainingRequest
from equipment.services import qualification_grant, training_request_create

from .conftest import NOW

pytestmark = pytest.mark.django_db

QUEUE = "/manage/training/"


def page(client, equipment) -> str:
    response = client.get(f"/equipment/{equipment.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def ask(campus, user=None):
    return training_request_create(
        user=user or campus.researcher, equipment=campus.hplc, message="Thèse", now=NOW
    )


def test_the_equipment_page_offers_the_request_and_shows_it_pending(client, campus):
    client.force_login(campus.researcher)
    html = page(client, campus.hplc)
    assert 'id="request-training"' in html
    assert f'action="/equipment/{campus.hplc.pk}/training/"' in html

    response = client.post(f"/equipment/{campus.hplc.pk}/training/", {"message": "Pour ma thèse"})
    assert response.status_code == 302
    assert response["Location"] == f"/equipment/{campus.hplc.pk}/#training"
    request = TrainingRequest.objects.get()
    assert (request.user, request.status, request.message) == (
        campus.researcher,
        "pending",
        "Pour ma thèse",
    )
    html = page(client, campus.hplc)
    assert 'id="request-training"' not in html
    assert 'class="training-pending"' in html
    assert f'action="/equipment/training/{request.pk}/cancel/"' in html
    # Asking again (another tab): refused with its code, shown as a message.
    client.post(f"/equipment/{campus.hplc.pk}/training/", {"message": ""})
    assert "training_request_pending" in page(client, campus.hplc)
    assert TrainingRequest.objects.count() == 1


def test_no_request_button_without_qualification_or_once_qualified(client, campus):
    client.force_login(campus.researcher)
    html = page(client, campus.rheometer)
    assert 'id="training"' not in html and 'id="request-training"' not in html
    response = client.post(f"/equipment/{campus.rheometer.pk}/training/")
    assert response.status_code == 302
    assert not TrainingRequest.objects.exists()

    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 6, 30)
    )
    html = page(client, campus.hplc)
    assert 'class="qualified"' in html and 'id="request-training"' not in html


def test_the_requester_withdraws_and_others_get_404(client, campus):
    request = ask(campus)
    url = f"/equipment/training/{request.pk}/cancel/"
    for other in (campus.outsider, campus.teacher):
        client.force_login(other)
        assert client.post(url).status_code == 404
    client.force_login(campus.researcher)
    assert client.get(url).status_code == 405  # posts only
    response = client.post(url)
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == "cancelled"
    assert 'id="request-training"' in page(client, campus.hplc)


def test_the_queue_lists_the_managers_requests_and_accept_qualifies(client, campus):
    request = ask(campus)
    client.force_login(campus.eq_manager)
    html = client.get(QUEUE).content.decode()
    assert f'id="training-{request.pk}"' in html and "Thèse" in html
    assert f'action="/manage/training/{request.pk}/accept/"' in html
    assert 'name="valid_until"' in html and 'name="reason"' in html
    assert 'href="/manage/training/"' in html  # the navigation links the queue

    response = client.post(f"{QUEUE}{request.pk}/accept/", {"valid_until": "2027-11-30"})
    assert response.status_code == 302 and response["Location"] == QUEUE
    request.refresh_from_db()
    assert (request.status, request.decided_by) == ("accepted", campus.eq_manager)
    assert Qualification.objects.get(user=campus.researcher).valid_until == date(2027, 11, 30)
    assert f'id="training-{request.pk}"' not in client.get(QUEUE).content.decode()


def test_decline_needs_a_reason(client, campus):
    request = ask(campus)
    client.force_login(campus.eq_manager)
    response = client.post(f"{QUEUE}{request.pk}/decline/", {"reason": ""}, follow=True)
    assert "required" in response.content.decode()  # the code, beside the message
    request.refresh_from_db()
    assert request.status == "pending"
    client.post(f"{QUEUE}{request.pk}/accept/", {"valid_until": "2020-01-01"})
    request.refresh_from_db()
    assert request.status == "pending"

    client.post(f"{QUEUE}{request.pk}/decline/", {"reason": "Session complète"})
    request.refresh_from_db()
    assert (request.status, request.reason) == ("declined", "Session complète")
    client.force_login(campus.researcher)
    html = page(client, campus.hplc)
    assert 'class="training-declined"' in html and "Session complète" in html
    assert 'id="request-training"' in html  # they may ask again


def test_the_queue_is_for_managers_and_their_equipment(client, campus, make_user):
    request = ask(campus)
    accept = f"{QUEUE}{request.pk}/accept/"
    client.force_login(campus.researcher)
    assert client.get(QUEUE).status_code == 403
    assert client.post(accept, {"valid_until": "2027-01-01"}).status_code == 403
    other_manager = make_user("autre_gestionnaire")
    campus.rheometer.managers.add(other_manager)
    client.force_login(other_manager)
    assert f'id="training-{request.pk}"' not in client.get(QUEUE).content.decode()
    assert client.post(accept, {"valid_until": "2027-01-01"}).status_code == 404
    assert client.post(f"{QUEUE}{request.pk}/decline/", {"reason": "x"}).status_code == 404
    # A platform manager sees and decides every request.
    client.force_login(campus.admin)
    assert f'id="training-{request.pk}"' in client.get(QUEUE).content.decode()
    client.post(f"{QUEUE}{request.pk}/accept/", {"valid_until": "2027-01-01"})
    request.refresh_from_db()
    assert request.status == "accepted"


def test_the_admin_shows_training_requests_read_only(client, campus):
    request = ask(campus)
    client.force_login(campus.admin)
    campus.admin.is_superuser = True
    campus.admin.save()
    listing = client.get("/admin/equipment/trainingrequest/")
    assert listing.status_code == 200 and "WL-HPLC-01" in listing.content.decode()
    detail = client.get(f"/admin/equipment/trainingrequest/{request.pk}/change/")
    assert detail.status_code == 200 and "Thèse" in detail.content.decode()
    assert client.get("/admin/equipment/trainingrequest/add/").status_code == 403
    client.post(f"/admin/equipment/trainingrequest/{request.pk}/change/", {"status": "accepted"})
    client.post(f"/admin/equipment/trainingrequest/{request.pk}/delete/", {"post": "yes"})
    request.refresh_from_db()
    assert request.status == "pending"


def test_the_managers_read_the_requests_in_the_audit_trail(client_for, campus, make_user):
    request = ask(campus)
    other_manager = make_user("autre_gestionnaire")
    campus.rheometer.managers.add(other_manager)
    params = {"object": "training_request", "object_id": request.pk}
    entries = client_for(campus.eq_manager).get("/api/v1/audit/", params).json()["results"]
    assert [e["action"] for e in entries] == ["request"]
    assert client_for(other_manager).get("/api/v1/audit/", params).json()["results"] == []
