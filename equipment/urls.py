"""The inventory's pages that need no bookings: an equipment's documents.

The catalogue (its free-time filter reads bookings) is reservations.web.catalogue and the
equipment page reservations.web.equipment; platform_booking.urls gathers them under the
`equipment` namespace.
"""

from django.urls import URLPattern, path

from . import views

urlpatterns: list[URLPattern] = [
    path("<int:pk>/documents/", views.document_upload, name="document_upload"),
    path(
        "<int:pk>/documents/<int:document_id>/",
        views.document_download,
        name="document_download",
    ),
    path(
        "<int:pk>/documents/<int:document_id>/delete/",
        views.document_remove,
        name="document_remove",
    ),
]
