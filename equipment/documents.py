"""Equipment documents' files: where they are kept and which files are accepted (SPEC §13).

Kept in a private storage (settings.PRIVATE_MEDIA_ROOT) that no URL serves: a reader gets a
document through a view that checks who asks (equipment.web.documents, equipment.api.views).

Accepted: PDF and office formats, known by their extension AND by their content, so that a
program renamed `.pdf` is refused:

| extension | content |
|---|---|
| .pdf | starts with `%PDF-` |
| .doc, .xls, .ppt | an OLE2 compound file (`D0 CF 11 E0 A1 B1 1A E1`) |
| .docx, .xlsx, .pptx | a ZIP with `[Content_Types].xml` and its `word/`, `xl/` or `ppt/` part |
| .odt, .ods, .odp | a ZIP whose `mimetype` entry names that OpenDocument type |

Plain text and CSV are refused: they have no signature to check the content against, and a
procedure or a data sheet is a PDF or an office document (a table goes as .xlsx or .ods).
The stored content type is the one the checked format implies, never the client's.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import PurePath
from typing import IO, Any

from django.conf import settings
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.template.defaultfilters import filesizeformat

from core.errors import DomainError

PDF = b"%PDF-"
OLE2 = bytes.fromhex("D0CF11E0A1B11AE1")

OOXML = "application/vnd.openxmlformats-officedocument"
ODF = "application/vnd.oasis.opendocument"
# extension → (its content type, how its content is recognised, what in it)
FORMATS: dict[str, tuple[str, str, str]] = {
    ".pdf": ("application/pdf", "pdf", ""),
    ".doc": ("application/msword", "ole2", ""),
    ".xls": ("application/vnd.ms-excel", "ole2", ""),
    ".ppt": ("application/vnd.ms-powerpoint", "ole2", ""),
    ".docx": (f"{OOXML}.wordprocessingml.document", "ooxml", "word/"),
    ".xlsx": (f"{OOXML}.spreadsheetml.sheet", "ooxml", "xl/"),
    ".pptx": (f"{OOXML}.presentationml.presentation", "ooxml", "ppt/"),
    ".odt": (f"{ODF}.text", "odf", f"{ODF}.text"),
    ".ods": (f"{ODF}.spreadsheet", "odf", f"{ODF}.spreadsheet"),
    ".odp": (f"{ODF}.presentation", "odf", f"{ODF}.presentation"),
}
CONTENT_TYPES = sorted({content_type for content_type, _how, _what in FORMATS.values()})
EXTENSIONS = sorted(FORMATS)
# What the upload fields accept (`accept=`), a hint to browsers; the server checks anyway.
ACCEPT = ",".join(EXTENSIONS)


class PrivateStorage(FileSystemStorage):
    """Files under settings.PRIVATE_MEDIA_ROOT, read when used (tests point it elsewhere).

    It has no URL: the files are served by views that check the reader.
    """

    def __init__(self) -> None:
        super().__init__()

    @property
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def url(self, name: str | None) -> str:
        raise NotImplementedError("Private files have no URL: serve them through a view.")

    def deconstruct(self) -> tuple[str, tuple[Any, ...], dict[str, Any]]:
        return ("equipment.documents.PrivateStorage", (), {})


private_storage = PrivateStorage()


def extension_of(filename: str) -> str:
    return PurePath(filename).suffix.lower()


def content_type_of(filename: str, file: IO[bytes]) -> str | None:
    """The content type of an accepted document, or None if its name or content is not one.

    Reads the file's first bytes, or a ZIP's directory and its small `mimetype` entry, never
    the whole file; the file is left at its start.
    """
    found = FORMATS.get(extension_of(filename))
    if found is None:
        return None
    content_type, how, what = found
    try:
        file.seek(0)
        head = file.read(len(OLE2))
        if how == "pdf":
            ok = head.startswith(PDF)
        elif how == "ole2":
            ok = head == OLE2
        else:
            ok = head.startswith(b"PK\x03\x04") and _zip_holds(file, how, what)
    finally:
        file.seek(0)
    return content_type if ok else None


def _zip_holds(file: IO[bytes], how: str, what: str) -> bool:
    """Whether the ZIP is an office document of the kind `what` names (see the table)."""
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
            if how == "ooxml":
                return "[Content_Types].xml" in names and any(n.startswith(what) for n in names)
            if "mimetype" not in names:
                return False
            with archive.open("mimetype") as entry:
                return entry.read(100).strip() == what.encode()
    # A damaged, encrypted or truncated archive is not a document we can vouch for.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, RuntimeError):
        return False
    except NotImplementedError:  # a compression method Python does not read
        return False


def check_document_file(file: File, filename: str) -> str:
    """The content type of an upload that may be kept as a document, or a refusal:
    `file_too_large` (413) past settings.EQUIPMENT_DOCUMENT_MAX_BYTES, `unsupported_file_type`
    (400) for a name or a content that is not an accepted format."""
    limit = settings.EQUIPMENT_DOCUMENT_MAX_BYTES
    if file.size is None or file.size > limit:
        raise DomainError("file_too_large.document", params={"size": filesizeformat(limit)})
    content_type = content_type_of(filename, file)
    if content_type is None:
        raise DomainError("unsupported_file_type", params={"extensions": ", ".join(EXTENSIONS)})
    return content_type
