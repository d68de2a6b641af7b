"""API tokens (SPEC §13): stored hashed, revocable by their owner, void after a password
change whatever path changed it."""

from __future__ import annotations

import hashlib
import importlib

import pytest
from django.apps import apps as global_apps
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from rest_framework.test import APIClient

from core.models import ApiToken

pytestmark = pytest.mark.django_db
User = get_user_model()


def login(username: str) -> str:
    response = APIClient().post(
        "/api/v1/auth/token/", {"username": username, "password": f"pw-{username}"}, format="json"
    )
    assert response.status_code == 200
    assert set(response.json()) == {"token"}
    return response.json()["token"]


def me(key: str) -> int:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get("/api/v1/me/").status_code


def dump_database() -> str:
    """Every value of every table, as text."""
    values = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            values.extend(str(value) for row in cursor.fetchall() for value in row)
    return "\n".join(values)


def test_the_database_never_holds_the_key(make_user):
    make_user("alice")
    key = login("alice")
    assert me(key) == 200
    stored = ApiToken.objects.get()
    assert stored.digest == hashlib.sha256(key.encode()).hexdigest()
    assert key not in dump_database()
    assert key[:12] not in dump_database()


def test_each_login_issues_a_new_token_and_both_work(make_user):
    make_user("alice")
    first, second = login("alice"), login("alice")
    assert first != second
    assert me(first) == 200 and me(second) == 200


def test_delete_revokes_the_token_presented(make_user):
    make_user("alice")
    kept, revoked = login("alice"), login("alice")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {revoked}")
    response = client.delete("/api/v1/auth/token/")
    assert response.status_code == 204
    assert me(revoked) == 401
    assert me(kept) == 200
    body = APIClient().delete("/api/v1/auth/token/")
    assert body.status_code == 401 and body.json()["code"] == "not_authenticated"


def test_delete_from_a_session_revokes_all_the_callers_tokens(make_user):
    alice, bob = make_user("alice"), make_user("bob")
    keys = [login("alice"), login("alice")]
    bobs = login("bob")
    client = APIClient()
    client.force_login(alice)
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert [me(key) for key in keys] == [401, 401]
    assert me(bobs) == 200
    assert not ApiToken.objects.filter(user=alice).exists()
    assert ApiToken.objects.filter(user=bob).exists()


def test_a_token_from_before_set_password_is_refused(make_user):
    alice = make_user("alice")
    key = login("alice")
    alice.set_password("Un-nouveau-mot-2")
    alice.save()
    response = APIClient()
    response.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    answer = response.get("/api/v1/me/")
    assert answer.status_code == 401
    assert answer.json()["code"] == "authentication_failed"
    # A new login under the new password works.
    fresh = APIClient().post(
        "/api/v1/auth/token/",
        {"username": "alice", "password": "Un-nouveau-mot-2"},
        format="json",
    )
    assert me(fresh.json()["token"]) == 200


def test_a_token_from_before_a_bulk_update_of_the_password_is_refused(make_user):
    make_user("alice")
    key = login("alice")
    User.objects.filter(username="alice").update(password="md5$other$0123")
    assert me(key) == 401


def test_the_password_page_voids_the_tokens(make_user):
    alice = make_user("alice")
    key = login("alice")
    client = Client()
    client.force_login(alice)
    response = client.post(
        "/account/password/",
        {
            "old_password": "pw-alice",
            "new_password1": "Sel-marin-42",
            "new_password2": "Sel-marin-42",
        },
    )
    assert response.status_code == 302
    assert me(key) == 401


def test_the_admin_password_form_voids_the_tokens(make_user):
    admin = make_user("root", is_staff=True, is_superuser=True)
    alice = make_user("alice")
    key = login("alice")
    client = Client()
    client.force_login(admin)
    response = client.post(
        f"/admin/auth/user/{alice.pk}/password/",
        {"password1": "Sel-marin-42", "password2": "Sel-marin-42", "usable_password": "true"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert me(key) == 401


def test_an_inactive_users_token_is_refused(make_user):
    alice = make_user("alice")
    key = login("alice")
    alice.is_active = False
    alice.save()
    assert me(key) == 401


def test_the_account_page_tells_whether_a_valid_token_exists(make_user):
    alice = make_user("alice")
    login("alice")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(alice)
    assert "You have no API token." not in client.get("/account/").content.decode()
    alice.set_password("Sel-marin-42")
    alice.save()
    client.force_login(alice)
    assert "You have no API token." in client.get("/account/").content.decode()


@pytest.mark.django_db(transaction=True)  # SQLite's schema editor refuses a transaction
def test_plain_tokens_of_the_old_table_are_hashed_and_keep_working(make_user):
    alice = make_user("alice")
    plain = "0123456789abcdef0123456789abcdef01234567"  # DRF's 40 hex characters
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TABLE authtoken_token (key varchar(40) PRIMARY KEY, "
            "created timestamp NOT NULL, user_id integer NOT NULL)"
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [plain, "2026-01-01 00:00:00", alice.pk],
        )
    migration = importlib.import_module("core.migrations.0003_hash_plain_api_tokens")
    with connection.schema_editor() as editor:
        migration.hash_plain_tokens(global_apps, editor)
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone() == (0,)  # emptied, kept for code from before
        cursor.execute("DROP TABLE authtoken_token")
    assert plain not in dump_database()
    assert me(plain) == 200
    assert me(plain[:-1] + "8") == 401


# A Django upgrade (or a change of PASSWORD_HASHERS): the stored MD5 hashes are outdated,
# and check_password rewrites them at the next login, same password, new hash.
UPGRADED_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.MD5PasswordHasher",
]


def test_a_rehash_of_the_same_password_keeps_the_tokens(make_user, settings):
    alice = make_user("alice")
    bob = make_user("bob")
    key, bobs = login("alice"), login("bob")
    settings.PASSWORD_HASHERS = UPGRADED_HASHERS
    fresh = login("alice")  # check_password rehashes alice's password
    alice.refresh_from_db()
    assert alice.password.startswith("pbkdf2_sha256$")
    assert me(key) == 200 and me(fresh) == 200
    # A rehash through authenticate() and the login page too.
    client = Client()
    assert (
        client.post("/accounts/login/", {"username": "bob", "password": "pw-bob"}).status_code
        == 302
    )
    bob.refresh_from_db()
    assert bob.password.startswith("pbkdf2_sha256$")
    assert me(bobs) == 200


def test_a_new_password_still_voids_the_tokens_after_an_upgrade(make_user, settings):
    alice = make_user("alice")
    key = login("alice")
    settings.PASSWORD_HASHERS = UPGRADED_HASHERS
    alice.set_password("Sel-marin-42")
    alice.save(update_fields=["password"])
    assert me(key) == 401


def test_saving_an_outdated_hash_by_hand_voids_the_tokens(make_user, settings):
    alice = make_user("alice")
    key = login("alice")
    settings.PASSWORD_HASHERS = UPGRADED_HASHERS
    # Not check_password's setter: a hash assigned and saved (no rehash of the same
    # password can be told apart from a new one here, so the tokens go).
    alice.password = "md5$other$0123"
    alice.save()
    assert me(key) == 401
