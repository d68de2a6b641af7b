"""Single sign-on's one write: find or create the local user of a provider's identity.

Every protocol (accounts.cas, accounts.saml, accounts.oidc) hands its verified identity
here, so that the rules hold for all three alike (SPEC §13):
- the provider's stable identifier links later logins to the same user, never the email;
- the first login creates the user from the attributes (email, given and family names),
  with an unusable password, and attaches them to the partner of their email's domain;
- a provider grants nothing: no staff status, no role, no project (those stay the
  platform managers' and referents' to give);
- a changed email or name at the provider updates the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone

from core import audit
from core.models import AuditObject
from partners.services import affiliate, partner_for_email

from .models import ExternalIdentity

User = get_user_model()


@dataclass(frozen=True)
class Identity:
    """What a provider vouched for, once its protocol checked the answer."""

    provider: str
    subject: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""


class IdentityRefused(Exception):
    """The provider's answer cannot make a user (no identifier); the login fails."""


def sign_in(identity: Identity, *, now: datetime | None = None) -> Any:
    """The active local user of this identity, created on its first login; None when that
    user was deactivated here (a platform manager's decision outlives the provider's)."""
    now = now or timezone.now()
    subject = identity.subject.strip()
    if not subject:
        raise IdentityRefused("the provider gave no identifier")
    identity = Identity(
        provider=identity.provider,
        subject=subject,
        email=identity.email.strip().lower(),
        first_name=identity.first_name.strip()[:150],
        last_name=identity.last_name.strip()[:150],
    )
    try:
        with transaction.atomic():
            user = _sign_in(identity, now=now)
    except IntegrityError:
        # Two first logins of one person at once: the other created the link; use it.
        with transaction.atomic():
            user = _sign_in(identity, now=now)
    return user if user.is_active else None


def _sign_in(identity: Identity, *, now: datetime) -> Any:
    link = (
        ExternalIdentity.objects.select_for_update()
        .select_related("user")
        .filter(provider=identity.provider, subject=identity.subject)
        .first()
    )
    if link is None:
        user = _create_user(identity, now=now)
        link = ExternalIdentity.objects.create(
            user=user,
            provider=identity.provider,
            subject=identity.subject,
            email=identity.email,
            created_at=now,
            last_login_at=now,
        )
    else:
        user = link.user
        _refresh(user, identity)
        link.email = identity.email or link.email
        link.last_login_at = now
        link.save(update_fields=["email", "last_login_at"])
    if identity.email and (partner := partner_for_email(identity.email)) is not None:
        affiliate(user=user, partner=partner, now=now)
    return user


def _create_user(identity: Identity, *, now: datetime) -> Any:
    user = User(
        username=_free_username(identity),
        email=identity.email,
        first_name=identity.first_name,
        last_name=identity.last_name,
        is_staff=False,
        is_superuser=False,
    )
    user.set_unusable_password()
    user.save()
    audit.record_change(
        object_type=AuditObject.USER,
        object_id=user.pk,
        action="sign_up",
        at=now,
        by=None,
        changes={"provider": [None, identity.provider], "username": [None, user.username]},
    )
    return user


def _refresh(user: Any, identity: Identity) -> None:
    """What the provider says now of the person's email and names wins."""
    changed = []
    for field in ("email", "first_name", "last_name"):
        value = getattr(identity, field)
        if value and getattr(user, field) != value:
            setattr(user, field, value)
            changed.append(field)
    if changed:
        user.save(update_fields=changed)


def _free_username(identity: Identity) -> str:
    """A readable username not yet taken: the email's local part, else the identifier."""
    base = identity.email.partition("@")[0] if identity.email else identity.subject
    base = re.sub(r"[^\w.@+-]", "", base)[:140] or identity.provider
    taken = {
        name.lower()
        for name in User.objects.filter(username__istartswith=base).values_list(
            "username", flat=True
        )
    }
    name, n = base, 1
    while name.lower() in taken:
        n += 1
        name = f"{base}{n}"
    return name
