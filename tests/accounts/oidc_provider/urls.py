from pathlib import Path

from django.conf import settings
from django.contrib.auth.views import LoginView
from django.http import JsonResponse
from django.urls import include, path
from jwcrypto import jwk
from oauth2_provider.views import JwksInfoView

_other_key = jwk.JWK.generate(kty="RSA", size=2048)


def jwks(request):
    """The provider's keys; while the test's flag file exists, another key under the real
    key's id: the ID tokens' signatures then do not verify."""
    if not Path(settings.CONFIG["wrong_key_flag"]).exists():
        return JwksInfoView.as_view()(request)
    real = jwk.JWK.from_pem(settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"].encode())
    public = _other_key.export_public(as_dict=True)
    public.update(kid=real.thumbprint(), alg="RS256", use="sig")
    return JsonResponse({"keys": [public]})


urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("o/.well-known/jwks.json", jwks),
    path("o/", include("oauth2_provider.urls", namespace="oauth2_provider")),
]
