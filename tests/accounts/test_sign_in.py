"""Single sign-on's one write (accounts.services.sign_in), whatever the protocol."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model

from accounts.models import ExternalIdentity
from accounts.services import Identity, IdentityRefused, sign_in
from core.models import AuditEntry, AuditObject
from core.roles import SYSTEM
from partners.models import Affiliation
from partners.services import partner_update

User = get_user_model()
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture
def domains(campus):
    partner_update(actor=SYSTEM, partner=campus.orleans, email_domains=["univ-orleans.fr"])
    partner_update(actor=SYSTEM, partner=campus.servier, email_domains=["servier.com"])
    return campus


def alice(**over):
    values = dict(
        provider="cas",
        subject="alice42",
        email="Alice.Martin@univ-orleans.fr",
        first_name="Alice",
        last_name="Martin",
    )
    return Identity(**{**values, **over})


def test_first_login_creates_the_user_from_the_attributes_and_attaches_the_partner(domains):
    user = sign_in(alice(), now=NOW)

    assert (user.username, user.email) == ("alice.martin", "alice.martin@univ-orleans.fr")
    assert (user.first_name, user.last_name) == ("Alice", "Martin")
    assert not user.has_usable_password()
    assert not user.is_staff and not user.is_superuser
    assert list(user.projects.all()) == [] and list(user.referent_of.all()) == []
    assert [a.partner for a in Affiliation.objects.filter(user=user)] == [domains.orleans]
    link = ExternalIdentity.objects.get(user=user)
    assert (link.provider, link.subject, link.created_at) == ("cas", "alice42", NOW)
    entry = AuditEntry.objects.get(object_type=AuditObject.USER, action="sign_up")
    assert entry.object_id == user.pk and entry.changes["provider"] == [None, "cas"]


def test_a_second_login_lands_on_the_same_user(domains):
    before = User.objects.count()
    first = sign_in(alice(), now=NOW)
    again = sign_in(alice(), now=NOW)
    assert again.pk == first.pk
    assert User.objects.count() == before + 1
    assert Affiliation.objects.filter(user=first).count() == 1


def test_a_changed_email_at_the_provider_updates_the_user_instead_of_creating_one(domains):
    first = sign_in(alice(), now=NOW)
    moved = sign_in(alice(email="alice@servier.com", last_name="Durand"), now=NOW)
    assert moved.pk == first.pk
    moved.refresh_from_db()
    assert (moved.email, moved.last_name) == ("alice@servier.com", "Durand")
    assert ExternalIdentity.objects.get(user=moved).email == "alice@servier.com"
    # The new domain's partner is added; the old affiliation stays (people move slowly).
    partners = {a.partner for a in Affiliation.objects.filter(user=moved)}
    assert partners == {domains.orleans, domains.servier}


def test_the_email_alone_never_links_to_an_existing_account(domains, make_user):
    local = make_user("amartin", email="alice.martin@univ-orleans.fr")
    user = sign_in(alice(), now=NOW)
    assert user.pk != local.pk
    # Same identifier at another provider: another person as far as we can tell.
    other = sign_in(alice(provider="saml"), now=NOW)
    assert other.pk not in (local.pk, user.pk)
    assert other.username == "alice.martin2"


def test_a_subdomain_attaches_to_its_partner_and_an_unknown_domain_to_none(domains):
    student = sign_in(
        alice(subject="s1", email="bob@etu.univ-orleans.fr", first_name="Bob"), now=NOW
    )
    assert [a.partner for a in student.affiliations.all()] == [domains.orleans]
    visitor = sign_in(alice(subject="v1", email="carol@example.net"), now=NOW)
    assert not visitor.affiliations.exists()
    # A look-alike domain is not a subdomain.
    fake = sign_in(alice(subject="f1", email="eve@evil-univ-orleans.fr"), now=NOW)
    assert not fake.affiliations.exists()


def test_a_deactivated_user_cannot_sign_in_and_no_identifier_is_refused(domains):
    user = sign_in(alice(), now=NOW)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert sign_in(alice(), now=NOW) is None
    with pytest.raises(IdentityRefused):
        sign_in(alice(subject="  "), now=NOW)


def test_the_provider_never_grants_staff_status_back(domains):
    user = sign_in(alice(), now=NOW)
    User.objects.filter(pk=user.pk).update(is_staff=True)  # given here by a manager
    again = sign_in(alice(), now=NOW)
    assert again.is_staff  # a local decision stays; the provider neither grants nor removes
