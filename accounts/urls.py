"""/accounts/: login and logout, and each configured single sign-on protocol's URLs."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from . import saml, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # SAML 2: its views answer 404 unless SAML_IDP_METADATA is set.
    path("saml/", include(saml.urlpatterns)),
]
