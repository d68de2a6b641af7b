"""Each user's notification settings (SPEC §12): the API `me/notifications/` and the
account page."""

from __future__ import annotations

import re

import pytest

from partners.preferences import EmailTopic

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/notifications/"
ALL_ON = {topic.value: True for topic in EmailTopic}


def ticked(page: str, name: str) -> bool:
    """Whether the page's one checkbox called `name` is ticked."""
    (tag,) = re.findall(rf'<input\b[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    assert 'type="checkbox"' in tag, tag
    return re.search(r"\schecked\b", tag) is not None


def test_everything_is_on_by_default(campus, client_for):
    response = client_for(campus.eq_manager).get(URL)
    assert response.status_code == 200
    assert response.json() == {"language": None, "attach_ics": True, "email": ALL_ON}
    assert "pending_request" in ALL_ON and "waitlist_booked" in ALL_ON


def test_a_patch_changes_only_what_it_names(campus, client_for):
    client = client_for(campus.researcher)
    response = client.patch(URL, {"email": {"reminder": False}}, format="json")
    assert response.status_code == 200
    assert response.json()["email"] == {**ALL_ON, "reminder": False}
    response = client.patch(
        URL,
        {"language": "en", "attach_ics": False, "email": {"cancellation": False}},
        format="json",
    )
    assert response.json() == {
        "language": "en",
        "attach_ics": False,
        "email": {**ALL_ON, "reminder": False, "cancellation": False},
    }
    back = client.patch(URL, {"language": "", "email": {"reminder": True}}, format="json").json()
    assert back["language"] is None and back["email"]["reminder"] is True
    # The profile shows the same language.
    assert client.get("/api/v1/me/").json()["language"] is None
    # Another user's settings are their own.
    assert client_for(campus.teacher).get(URL).json()["email"] == ALL_ON


@pytest.mark.parametrize(
    "body",
    [{"email": {"newsletter": False}}, {"language": "de"}, {"attach_ics": "maybe"}],
)
def test_bad_settings_are_refused_with_the_invalid_code(campus, client_for, body):
    response = client_for(campus.researcher).patch(URL, body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_anonymous_users_have_no_settings(client_for):
    assert client_for().get(URL).status_code == 401


def test_the_account_page_edits_the_notifications(campus, client):
    client.force_login(campus.researcher)
    page = client.get("/account/").content.decode()
    assert 'id="notifications"' in page
    assert 'name="email_reminder"' in page and ticked(page, "email_reminder")
    assert ticked(page, "email_confirmation") and ticked(page, "attach_ics")
    # Approval requests concern equipment managers only.
    assert 'name="email_pending_request"' not in page

    response = client.post("/account/", {"email_confirmation": "on", "attach_ics": "on"})
    assert response.status_code == 302
    settings = client.get(URL).json()
    assert settings["email"]["confirmation"] is True
    assert settings["email"]["reminder"] is False  # unticked
    assert settings["attach_ics"] is True
    page = client.get("/account/").content.decode()
    assert ticked(page, "email_confirmation") and ticked(page, "attach_ics")
    assert not ticked(page, "email_reminder")


def test_a_manager_finds_the_approval_requests_switch(campus, client):
    client.force_login(campus.eq_manager)
    page = client.get("/account/").content.decode()
    assert 'name="email_pending_request"' in page
    client.post("/account/", {"attach_ics": "on"})
    assert client.get(URL).json()["email"]["pending_request"] is False
