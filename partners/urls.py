"""My account (SPEC §8): language, calendar feed token, API token, password change."""

from django.urls import path

from . import web

app_name = "account"

urlpatterns = [
    path("", web.account, name="index"),
    path("feed-token/", web.rotate_feed_token, name="feed_token"),
    path("api-token/", web.revoke_api_token, name="api_token"),
    # The page's address is /accounts/password_change/ (platform_booking.urls, SPEC §13);
    # this older one keeps answering with the same page.
    path("password/", web.PasswordChange.as_view(), name="password"),
]
