"""The managers' audit page: the same trail and filters as the API, in words."""

from __future__ import annotations

from datetime import date

import pytest

from core.roles import SYSTEM
from partners.services import project_update

pytestmark = pytest.mark.django_db
URL = "/manage/audit/"


def test_an_equipment_manager_reads_their_part_in_french(client, trail):
    campus = trail.campus
    client.force_login(campus.eq_manager)
    response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    # The reservation made on Monday 23 November at 08:00 Paris time, its times in words.
    assert "23/11/2026 08:00" in page
    assert "25/11/2026 10:00" in page  # its start, Paris time
    assert "WL-HPLC-01" in page and "TO-RHEO-01" not in page
    # Values in words (the status by its label); new labels are French once translated.
    assert "— → confirmée" in page
    # The navigation of managers leads here.
    assert f'href="{URL}" aria-current="page"' in page


def test_words_in_english_and_project_teams(client, trail):
    campus = trail.campus
    project_update(actor=SYSTEM, project=campus.research, members=[campus.teacher])
    client.force_login(campus.admin)
    page = client.get(URL, {"object": "project"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Members: added enseignant" in page
    page = client.get(URL, {"object": "equipment"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Buffer between bookings (minutes): platform default → 10" in page
    assert "the platform" in page  # the rheometer's change, made by a job


def test_a_member_is_refused_and_an_anonymous_visitor_sent_to_log_in(client, trail):
    client.force_login(trail.campus.researcher)
    response = client.get(URL)
    assert response.status_code == 403
    client.logout()
    response = client.get(URL)
    assert response.status_code == 302 and "login" in response["Location"]


def test_filters_and_their_errors(client, trail):
    campus = trail.campus
    client.force_login(campus.admin)
    page = client.get(
        URL,
        {"object": "closure", "object_id": trail.closures.everywhere.pk},
        HTTP_ACCEPT_LANGUAGE="en",
    ).content.decode()
    assert page.count("data-entry=") == 1 and "every site" in page
    refused = client.get(URL, {"start": "someday"}, HTTP_ACCEPT_LANGUAGE="en")
    assert refused.status_code == 400  # as the API and the booking page answer bad input
    page = refused.content.decode()
    assert 'role="alert"' in page and "data-entry=" not in page
    assert '<code class="code">invalid</code>' in page


def test_pages_keep_the_filters(client, trail, monkeypatch):
    from reservations.web import audit

    monkeypatch.setattr(audit, "PAGE_SIZE", 2)
    client.force_login(trail.campus.admin)
    page = client.get(URL, {"object": "closure"}).content.decode()
    assert page.count("data-entry=") == 2
    assert "?object=closure&amp;page=2" in page


def test_qualification_dates_in_the_short_french_format(client, trail):
    client.force_login(trail.campus.eq_manager)
    page = client.get(URL, {"object": "qualification"}).content.decode()
    assert date(2027, 6, 30).strftime("%d/%m/%Y") in page
