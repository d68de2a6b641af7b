"""Equipment documents in the API: attach (multipart), list in `documents`, download for
logged-in users only, remove (SPEC §7, §13)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import override_settings

from equipment.models import EquipmentDocument
from tests.document_files import EXE, PDF, TEXT, ooxml, opendocument, upload

pytestmark = pytest.mark.django_db

OOXML = "application/vnd.openxmlformats-officedocument"


def documents_url(equipment) -> str:
    return f"/api/v1/equipment/{equipment.pk}/documents/"


def post(client, equipment, name="procedure.pdf", content=PDF, **fields):
    data = {"title": "Mode opératoire", "kind": "procedure", **fields}
    data["file"] = upload(name, content)
    return client.post(documents_url(equipment), data, format="multipart")


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] == code


def test_manager_attaches_a_pdf_and_everyone_sees_it_listed(client_for, campus):
    response = post(client_for(campus.eq_manager), campus.hplc, name="Procédure HPLC.pdf")
    assert response.status_code == 201, response.content
    body = response.json()
    document = EquipmentDocument.objects.get()
    assert body == {
        "id": document.pk,
        "title": "Mode opératoire",
        "kind": "procedure",
        "filename": "Procédure HPLC.pdf",
        "content_type": "application/pdf",
        "size": len(PDF),
        "uploaded_at": body["uploaded_at"],
        "url": f"http://testserver/api/v1/equipment/{campus.hplc.pk}/documents/"
        f"{document.pk}/download/",
    }
    reader = client_for(campus.outsider)
    detail = reader.get(f"/api/v1/equipment/{campus.hplc.pk}/").json()
    assert detail["documents"] == [body]
    listed = {e["id"]: e["documents"] for e in reader.get("/api/v1/equipment/").json()["results"]}
    assert listed == {campus.hplc.pk: [body], campus.rheometer.pk: []}


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("notice.docx", ooxml(), f"{OOXML}.wordprocessingml.document"),
        ("notice.odt", opendocument(), "application/vnd.oasis.opendocument.text"),
    ],
)
def test_office_documents_are_accepted(client_for, campus, name, content, content_type):
    response = post(client_for(campus.admin), campus.rheometer, name=name, content=content)
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == content_type


@pytest.mark.parametrize(
    ("name", "content"), [("notice.pdf", EXE), ("notes.txt", TEXT), ("notes.pdf", TEXT)]
)
def test_wrong_types_are_refused_with_a_code(client_for, campus, name, content):
    response = post(client_for(campus.eq_manager), campus.hplc, name=name, content=content)
    assert_error(response, 400, "unsupported_file_type")
    assert not EquipmentDocument.objects.exists()


def test_a_file_over_the_limit_answers_413_file_too_large(client_for, campus):
    with override_settings(EQUIPMENT_DOCUMENT_MAX_BYTES=50):
        response = post(client_for(campus.eq_manager), campus.hplc)
    assert_error(response, 413, "file_too_large")
    assert "50" in response.json()["detail"]


def test_a_body_over_the_upload_limit_answers_413_request_too_large(client_for, campus):
    with override_settings(EQUIPMENT_DOCUMENT_MAX_BYTES=100, MAX_UPLOAD_BODY_BYTES=1000):
        response = post(client_for(campus.eq_manager), campus.hplc, content=PDF + b" " * 2000)
    assert_error(response, 413, "request_too_large")


def test_a_document_within_the_default_limit_passes_the_body_limit(client_for, campus, settings):
    # 11 MiB: more than the 10 MiB that multipart bodies were limited to before documents.
    assert settings.EQUIPMENT_DOCUMENT_MAX_BYTES == 20 * 1024 * 1024
    content = PDF + b"%" * (11 * 1024 * 1024)
    response = post(client_for(campus.eq_manager), campus.hplc, content=content)
    assert response.status_code == 201, response.content
    assert response.json()["size"] == len(content)


def test_only_managers_attach(client_for, campus):
    assert_error(post(client_for(campus.outsider), campus.hplc), 403, "permission_denied")
    assert_error(post(client_for(campus.eq_manager), campus.rheometer), 403, "permission_denied")
    assert_error(post(client_for(None), campus.hplc), 401, "not_authenticated")
    response = client_for(campus.eq_manager).post(
        "/api/v1/equipment/999999/documents/", {}, format="multipart"
    )
    assert_error(response, 404, "not_found")
    assert not EquipmentDocument.objects.exists()


def test_fields_are_required_and_json_is_not_read(client_for, campus):
    client = client_for(campus.eq_manager)
    response = client.post(documents_url(campus.hplc), {"title": ""}, format="multipart")
    assert_error(response, 400, "invalid")
    assert set(response.json()["fields"]) == {"file", "title", "kind"}
    response = client.post(documents_url(campus.hplc), {"title": "x"}, format="json")
    assert_error(response, 415, "unsupported_media_type")


def _attached(client_for, campus, name="Fiche de données de sécurité éthanol.pdf"):
    response = post(client_for(campus.eq_manager), campus.hplc, name=name, kind="manual")
    assert response.status_code == 201, response.content
    return response.json()


def test_anonymous_download_answers_401(client_for, campus):
    document = _attached(client_for, campus)
    response = client_for(None).get(document["url"])
    assert_error(response, 401, "not_authenticated")


def test_logged_in_users_download_the_exact_bytes(client_for, campus):
    document = _attached(client_for, campus)
    response = client_for(campus.outsider).get(document["url"], HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Length"] == str(len(PDF))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == (
        "attachment; "
        'filename="Fiche de donnees de securite ethanol.pdf"; '
        "filename*=UTF-8''Fiche%20de%20donn%C3%A9es%20de%20s%C3%A9curit%C3%A9%20%C3%A9thanol.pdf"
    )
    assert "private" in response["Cache-Control"]


def test_a_document_is_found_only_under_its_own_equipment(client_for, campus):
    document = _attached(client_for, campus)
    reader = client_for(campus.outsider)
    wrong = f"/api/v1/equipment/{campus.rheometer.pk}/documents/{document['id']}/download/"
    assert_error(reader.get(wrong), 404, "not_found")
    missing = f"/api/v1/equipment/{campus.hplc.pk}/documents/999999/download/"
    assert_error(reader.get(missing), 404, "not_found")


def test_manager_removes_a_document_and_its_file(
    client_for, campus, private_media, django_capture_on_commit_callbacks
):
    document = _attached(client_for, campus)
    stored = Path(private_media) / EquipmentDocument.objects.get().file.name
    url = f"/api/v1/equipment/{campus.hplc.pk}/documents/{document['id']}/"
    assert_error(client_for(campus.outsider).delete(url), 403, "permission_denied")
    assert_error(client_for(None).delete(url), 401, "not_authenticated")
    assert stored.exists()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(campus.eq_manager).delete(url)
    assert response.status_code == 204
    assert not stored.exists()
    assert not EquipmentDocument.objects.exists()
    assert_error(client_for(campus.outsider).get(document["url"]), 404, "not_found")
    assert_error(client_for(campus.eq_manager).delete(url), 404, "not_found")
