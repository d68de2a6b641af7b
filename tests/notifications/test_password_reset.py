"""Password reset by email (SPEC §13) through the outbox (SPEC §12): the request records a row
and sends nothing; the worker's delivery makes the link; the link sets a password that passes
Django's validators, once; no email for an unknown address or an account without a
password; limits per account and per client address; the email's language."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db.models import F
from django.utils import timezone

from notifications.delivery import EXPIRED, NO_PASSWORD, deliver_due
from notifications.models import Kind, Notification, Status, new_notification
from partners.preferences import EmailTopic, notification_preferences_set
from partners.services import user_language_set
from reservations.services import reservation_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("addressed_campus")]

PARIS = ZoneInfo("Europe/Paris")
RESET = "/accounts/password_reset/"
STRONG = "Sel-marin-42"
LINK = re.compile(r"(https?://\S+)(/accounts/reset/[^/\s]+/[^/\s]+/)")


def ask(client, email: str, capture, **headers):
    """Post the form as the page does; answer the response and the commit's callbacks (not
    run: what the request itself did is checked before the worker's part)."""
    with capture() as callbacks:
        response = client.post(RESET, {"email": email}, **headers)
    assert response.status_code == 302 and response["Location"] == "/accounts/password_reset/done/"
    return response, callbacks


def link_in(message, settings) -> str:
    match = LINK.search(message.body)
    assert match, message.body
    assert match.group(1) == settings.SITE_URL  # the link's base: SITE_URL, as feeds
    return match.group(2)


def test_the_login_page_links_to_the_reset_page(client):
    page = client.get("/accounts/login/").content.decode()
    assert 'href="/accounts/password_reset/"' in page and "Mot de passe oublié ?" in page
    english = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Forgot your password?" in english


def test_the_reset_pages_are_in_the_sites_layout_in_french_first(client):
    form = client.get(RESET).content.decode()
    assert 'class="topbar"' in form and 'name="email"' in form
    assert "Mot de passe oublié" in form
    done = client.get("/accounts/password_reset/done/").content.decode()
    assert "Consultez votre messagerie" in done
    complete = client.get("/accounts/reset/done/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Password changed" in complete


def test_the_whole_flow_records_delivers_and_the_link_works_once(
    client, campus, settings, client_for, django_capture_on_commit_callbacks
):
    user = campus.researcher
    api = client_for(user)  # a token made under the old password
    assert api.get("/api/v1/me/").status_code == 200

    _response, callbacks = ask(client, user.email.upper(), django_capture_on_commit_callbacks)
    (row,) = Notification.objects.all()
    assert (row.kind, row.recipient, row.status, row.reservation_ids) == (
        Kind.PASSWORD_RESET,
        user,
        Status.PENDING,
        [],
    )
    assert mail.outbox == []  # nothing sent inside the request
    for callback in callbacks:  # the commit: the worker's task delivers it
        callback()
    row.refresh_from_db()
    assert (row.status, row.attempts) == (Status.SENT, 1)
    (message,) = mail.outbox
    assert message.to == [user.email]
    assert message.subject == "Réinitialisez votre mot de passe"
    assert message.extra_headers["Message-ID"] == row.message_id
    link = link_in(message, settings)
    token = link.rstrip("/").rsplit("/", 1)[1]
    # Made at delivery, nowhere stored: the row holds no token.
    assert token not in str(Notification.objects.filter(pk=row.pk).values().get())

    page = client.get(link, follow=True)
    assert page.status_code == 200
    assert 'name="new_password1"' in page.content.decode()
    form_url = page.redirect_chain[-1][0]  # Django's: the token moved to the session
    weak = client.post(
        form_url,
        {"new_password1": "12345678", "new_password2": "12345678"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert weak.status_code == 200
    assert "This password is too common." in weak.content.decode()
    user.refresh_from_db()
    assert user.check_password("pw-chercheur")

    done = client.post(form_url, {"new_password1": STRONG, "new_password2": STRONG})
    assert done.status_code == 302 and done["Location"] == "/accounts/reset/done/"
    user.refresh_from_db()
    assert user.check_password(STRONG)
    # Like any password change, it ends the API tokens made under the old password.
    assert api.get("/api/v1/me/").status_code == 401
    assert client.login(username=user.username, password=STRONG)
    client.logout()

    # The same link a second time: refused, the password stays.
    again = client.get(link, follow=True, HTTP_ACCEPT_LANGUAGE="en")
    text = again.content.decode()
    assert "This link no longer works" in text and 'name="new_password1"' not in text
    refused = client.post(
        link.replace(token, "set-password"),
        {"new_password1": "Autre-sel-43", "new_password2": "Autre-sel-43"},
    )
    assert refused.status_code == 200
    user.refresh_from_db()
    assert user.check_password(STRONG)


def test_unknown_address_and_accounts_without_password_get_the_same_page_and_no_row(
    client, campus, django_capture_on_commit_callbacks
):
    known, _ = ask(client, campus.researcher.email, django_capture_on_commit_callbacks)
    assert Notification.objects.count() == 1
    Notification.objects.all().delete()

    unknown, callbacks = ask(client, "personne@example.org", django_capture_on_commit_callbacks)
    assert unknown["Location"] == known["Location"]
    assert callbacks == [] and not Notification.objects.exists()

    campus.teacher.set_unusable_password()  # signs in through their institution only
    campus.teacher.save()
    ask(client, campus.teacher.email, django_capture_on_commit_callbacks)
    assert not Notification.objects.exists()

    campus.industrial.is_active = False
    campus.industrial.save()
    ask(client, campus.industrial.email, django_capture_on_commit_callbacks)
    assert not Notification.objects.exists()
    assert mail.outbox == []


def test_at_most_so_many_emails_per_account_per_hour(
    client, campus, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_PER_HOUR = 2
    for _ in range(4):
        ask(client, campus.researcher.email, django_capture_on_commit_callbacks)
    assert Notification.objects.filter(recipient=campus.researcher).count() == 2
    # Another account is not held back by this one's count.
    ask(client, campus.teacher.email, django_capture_on_commit_callbacks)
    assert Notification.objects.filter(recipient=campus.teacher).count() == 1
    # An hour later, the account may ask again.
    Notification.objects.update(created_at=F("created_at") - timedelta(minutes=61))
    ask(client, campus.researcher.email, django_capture_on_commit_callbacks)
    assert Notification.objects.filter(recipient=campus.researcher).count() == 3


def test_at_most_so_many_requests_per_client_address_per_hour(
    client, campus, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_PER_ADDRESS = 3
    here = {"REMOTE_ADDR": "203.0.113.7"}
    for number in range(2):  # unknown addresses count too: they cost the same to ask
        ask(client, f"inconnu{number}@example.org", django_capture_on_commit_callbacks, **here)
    ask(client, campus.researcher.email, django_capture_on_commit_callbacks, **here)
    assert Notification.objects.count() == 1
    # The fourth request from this address: the same page, nothing recorded.
    ask(client, campus.teacher.email, django_capture_on_commit_callbacks, **here)
    assert not Notification.objects.filter(recipient=campus.teacher).exists()
    # From another address it is recorded.
    there = {"REMOTE_ADDR": "198.51.100.9"}
    ask(client, campus.teacher.email, django_capture_on_commit_callbacks, **there)
    assert Notification.objects.filter(recipient=campus.teacher).count() == 1


def delivered_to(user):
    deliver_due()
    return [m for m in mail.outbox if m.to == [user.email]]


def test_the_email_speaks_the_recipients_language_else_the_asking_pages(
    client, campus, settings, django_capture_on_commit_callbacks
):
    # No preference, asked from an English page: English.
    ask(
        client,
        campus.researcher.email,
        django_capture_on_commit_callbacks,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert Notification.objects.get().language == "en"
    (english,) = delivered_to(campus.researcher)
    assert english.subject == "Reset your password"
    assert "asked to reset the password of your account chercheur" in english.body
    assert "The link works once, until" in english.body
    # No preference, asked from a French page: French.
    ask(client, campus.teacher.email, django_capture_on_commit_callbacks)
    (french,) = delivered_to(campus.teacher)
    assert french.subject == "Réinitialisez votre mot de passe"
    assert "réinitialiser le mot de passe de votre compte enseignant" in french.body
    assert "Le lien ne fonctionne qu'une fois, jusqu'au" in french.body
    # The recipient's own choice wins over the page's.
    user_language_set(user=campus.industrial, language="fr")
    ask(
        client,
        campus.industrial.email,
        django_capture_on_commit_callbacks,
        HTTP_ACCEPT_LANGUAGE="en",
    )
    (chosen,) = delivered_to(campus.industrial)
    assert chosen.subject == "Réinitialisez votre mot de passe"
    for message in (english, french, chosen):
        assert message.attachments == []


def test_preferences_never_turn_it_off(client, campus, django_capture_on_commit_callbacks):
    notification_preferences_set(
        user=campus.researcher, email=dict.fromkeys(EmailTopic.values, False)
    )
    ask(client, campus.researcher.email, django_capture_on_commit_callbacks)
    assert len(delivered_to(campus.researcher)) == 1
    assert Notification.objects.get().status == Status.SENT


def reset_row(user, *, age: timedelta = timedelta(0)) -> Notification:
    row = new_notification(Kind.PASSWORD_RESET, user.pk, [], event_at=timezone.now(), reason="")
    row.save()
    Notification.objects.filter(pk=row.pk).update(
        created_at=F("created_at") - age, next_attempt_at=F("next_attempt_at") - age
    )
    return row


def test_a_row_older_than_the_links_lifetime_is_not_sent(campus, settings):
    settings.PASSWORD_RESET_TIMEOUT = 3600
    late = reset_row(campus.researcher, age=timedelta(minutes=61))
    in_time = reset_row(campus.teacher, age=timedelta(minutes=59))
    counts = deliver_due()
    assert (counts.sent, counts.skipped) == (1, 1)
    late.refresh_from_db()
    assert (late.status, late.last_error) == (Status.SKIPPED, EXPIRED)
    assert [m.to for m in mail.outbox] == [[campus.teacher.email]]
    in_time.refresh_from_db()
    assert in_time.status == Status.SENT


def test_the_link_is_made_at_delivery_and_lives_from_then(client, campus, settings):
    """Asked 50 minutes before the worker could send it, with a one-hour lifetime: the link
    still works (its clock starts at delivery)."""
    settings.PASSWORD_RESET_TIMEOUT = 3600
    reset_row(campus.researcher, age=timedelta(minutes=50))
    deliver_due()
    (message,) = mail.outbox
    page = client.get(link_in(message, settings), follow=True)
    assert 'name="new_password1"' in page.content.decode()


def test_an_account_that_lost_its_password_before_delivery_is_not_sent_it(campus):
    row = reset_row(campus.researcher)
    campus.researcher.set_unusable_password()
    campus.researcher.save()
    deliver_due()
    row.refresh_from_db()
    assert (row.status, row.last_error) == (Status.SKIPPED, NO_PASSWORD)
    assert mail.outbox == []


def test_reset_and_reservation_emails_share_a_batch(campus, django_capture_on_commit_callbacks):
    """A row with no reservations beside the reservation kinds: each gets its own email."""
    monday = datetime(2026, 3, 16, 8, 0, tzinfo=PARIS)
    with django_capture_on_commit_callbacks(execute=False):
        reservation_create(
            user=campus.researcher,
            project=campus.research,
            equipment=[campus.rheometer],
            start=datetime(2026, 3, 24, 10, 0, tzinfo=PARIS),
            end=datetime(2026, 3, 24, 12, 0, tzinfo=PARIS),
            title="Mesures",
            now=monday,
        )
    reset_row(campus.researcher)
    counts = deliver_due()
    assert (counts.sent, counts.failed, counts.retried) == (2, 0, 0)
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == ["Réinitialisez votre mot de passe", "Réservation confirmée"]
    confirmation = next(m for m in mail.outbox if m.subject == "Réservation confirmée")
    assert "Mesures sur TO-RHEO-01" in confirmation.body
    assert len(confirmation.attachments) == 1  # the .ics, as before
