"""The server-rendered pages answer, in French by default and in English on request."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get("/equipment/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    login = client.get("/accounts/login/")
    assert login.status_code == 200
    assert "Connexion" in login.content.decode()


def test_login_form_logs_in(client, campus):
    response = client.post(
        "/accounts/login/", {"username": "enseignant", "password": "pw-enseignant"}
    )
    assert response.status_code == 302
    assert client.get("/equipment/").status_code == 200


def test_catalogue_lists_and_filters_in_french(client, campus):
    client.force_login(campus.teacher)
    page = client.get("/equipment/").content.decode()
    assert "Catalogue des équipements" in page
    assert "WL-HPLC-01" in page and "TO-RHEO-01" in page
    filtered = client.get(f"/equipment/?site={campus.other_site.pk}&q=rh").content.decode()
    assert "TO-RHEO-01" in filtered and "WL-HPLC-01" not in filtered


def test_catalogue_in_english(client, campus):
    client.force_login(campus.teacher)
    page = client.get("/equipment/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Equipment catalogue" in page


def test_language_from_cookie_then_header_then_default_with_its_headers(client, campus):
    """The language middleware (ours, Django's without the path lookup) chooses as Django's
    does: the language cookie, then Accept-Language, then French; and says so in
    Content-Language, varying on Accept-Language. An API error speaks it too."""
    client.force_login(campus.teacher)
    french = client.get("/equipment/")
    assert "Catalogue des équipements" in french.content.decode()
    assert french["Content-Language"] == "fr"
    assert "Accept-Language" in french["Vary"]
    english = client.get("/equipment/", HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert "Equipment catalogue" in english.content.decode()
    assert english["Content-Language"] == "en"
    # A path starting like a language code is not a language prefix here.
    assert client.get("/en/equipment/", HTTP_ACCEPT_LANGUAGE="fr").status_code == 404
    client.cookies["django_language"] = "en"
    cookie = client.get("/equipment/", HTTP_ACCEPT_LANGUAGE="fr")
    assert "Equipment catalogue" in cookie.content.decode()
    assert cookie["Content-Language"] == "en"
    api = client.get("/api/v1/reservations/?status=nope", HTTP_ACCEPT_LANGUAGE="fr")
    assert api["Content-Language"] == "en" and api.json()["detail"] == "Unknown status."


def test_equipment_page_explains_its_policy(client, campus):
    client.force_login(campus.teacher)
    response = client.get(f"/equipment/{campus.hplc.pk}/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Chaîne HPLC Agilent 1260" in page
    assert "lundi 08:00–19:00" in page.lower()
    assert "365" in page


def test_unknown_equipment_page_is_404(client, campus):
    client.force_login(campus.teacher)
    assert client.get("/equipment/999999/").status_code == 404


def test_admin_lists_equipment_for_platform_managers(client, campus):
    campus.admin.is_superuser = True
    campus.admin.save()
    client.force_login(campus.admin)
    response = client.get("/admin/equipment/equipment/")
    assert response.status_code == 200
    assert "WL-HPLC-01" in response.content.decode()


def test_out_of_range_ids_in_page_urls_are_not_found(client, campus):
    client.force_login(campus.researcher)
    assert client.get(f"/equipment/{2**70}/").status_code == 404
    assert client.post(f"/my/{2**70}/cancel/").status_code == 404


def test_a_page_whose_input_overflows_answers_400(rf):
    """The pages' last guard: what the forms let through but overflows is a 400."""
    from django.db import DataError

    from platform_booking.middleware import OutOfRangeMiddleware

    guard = OutOfRangeMiddleware(lambda request: None)  # type: ignore[arg-type,return-value]
    request = rf.get("/planning/")
    for error in (OverflowError("date value out of range"), DataError("integer out of range")):
        response = guard.process_exception(request, error)
        assert response is not None and response.status_code == 400
    assert guard.process_exception(request, ValueError("other")) is None
