"""Small real documents made in the tests: a PDF, OOXML and OpenDocument archives, and
files that only pretend to be documents."""

from __future__ import annotations

import io
import zipfile

from django.core.files.uploadedfile import SimpleUploadedFile

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
# What a Windows program starts with: "MZ", then its DOS stub.
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
TEXT = "Procédure : porter des gants.\n".encode()
OLE2 = bytes.fromhex("D0CF11E0A1B11AE1") + b"\x00" * 504


def ooxml(part: str = "word/document.xml") -> bytes:
    """A minimal Office Open XML archive (.docx by default; `xl/workbook.xml` for .xlsx)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')
        archive.writestr(part, '<?xml version="1.0"?><document/>')
    return buffer.getvalue()


def opendocument(mimetype: str = "application/vnd.oasis.opendocument.text") -> bytes:
    """A minimal OpenDocument archive: its `mimetype` first and stored, as ODF requires."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", mimetype, compress_type=zipfile.ZIP_STORED)
        archive.writestr("content.xml", '<?xml version="1.0"?><office:document-content/>')
        archive.writestr("META-INF/manifest.xml", '<?xml version="1.0"?><manifest/>')
    return buffer.getvalue()


def upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")
