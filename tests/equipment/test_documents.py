"""Equipment documents: which files are accepted (by extension and content), and the
services that attach and remove them (SPEC §13)."""

from __future__ import annotations

import io
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError

from core.errors import DomainError
from core.models import AuditEntry, AuditObject
from core.roles import SYSTEM
from equipment.documents import content_type_of, private_storage
from equipment.models import EquipmentDocument
from equipment.services import document_add, document_delete
from equipment.web.documents import content_disposition
from tests.document_files import EXE, OLE2, PDF, TEXT, ooxml, opendocument, upload

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
OOXML = "application/vnd.openxmlformats-officedocument"
ODF = "application/vnd.oasis.opendocument"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("procedure.pdf", PDF, "application/pdf"),
        ("FDS.PDF", PDF, "application/pdf"),
        ("ancien.doc", OLE2, "application/msword"),
        ("ancien.xls", OLE2, "application/vnd.ms-excel"),
        ("ancien.ppt", OLE2, "application/vnd.ms-powerpoint"),
        ("mode-operatoire.docx", ooxml(), f"{OOXML}.wordprocessingml.document"),
        ("etalonnage.xlsx", ooxml("xl/workbook.xml"), f"{OOXML}.spreadsheetml.sheet"),
        ("formation.pptx", ooxml("ppt/presentation.xml"), f"{OOXML}.presentationml.presentation"),
        ("notice.odt", opendocument(), f"{ODF}.text"),
        ("mesures.ods", opendocument(f"{ODF}.spreadsheet"), f"{ODF}.spreadsheet"),
        ("cours.odp", opendocument(f"{ODF}.presentation"), f"{ODF}.presentation"),
    ],
)
def test_documents_are_known_by_extension_and_content(name, content, expected):
    file = io.BytesIO(content)
    assert content_type_of(name, file) == expected
    assert file.tell() == 0  # left at its start, ready to be stored


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notice.pdf", EXE),  # a program renamed
        ("setup.exe", EXE),
        ("notes.txt", TEXT),  # plain text and CSV are refused (no signature to check)
        ("mesures.csv", b"a;b\n1;2\n"),
        ("notes.pdf", TEXT),
        ("procedure", PDF),  # no extension
        ("procedure.pdf.exe", PDF),
        ("tableau.xlsx", ooxml()),  # a Word document named as a workbook
        ("notice.ods", opendocument()),  # an OpenDocument text named as a spreadsheet
        ("archive.docx", b"PK\x03\x04" + b"\x00" * 40),  # a truncated archive
        ("ancien.doc", PDF),
        ("scan.pdf", b""),
    ],
)
def test_other_files_are_refused(name, content):
    assert content_type_of(name, io.BytesIO(content)) is None


def test_a_zip_without_the_office_entries_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("word/document.xml", "<document/>")
    assert content_type_of("piege.docx", io.BytesIO(buffer.getvalue())) is None


def test_a_quoted_name_cannot_break_the_download_header():
    assert content_disposition('a"b\\c;d\r\n.pdf') == (
        "attachment; filename=\"a_b_c;d__.pdf\"; filename*=UTF-8''a%22b%5Cc%3Bd%0D%0A.pdf"
    )


def test_private_storage_has_no_url_and_follows_the_setting(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "elsewhere"
    assert private_storage.location == str(tmp_path / "elsewhere")
    with pytest.raises(NotImplementedError):
        private_storage.url("equipment/1/x.pdf")


# --- services -------------------------------------------------------------------------------


def add(campus, actor, name="procedure.pdf", content=PDF, **extra):
    extra.setdefault("title", "Mode opératoire HPLC")
    extra.setdefault("kind", EquipmentDocument.Kind.PROCEDURE)
    return document_add(
        actor=actor, equipment=campus.hplc, file=upload(name, content), now=NOW, **extra
    )


@pytest.mark.django_db
def test_manager_attaches_a_document_kept_in_the_private_storage(campus, private_media):
    document = add(campus, campus.eq_manager, name="Mode opératoire.pdf")
    document.refresh_from_db()
    assert document.original_filename == "Mode opératoire.pdf"
    assert document.content_type == "application/pdf"
    assert document.size == len(PDF)
    assert document.uploaded_by == campus.eq_manager
    assert document.uploaded_at == NOW
    stored = Path(private_media) / document.file.name
    assert stored.read_bytes() == PDF
    # Stored by a random name under its equipment, never by the name given.
    assert document.file.name.startswith(f"equipment/{campus.hplc.pk}/")
    assert "opératoire" not in document.file.name and document.file.name.endswith(".pdf")
    entry = AuditEntry.objects.get(action="document_add")
    assert (entry.object_type, entry.object_id, entry.equipment_id, entry.by) == (
        AuditObject.EQUIPMENT,
        campus.hplc.pk,
        campus.hplc.pk,
        campus.eq_manager,
    )
    assert entry.changes == {"document": [None, "Mode opératoire HPLC (Mode opératoire.pdf)"]}


@pytest.mark.django_db
def test_platform_managers_attach_too_and_the_platform_is_no_uploader(campus):
    assert add(campus, campus.admin).uploaded_by == campus.admin
    assert add(campus, SYSTEM).uploaded_by is None


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["outsider", "researcher", "referent"])
def test_others_may_not_attach(campus, who, private_media):
    with pytest.raises(DomainError) as refused:
        add(campus, getattr(campus, who))
    assert (refused.value.code, refused.value.status) == ("permission_denied", 403)
    assert not EquipmentDocument.objects.exists()
    assert not Path(private_media).exists() or not any(Path(private_media).rglob("*.pdf"))


@pytest.mark.django_db
def test_a_file_over_the_limit_is_refused_with_413(campus, settings, private_media):
    settings.EQUIPMENT_DOCUMENT_MAX_BYTES = len(PDF) - 1
    with pytest.raises(DomainError) as refused:
        add(campus, campus.eq_manager)
    assert (refused.value.code, refused.value.status) == ("file_too_large", 413)
    settings.EQUIPMENT_DOCUMENT_MAX_BYTES = len(PDF)
    assert add(campus, campus.eq_manager).size == len(PDF)  # exactly the limit passes


@pytest.mark.django_db
def test_a_renamed_program_is_refused_with_its_code(campus):
    with pytest.raises(DomainError) as refused:
        add(campus, campus.eq_manager, name="notice.pdf", content=EXE)
    assert (refused.value.code, refused.value.status) == ("unsupported_file_type", 400)
    assert ".pdf" in refused.value.message and ".odt" in refused.value.message


@pytest.mark.django_db
def test_title_and_kind_are_checked(campus, private_media):
    with pytest.raises(ValidationError) as refused:
        add(campus, campus.eq_manager, title="  ", kind="poster")
    assert set(refused.value.message_dict) == {"title", "kind"}
    assert not any(Path(private_media).rglob("*.pdf"))  # nothing stored


@pytest.mark.django_db
def test_the_name_given_loses_its_folders_and_control_characters(campus):
    document = add(campus, campus.eq_manager, name="..\\..\\etc/FDS\x07 éthanol.pdf")
    assert document.original_filename == "FDS éthanol.pdf"


@pytest.mark.django_db
def test_removal_deletes_the_file_once_committed(
    campus, private_media, django_capture_on_commit_callbacks
):
    document = add(campus, campus.eq_manager)
    stored = Path(private_media) / document.file.name
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        document_delete(actor=campus.eq_manager, document=document)
    assert stored.exists()  # not before the removal commits
    for callback in callbacks:
        callback()
    assert not stored.exists()
    assert not EquipmentDocument.objects.exists()
    entry = AuditEntry.objects.get(action="document_delete")
    assert entry.changes == {"document": ["Mode opératoire HPLC (procedure.pdf)", None]}


@pytest.mark.django_db
def test_others_may_not_remove(campus, private_media, django_capture_on_commit_callbacks):
    document = add(campus, campus.eq_manager)
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(DomainError) as refused:
        document_delete(actor=campus.outsider, document=document)
    assert refused.value.code == "permission_denied"
    assert EquipmentDocument.objects.filter(pk=document.pk).exists()
    assert (Path(private_media) / document.file.name).exists()


# --- admin ----------------------------------------------------------------------------------


@pytest.fixture
def superuser_client(client, campus):
    campus.admin.is_superuser = True
    campus.admin.save()
    client.force_login(campus.admin)
    return client


@pytest.mark.django_db
def test_the_admin_attaches_through_the_service(superuser_client, campus, private_media):
    data = {"equipment": campus.hplc.pk, "title": "Manuel", "kind": "manual"}
    response = superuser_client.post(
        "/admin/equipment/equipmentdocument/add/", {**data, "file": upload("m.pdf", PDF)}
    )
    assert response.status_code == 302, response.content.decode()[-2000:]
    document = EquipmentDocument.objects.get()
    assert (document.content_type, document.uploaded_by) == ("application/pdf", campus.admin)
    assert (Path(private_media) / document.file.name).read_bytes() == PDF
    assert AuditEntry.objects.filter(action="document_add", by=campus.admin).exists()
    refused = superuser_client.post(
        "/admin/equipment/equipmentdocument/add/", {**data, "file": upload("m.pdf", EXE)}
    )
    assert refused.status_code == 200  # the form again, with the refusal on its field
    assert "[unsupported_file_type]" in refused.content.decode()
    assert EquipmentDocument.objects.count() == 1


@pytest.mark.django_db
def test_the_admin_removes_through_the_service_and_never_edits(
    superuser_client, campus, private_media, django_capture_on_commit_callbacks
):
    document = add(campus, campus.eq_manager)
    page = superuser_client.get(f"/admin/equipment/equipmentdocument/{document.pk}/change/")
    assert page.status_code == 200 and 'name="title"' not in page.content.decode()
    assert f'href="/equipment/{campus.hplc.pk}/documents/{document.pk}/"' in page.content.decode()
    assert superuser_client.get("/admin/equipment/equipmentdocument/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_client.post(
            f"/admin/equipment/equipmentdocument/{document.pk}/delete/", {"post": "yes"}
        )
    assert response.status_code == 302
    assert not EquipmentDocument.objects.exists()
    assert not (Path(private_media) / document.file.name).exists()
    assert AuditEntry.objects.filter(action="document_delete", by=campus.admin).exists()
