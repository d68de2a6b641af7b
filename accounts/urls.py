"""/accounts/: login and logout, and each configured single sign-on protocol's URLs."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path

from . import cas, oidc, saml, views

urlpatterns: list[URLPattern | URLResolver] = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    # CAS (accounts.cas): 404 unless CAS_SERVER_URL is set.
    path("cas/", include(cas.urlpatterns)),
    # OpenID Connect (accounts.oidc): 404 unless configured.
    path("oidc/login/", oidc.LoginView.as_view(), name="oidc_login"),
    path("oidc/callback/", oidc.LoginCallbackView.as_view(), name="oidc_callback"),
    path("oidc/logout/", oidc.LogoutView.as_view(), name="oidc_logout"),
    # SAML 2: its views answer 404 unless SAML_IDP_METADATA is set.
    path("saml/", include(saml.urlpatterns)),
]
