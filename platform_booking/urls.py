from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from calendars import web_urls as closure_pages
from equipment import urls as inventory_pages
from partners import web as account_page
from reservations import urls as booking_pages
from reservations.web import catalogue as catalogue_page
from reservations.web import equipment as equipment_page
from waitlist import urls as waitlist_pages

from . import password_reset, views

# Namespaces gather pages from the layer that can build them: the equipment page shows
# bookings, the closures pages import calendars, the waitlist's pages extend the booking pages;
# their URL names stay `equipment:…`, `web:…`.
equipment_urls = (
    [
        *inventory_pages.urlpatterns,
        path("", catalogue_page.catalogue, name="catalogue"),
        path("<int:pk>/", equipment_page.detail, name="detail"),
    ],
    "equipment",
)
web_urls = (
    [
        *booking_pages.urlpatterns,
        *closure_pages.urlpatterns,
        *inventory_pages.manage_urlpatterns,
        *waitlist_pages.urlpatterns,
    ],
    "web",
)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("api/v1/", include("platform_booking.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: the CSP forbids inline scripts.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("admin/", admin.site.urls),
    # Login (the local form and the configured single sign-on), logout, each protocol's URLs.
    path("accounts/", include("accounts.urls")),
    # Django's paths for a local account's password change (SPEC §13), in the site's layout;
    # done, it shows the account page.
    path(
        "accounts/password_change/", account_page.PasswordChange.as_view(), name="password_change"
    ),
    path(
        "accounts/password_change/done/",
        RedirectView.as_view(pattern_name="account:index", permanent=False),
        name="password_change_done",
    ),
    # Password reset by email, through the outbox (platform_booking.password_reset).
    path("accounts/password_reset/", password_reset.PasswordReset.as_view(), name="password_reset"),
    path(
        "accounts/password_reset/done/",
        password_reset.PasswordResetDone.as_view(),
        name="password_reset_done",
    ),
    path(
        "accounts/reset/<uidb64>/<token>/",
        password_reset.PasswordResetConfirm.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        password_reset.PasswordResetComplete.as_view(),
        name="password_reset_complete",
    ),
    path("i18n/setlang/", views.set_language, name="set_language"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("equipment/", include(equipment_urls)),
    path("calendars/", include("calendars.urls")),
    path("reports/", include("reports.urls")),
    path("account/", include("partners.urls")),
    path("planner/", include("planner.urls")),
    path("", include(web_urls)),
    path("", RedirectView.as_view(pattern_name="equipment:catalogue", permanent=False)),
]

handler400 = "platform_booking.views.bad_request"
handler403 = "platform_booking.views.permission_denied"
handler404 = "platform_booking.views.not_found"
handler500 = "platform_booking.views.server_error"
