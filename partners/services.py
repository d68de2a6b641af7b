"""Writes for partners, projects, feed tokens and user preferences.

The writes of partners and projects take the `actor` and refuse (403, see
partners.permissions) what that actor may not do; the platform's own jobs pass
core.roles.SYSTEM. Feed tokens and the language are the user's own: `user` acts.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from core import audit
from core.errors import DomainError
from core.models import AuditObject
from core.roles import require
from partners.models import Affiliation, FeedToken, Partner, Project, ProjectKind, UserPreference
from partners.permissions import (
    may_create_partner,
    may_create_project,
    may_edit_partner,
    may_edit_project,
    may_move_project,
)

PROJECT_FIELDS = (
    "name",
    "kind",
    "partner",
    "leader",
    "description",
    "active_from",
    "active_until",
    "confidential",
)


@transaction.atomic
def partner_create(
    *,
    actor: Any,
    name: str,
    kind: str,
    rate_category: str,
    referents: Iterable[Any] = (),
    email_domains: Iterable[str] = (),
) -> Partner:
    """Create a partner with its referents (platform managers)."""
    require(may_create_partner(actor))
    partner = Partner(name=name, kind=kind, rate_category=rate_category)
    partner.email_domains = normalize_email_domains(email_domains, partner=partner)
    partner.full_clean()
    partner.save()
    partner.referents.set(referents)
    return partner


@transaction.atomic
def partner_update(
    *, actor: Any, partner: Partner, referents: Iterable[Any] | None = None, **fields: Any
) -> Partner:
    """Change a partner's fields, and its referents when given (platform managers)."""
    require(may_edit_partner(actor))
    for name, value in fields.items():
        if name not in ("name", "kind", "rate_category", "email_domains"):
            raise TypeError(f"unknown partner field: {name}")
        if name == "email_domains":
            value = normalize_email_domains(value, partner=partner)
        setattr(partner, name, value)
    partner.full_clean()
    partner.save()
    if referents is not None:
        partner.referents.set(referents)
    return partner


# A DNS name: labels of letters, digits and inner hyphens (IDNs in their xn-- form).
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$")


def normalize_email_domains(domains: Iterable[str], *, partner: Partner) -> list[str]:
    """The domains as stored: lower case, without a leading "@", sorted, each once; refused
    when one is not a domain or already belongs to another partner (single sign-on would
    not know whom to attach its people to)."""
    if isinstance(domains, str):
        domains = [domains]
    cleaned = sorted({str(d).strip().lower().removeprefix("@").rstrip(".") for d in domains})
    errors = [
        _("“%(domain)s” is not a domain name.") % {"domain": d}
        for d in cleaned
        if not _DOMAIN.match(d)
    ]
    if not errors and cleaned:
        # One writer of domains at a time (the callers' transaction holds the locks): two
        # partners saved together cannot both take a domain.
        list(Partner.objects.select_for_update().order_by("pk").values_list("pk"))
        for other in Partner.objects.exclude(pk=partner.pk).only("name", "email_domains"):
            for taken in sorted(set(cleaned) & set(other.email_domains or [])):
                errors.append(
                    _("The domain %(domain)s already belongs to %(partner)s.")
                    % {"domain": taken, "partner": other.name}
                )
    if errors:
        raise ValidationError({"email_domains": errors})
    return cleaned


def partner_for_email(email: str) -> Partner | None:
    """The partner whose domains hold the address's domain, the most precise first: a
    partner of "etu.univ-tours.fr" wins over one of "univ-tours.fr" for a student."""
    domain = email.rpartition("@")[2].strip().lower().rstrip(".")
    if not domain:
        return None
    candidates = [".".join(domain.split(".")[i:]) for i in range(domain.count(".") + 1)]
    owners: dict[str, Partner] = {}
    for partner in Partner.objects.only("name", "email_domains"):
        for owned in partner.email_domains or []:
            owners[owned] = partner
    return next((owners[c] for c in candidates if c in owners), None)


@transaction.atomic
def affiliate(*, user: Any, partner: Partner, now: datetime, actor: Any = None) -> bool:
    """Attach the user to the partner (no role comes with it); False if already attached."""
    _affiliation, created = Affiliation.objects.get_or_create(user=user, partner=partner)
    if created:
        audit.record_change(
            object_type=AuditObject.USER,
            object_id=user.pk,
            action="affiliate",
            at=now,
            by=actor,
            changes={"partner": [None, partner.pk]},
        )
    return created


def _check_project(project: Project) -> None:
    # Industrial details are always confidential, whatever the request says.
    if project.kind == ProjectKind.INDUSTRIAL:
        project.confidential = True
    if project.active_until and project.active_from and project.active_until < project.active_from:
        raise ValidationError({"active_until": [_("Must not be before the start of the project.")]})
    project.full_clean()


def _project_values(project: Project) -> dict[str, Any]:
    """What the trail follows of a project: its fields and its team (member ids)."""
    values = {name: getattr(project, name) for name in PROJECT_FIELDS}
    values["members"] = sorted(project.members.values_list("pk", flat=True))
    return values


def _audit_project(project: Project, action: str, before: dict[str, Any], *, actor: Any) -> None:
    audit.record_change(
        object_type=AuditObject.PROJECT,
        object_id=project.pk,
        action=action,
        changes=audit.diff(before, _project_values(project)),
        by=actor,
    )


@transaction.atomic
def project_create(*, actor: Any, members: Iterable[Any] = (), **fields: Any) -> Project:
    """Create a project; its leader is always one of its members."""
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise TypeError(f"unknown project fields: {sorted(unknown)}")
    require(may_create_project(actor, fields.get("partner")))
    project = Project(**fields)
    _check_project(project)
    project.save()
    project.members.set({*members, project.leader})
    _audit_project(project, "create", {}, actor=actor)
    return project


@transaction.atomic
def project_update(
    *, actor: Any, project: Project, members: Iterable[Any] | None = None, **fields: Any
) -> Project:
    """Change a project; `members` replaces the team, which always keeps the leader."""
    unknown = set(fields) - set(PROJECT_FIELDS)
    if unknown:
        raise TypeError(f"unknown project fields: {sorted(unknown)}")
    project = Project.objects.select_for_update().get(pk=project.pk)
    # Decided on the locked row: its leader and partner are those the change applies to.
    require(may_edit_project(actor, project))
    new_partner = fields.get("partner", project.partner)
    require(may_move_project(actor, project, new_partner, fields.get("kind", project.kind)))
    before = _project_values(project)
    for name, value in fields.items():
        setattr(project, name, value)
    _check_project(project)
    project.save()
    if members is not None:
        project.members.set({*members, project.leader})
    elif "leader" in fields:
        project.members.add(project.leader)
    _audit_project(project, "update", before, actor=actor)
    return project


@transaction.atomic
def feed_token_rotate(*, user: Any) -> FeedToken:
    """Give the user a new feed token; the old one stops working at once."""
    token, created = FeedToken.objects.get_or_create(user=user)
    if not created:
        token.key = secrets.token_urlsafe(32)
        token.save(update_fields=["key", "created_at"])
    return token


def feed_token_for(*, user: Any) -> FeedToken:
    token, _created = FeedToken.objects.get_or_create(user=user)
    return token


def user_language_set(*, user: Any, language: str) -> UserPreference:
    """Remember the language the user chose (their emails follow it); "" forgets it."""
    if language and language not in dict(settings.LANGUAGES):
        raise DomainError(
            "invalid",
            fields={"language": [_("Choose one of: %s.") % ", ".join(dict(settings.LANGUAGES))]},
        )
    preference, _created = UserPreference.objects.update_or_create(
        user=user, defaults={"language": language}
    )
    return preference


def user_language(user: Any) -> str | None:
    """The language the user chose, or None when unknown."""
    preference = getattr(user, "preference", None) if user is not None else None
    return (preference.language or None) if preference is not None else None
