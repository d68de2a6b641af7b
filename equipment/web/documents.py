"""The equipment documents' pages: upload and remove (its managers), download (anyone
logged in). The equipment page (reservations.web.equipment) lists them with these forms.

Downloads go through `document_response`, which the API's download answers with too: the
files live in a private storage that no URL serves (equipment.documents).
"""

from __future__ import annotations

import unicodedata
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError

from ..forms import DocumentForm
from ..models import Equipment, EquipmentDocument
from ..permissions import may_manage_documents, may_read_documents
from ..selectors import document_of
from ..services import document_add, document_delete


def _ascii_fallback(filename: str) -> str:
    """The file name for clients that do not read RFC 5987's `filename*`: accents dropped,
    quotes, backslashes and anything outside printable ASCII replaced."""
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode()
    cleaned = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in folded)
    return cleaned.strip() or "document"


def content_disposition(filename: str) -> str:
    """`attachment` with the name twice: plain ASCII, and UTF-8 as RFC 5987 says (`filename*`)."""
    return (
        f'attachment; filename="{_ascii_fallback(filename)}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}"
    )


def document_response(document: EquipmentDocument) -> FileResponse:
    """The document's file, streamed, as an attachment of its checked content type; never
    sniffed into something a browser would run, never kept by a shared cache."""
    try:
        handle = document.file.open("rb")
    except FileNotFoundError:
        # The row outlived its file (a restore without the private files): not found.
        raise Http404 from None
    response = FileResponse(handle, content_type=document.content_type)
    response["Content-Disposition"] = content_disposition(document.original_filename)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def _back(equipment_pk: int) -> HttpResponse:
    return redirect(reverse("equipment:detail", args=[equipment_pk]) + "#documents")


def _say_refusal(request: HttpRequest, error: DomainError | ValidationError) -> None:
    if isinstance(error, DomainError):
        messages.error(request, f"{error.message} [{error.code}]")
        return
    for text in error.messages:
        messages.error(request, text)


@login_required
@require_GET
def document_download(request: HttpRequest, pk: int, document_id: int) -> HttpResponseBase:
    """One document's file, for anyone logged in (the inventory is theirs to read)."""
    document = document_of(equipment_id=pk, document_id=document_id)
    if document is None or not may_read_documents(request.user):
        raise Http404
    return document_response(document)


@login_required
@require_POST
def document_upload(request: HttpRequest, pk: int) -> HttpResponse:
    """Attach a document (the equipment's managers), then back to the equipment page."""
    equipment = get_object_or_404(Equipment, pk=pk)
    user: Any = request.user
    if not may_manage_documents(user, equipment):
        raise PermissionDenied(_("Only the equipment's managers attach documents."))
    form = DocumentForm(request.POST, request.FILES)
    if not form.is_valid():
        for name, errors in form.errors.items():
            label = form.fields[name].label if name in form.fields else ""
            for text in errors:
                said = _("%(field)s: %(messages)s") % {"field": label, "messages": text}
                messages.error(request, said if label else str(text))
        return _back(pk)
    data = form.cleaned_data
    try:
        document = document_add(
            actor=user,
            equipment=equipment,
            file=data["file"],
            title=data["title"],
            kind=data["kind"],
            now=timezone.now(),
        )
    except (DomainError, ValidationError) as error:
        _say_refusal(request, error)
    else:
        messages.success(request, _("Document added: %(title)s.") % {"title": document.title})
    return _back(pk)


@login_required
@require_POST
def document_remove(request: HttpRequest, pk: int, document_id: int) -> HttpResponse:
    """Remove a document (the equipment's managers), then back to the equipment page."""
    document = document_of(equipment_id=pk, document_id=document_id)
    if document is None:
        raise Http404
    user: Any = request.user
    if not may_manage_documents(user, document.equipment):
        raise PermissionDenied(_("Only the equipment's managers remove documents."))
    try:
        document_delete(actor=user, document=document)
    except DomainError as error:
        _say_refusal(request, error)
    else:
        messages.success(request, _("Document removed: %(title)s.") % {"title": document.title})
    return _back(pk)
