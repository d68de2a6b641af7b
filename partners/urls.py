"""My account (SPEC §8): language, calendar feed token, API token, password change."""

from django.urls import path

from . import web

app_name = "account"

urlpatterns = [
    path("", web.account, name="index"),
    path("feed-token/", web.rotate_feed_token, name="feed_token"),
    path("api-token/", web.revoke_api_token, name="api_token"),
    path("password/", web.PasswordChange.as_view(), name="password"),
]
