"""The inventory's pages that need no bookings: an equipment's documents
(equipment.web.documents), asking for training and the managers' training queue
(equipment.web.training).

The catalogue (its free-time filter reads bookings) is reservations.web.catalogue and the
equipment page reservations.web.equipment; platform_booking.urls gathers them under the
`equipment` namespace, and `manage_urlpatterns` under the `web` namespace with the other
managers' pages.
"""

from django.urls import URLPattern, path

from .web import documents, training

urlpatterns: list[URLPattern] = [
    path("<int:pk>/documents/", documents.document_upload, name="document_upload"),
    path(
        "<int:pk>/documents/<int:document_id>/",
        documents.document_download,
        name="document_download",
    ),
    path(
        "<int:pk>/documents/<int:document_id>/delete/",
        documents.document_remove,
        name="document_remove",
    ),
    path("<int:pk>/training/", training.training_request, name="training_request"),
    path("training/<int:pk>/cancel/", training.training_cancel, name="training_cancel"),
]

manage_urlpatterns: list[URLPattern] = [
    path("manage/training/", training.training_queue, name="training_queue"),
    path(
        "manage/training/<int:pk>/accept/",
        training.training_decide,
        {"decision": "accept"},
        name="training_accept",
    ),
    path(
        "manage/training/<int:pk>/decline/",
        training.training_decide,
        {"decision": "decline"},
        name="training_decline",
    ),
]
