"""An equipment's documents on its page: listed for everyone logged in, downloaded through a
checked view, attached and removed by its managers (SPEC §8, §13)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import override_settings
from django.utils import timezone

from core.roles import SYSTEM
from equipment.models import EquipmentDocument
from equipment.services import document_add
from tests.document_files import EXE, PDF, TEXT, opendocument, upload

pytestmark = pytest.mark.django_db


def attach(campus, name="FDS éthanol.pdf", content=PDF, title="Éthanol absolu", **extra):
    extra.setdefault("kind", "safety_data_sheet")
    return document_add(
        actor=SYSTEM,
        equipment=campus.hplc,
        file=upload(name, content),
        title=title,
        now=timezone.now(),
        **extra,
    )


def page_of(client, user, equipment) -> str:
    client.force_login(user)
    response = client.get(f"/equipment/{equipment.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def documents_section(page: str) -> str:
    return re.search(r'<section id="documents">(.*?)</section>', page, re.S).group(1)


def test_everyone_logged_in_sees_the_list_with_download_links(client, campus):
    document = attach(campus, content=PDF + b" " * 1500)
    section = documents_section(page_of(client, campus.outsider, campus.hplc))
    download = f"/equipment/{campus.hplc.pk}/documents/{document.pk}/"
    assert f'href="{download}"' in section
    assert "Éthanol absolu" in section and "FDS éthanol.pdf" in section
    assert "Fiche de données de sécurité" in section
    assert "1,5\xa0Kio" in section  # French size format
    assert "23/11/2026" in section
    # Not theirs to change: no form, no remove button.
    assert "<form" not in section


def test_an_equipment_without_documents_says_so(client, campus):
    section = documents_section(page_of(client, campus.outsider, campus.rheometer))
    assert "Aucun document pour l'instant." in section


def test_managers_get_the_upload_form_and_remove_buttons(client, campus):
    document = attach(campus)
    section = documents_section(page_of(client, campus.eq_manager, campus.hplc))
    assert 'enctype="multipart/form-data"' in section
    assert f'action="/equipment/{campus.hplc.pk}/documents/"' in section
    assert f'action="/equipment/{campus.hplc.pk}/documents/{document.pk}/delete/"' in section
    assert section.count("csrfmiddlewaretoken") == 2
    assert 'accept=".doc,.docx,.odp,.ods,.odt,.pdf,.ppt,.pptx,.xls,.xlsx"' in section
    assert "<script" not in section  # the CSP forbids inline scripts
    # Another equipment's manager sees the list only.
    other = documents_section(page_of(client, campus.eq_manager, campus.rheometer))
    assert "<form" not in other


def _post(client, equipment, name, content, **fields):
    data = {"title": "Notice", "kind": "manual", "file": upload(name, content), **fields}
    return client.post(f"/equipment/{equipment.pk}/documents/", data, follow=True)


def test_manager_uploads_an_opendocument_then_sees_it(client, campus, private_media):
    client.force_login(campus.eq_manager)
    response = _post(client, campus.hplc, "notice.odt", opendocument())
    assert response.redirect_chain == [(f"/equipment/{campus.hplc.pk}/#documents", 302)]
    page = response.content.decode()
    assert "Document ajouté : Notice." in page
    document = EquipmentDocument.objects.get()
    assert document.content_type == "application/vnd.oasis.opendocument.text"
    assert (Path(private_media) / document.file.name).read_bytes() == opendocument()
    assert "notice.odt" in documents_section(page)


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("notice.pdf", EXE, "Seuls les documents PDF et bureautiques sont acceptés"),
        ("notes.txt", TEXT, "[unsupported_file_type]"),
    ],
)
def test_a_refused_type_is_said_in_words(client, campus, name, content, words):
    client.force_login(campus.eq_manager)
    page = _post(client, campus.hplc, name, content).content.decode()
    assert words in page
    assert not EquipmentDocument.objects.exists()


@override_settings(EQUIPMENT_DOCUMENT_MAX_BYTES=50)
def test_an_oversized_file_is_said_in_words(client, campus):
    client.force_login(campus.eq_manager)
    page = _post(client, campus.hplc, "notice.pdf", PDF).content.decode()
    assert "Le fichier dépasse 50\xa0octets. [file_too_large]" in page
    assert not EquipmentDocument.objects.exists()


def test_missing_fields_are_said_in_words(client, campus):
    client.force_login(campus.eq_manager)
    response = client.post(
        f"/equipment/{campus.hplc.pk}/documents/", {"kind": "manual"}, follow=True
    )
    page = response.content.decode()
    assert "Titre : Ce champ est obligatoire." in page
    assert "Fichier : Ce champ est obligatoire." in page


def test_others_may_not_upload(client, campus):
    client.force_login(campus.outsider)
    response = client.post(
        f"/equipment/{campus.hplc.pk}/documents/",
        {"title": "x", "kind": "manual", "file": upload("x.pdf", PDF)},
    )
    assert response.status_code == 403
    assert "Seuls les gestionnaires de l&#x27;équipement peuvent ajouter des documents." in (
        response.content.decode()
    )
    assert not EquipmentDocument.objects.exists()


def test_anonymous_download_goes_to_the_login(client, campus):
    document = attach(campus)
    response = client.get(f"/equipment/{campus.hplc.pk}/documents/{document.pk}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_logged_in_download_gets_the_file(client, campus):
    document = attach(campus)
    client.force_login(campus.outsider)
    response = client.get(f"/equipment/{campus.hplc.pk}/documents/{document.pk}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == (
        "attachment; filename=\"FDS ethanol.pdf\"; filename*=UTF-8''FDS%20%C3%A9thanol.pdf"
    )
    wrong = client.get(f"/equipment/{campus.rheometer.pk}/documents/{document.pk}/")
    assert wrong.status_code == 404


def test_a_document_whose_file_is_missing_answers_404(client, campus, private_media):
    document = attach(campus)
    (Path(private_media) / document.file.name).unlink()
    client.force_login(campus.outsider)
    response = client.get(f"/equipment/{campus.hplc.pk}/documents/{document.pk}/")
    assert response.status_code == 404


def test_manager_removes_a_document(
    client, campus, private_media, django_capture_on_commit_callbacks
):
    document = attach(campus)
    stored = Path(private_media) / document.file.name
    url = f"/equipment/{campus.hplc.pk}/documents/{document.pk}/delete/"
    client.force_login(campus.outsider)
    assert client.post(url).status_code == 403
    client.force_login(campus.eq_manager)
    assert client.get(url).status_code == 405  # only a form's POST removes
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, follow=True)
    assert "Document supprimé : Éthanol absolu." in response.content.decode()
    assert not stored.exists()
    assert not EquipmentDocument.objects.exists()


def test_the_page_costs_the_same_with_more_documents(client, campus, django_assert_max_num_queries):
    attach(campus)
    client.force_login(campus.outsider)
    with django_assert_max_num_queries(100) as first:
        client.get(f"/equipment/{campus.hplc.pk}/")
    for n in range(5):
        attach(campus, title=f"Document {n}")
    with django_assert_max_num_queries(len(first.captured_queries)):
        client.get(f"/equipment/{campus.hplc.pk}/")
