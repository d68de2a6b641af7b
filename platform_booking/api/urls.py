"""The `/api/v1/` router."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from calendars.api import ClosureImportView
from equipment.api.views import (
    CategoryViewSet,
    EquipmentDocumentDownloadView,
    EquipmentDocumentsView,
    EquipmentDocumentView,
    QualificationViewSet,
    SiteViewSet,
    TrainingRequestViewSet,
)
from partners.api.views import (
    FeedTokenView,
    MeView,
    NotificationPreferencesView,
    PartnerViewSet,
    ProjectViewSet,
)
from planner.api.views import PlanViewSet
from reports.api import UsageReportView
from reservations.api.audit import AuditViewSet
from reservations.api.booking import (
    AvailabilitiesView,
    AvailabilityView,
    ClosureViewSet,
)
from reservations.api.equipment import BookableEquipmentViewSet
from waitlist.api import WaitlistReservationViewSet, WaitlistViewSet

from .auth import TokenLoginView

router = DefaultRouter()
router.register("sites", SiteViewSet, basename="site")
router.register("categories", CategoryViewSet, basename="category")
router.register("partners", PartnerViewSet, basename="partner")
router.register("equipment", BookableEquipmentViewSet, basename="equipment")
router.register("projects", ProjectViewSet, basename="project")
# Before "qualifications": its detail route would read "requests" as a qualification's id.
router.register("qualifications/requests", TrainingRequestViewSet, basename="qualification-request")
router.register("qualifications", QualificationViewSet, basename="qualification")
# Reservations' own endpoints, whose booking may also queue (SPEC §10).
router.register("reservations", WaitlistReservationViewSet, basename="reservation")
router.register("waitlist", WaitlistViewSet, basename="waitlist")
router.register("closures", ClosureViewSet, basename="closure")
router.register("audit", AuditViewSet, basename="audit")
router.register("plans", PlanViewSet, basename="plan")

urlpatterns = [
    path("auth/token/", TokenLoginView.as_view(), name="token-login"),
    path("closures/import/", ClosureImportView.as_view(), name="closure-import"),
    path("reports/usage/", UsageReportView.as_view(), name="report-usage"),
    path("me/", MeView.as_view(), name="me"),
    path("me/feed-token/", FeedTokenView.as_view(), name="me-feed-token"),
    path(
        "me/notifications/",
        NotificationPreferencesView.as_view(),
        name="me-notifications",
    ),
    path(
        "equipment/<int:pk>/availability/",
        AvailabilityView.as_view(),
        name="equipment-availability",
    ),
    path("availability/", AvailabilitiesView.as_view(), name="availability"),
    path(
        "equipment/<int:pk>/documents/",
        EquipmentDocumentsView.as_view(),
        name="equipment-documents",
    ),
    path(
        "equipment/<int:pk>/documents/<int:document_id>/",
        EquipmentDocumentView.as_view(),
        name="equipment-document",
    ),
    path(
        "equipment/<int:pk>/documents/<int:document_id>/download/",
        EquipmentDocumentDownloadView.as_view(),
        name="equipment-document-download",
    ),
    path("", include(router.urls)),
]
