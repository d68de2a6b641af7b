"""The audit trail in words, for the managers' page: labels, values, who and what.

Values come as the trail stores them (JSON: ids, UTC ISO instants, text amounts); each
becomes words in the active language: statuses and kinds by their labels, instants in
Paris time (`d/m/Y H:i`, the French short format), people, partners, sites and
equipment by name (looked up once per page, whatever its length).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.models import AuditEntry, AuditObject
from equipment.models import Equipment, Site
from partners.models import Partner, ProjectKind
from reservations.models import Closure, ReservationStatus

User = get_user_model()

ACTIONS: dict[str, Promise] = {
    "create": gettext_lazy("created"),
    "update": gettext_lazy("changed"),
    "delete": gettext_lazy("deleted"),
    "move": gettext_lazy("moved"),
    "cancel": gettext_lazy("cancelled"),
    "approve": gettext_lazy("approved"),
    "reject": gettext_lazy("rejected"),
    "displace": gettext_lazy("displaced"),
    "check_in": gettext_lazy("checked in"),
    "check_out": gettext_lazy("checked out"),
    "no_show": gettext_lazy("no-show"),
    "completed": gettext_lazy("completed"),
    "grant": gettext_lazy("granted"),
    "renew": gettext_lazy("renewed"),
    "revoke": gettext_lazy("revoked"),
}

FIELDS: dict[str, Promise] = {
    "status": gettext_lazy("status"),
    "start": gettext_lazy("start"),
    "end": gettext_lazy("end"),
    "title": gettext_lazy("title"),
    "expected_participants": gettext_lazy("expected participants"),
    "checked_in_at": gettext_lazy("checked in at"),
    "checked_out_at": gettext_lazy("checked out at"),
    "reason": gettext_lazy("reason"),
    "kind": gettext_lazy("kind"),
    "source": gettext_lazy("source"),
    "site": gettext_lazy("site"),
    "requires_qualification": gettext_lazy("requires a qualification"),
    "requires_check_in": gettext_lazy("requires check-in"),
    "rates.teaching": gettext_lazy("hourly rate, teaching"),
    "rates.academic": gettext_lazy("hourly rate, academic"),
    "rates.industrial": gettext_lazy("hourly rate, industrial"),
    "policy.granularity_minutes": gettext_lazy("time step (minutes)"),
    "policy.min_duration_minutes": gettext_lazy("shortest reservation (minutes)"),
    "policy.max_duration_minutes": gettext_lazy("longest reservation (minutes)"),
    "policy.opening_hours": gettext_lazy("opening hours"),
    "policy.horizon_days": gettext_lazy("booking horizon (days)"),
    "policy.min_notice_minutes": gettext_lazy("notice (minutes)"),
    "policy.buffer_minutes": gettext_lazy("buffer between bookings (minutes)"),
    "policy.approval_required_for": gettext_lazy("approval required for"),
    "policy.weekly_quota_hours": gettext_lazy("weekly quota (hours)"),
    "policy.teaching_windows": gettext_lazy("teaching windows"),
    "policy.teaching_release_days": gettext_lazy("teaching release (days)"),
    "policy.preemption_notice_days": gettext_lazy("priority notice (days)"),
    "policy.late_cancellation_hours": gettext_lazy("late cancellation (hours)"),
    "policy.check_in_grace_minutes": gettext_lazy("check-in grace (minutes)"),
    "name": gettext_lazy("name"),
    "partner": gettext_lazy("partner"),
    "leader": gettext_lazy("leader"),
    "description": gettext_lazy("description"),
    "active_from": gettext_lazy("active from"),
    "active_until": gettext_lazy("active until"),
    "confidential": gettext_lazy("confidential"),
    "members": gettext_lazy("members"),
    "user": gettext_lazy("user"),
    "valid_until": gettext_lazy("valid until"),
}

INSTANTS = {"start", "end", "checked_in_at", "checked_out_at"}
DATES = {"active_from", "active_until", "valid_until"}
PEOPLE = {"leader", "user"}
# Labels of coded values, by object type and field.
CHOICES: dict[tuple[str, str], dict[str, Any]] = {
    (AuditObject.RESERVATION, "status"): dict(ReservationStatus.choices),
    (AuditObject.EQUIPMENT, "status"): dict(Equipment.Status.choices),
    (AuditObject.CLOSURE, "kind"): dict(Closure.Kind.choices),
    (AuditObject.PROJECT, "kind"): dict(ProjectKind.choices),
}


@dataclass
class Change:
    label: str
    before: str
    after: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class Row:
    entry: AuditEntry
    who: str
    what: str
    action: str
    changes: list[Change]
    overridden: str


class Names:
    """Names of the people, sites, partners and equipment the entries mention: one query each."""

    def __init__(self, entries: Sequence[AuditEntry]):
        people: set[int] = set()
        sites: set[int] = set()
        partners: set[int] = set()
        equipment: set[int] = set()
        for entry in entries:
            if entry.equipment_id:
                equipment.add(entry.equipment_id)
            if entry.site_id:
                sites.add(entry.site_id)
            for key, pair in (entry.changes or {}).items():
                for value in pair:
                    if value is None:
                        continue
                    if key in PEOPLE and isinstance(value, int):
                        people.add(value)
                    elif key == "members" and isinstance(value, list):
                        people.update(v for v in value if isinstance(v, int))
                    elif key == "site" and isinstance(value, int):
                        sites.add(value)
                    elif key == "partner" and isinstance(value, int):
                        partners.add(value)
        self.people = {
            u.pk: u.get_full_name() or u.get_username() for u in User.objects.filter(pk__in=people)
        }
        self.sites = dict(Site.objects.filter(pk__in=sites).values_list("pk", "name"))
        self.partners = dict(Partner.objects.filter(pk__in=partners).values_list("pk", "name"))
        self.equipment = {
            pk: f"{code} – {name}"
            for pk, code, name in Equipment.objects.filter(pk__in=equipment).values_list(
                "pk", "code", "name"
            )
        }


def _missing(key: str) -> str:
    return _("platform default") if key.startswith("policy.") else "—"


def value_in_words(object_type: str, key: str, value: Any, names: Names) -> str:
    """One stored value in words."""
    if value is None or value == "":
        return _missing(key)
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key in INSTANTS and isinstance(value, str):
        instant = parse_datetime(value)
        if instant is not None:
            return formats.date_format(timezone.localtime(instant), "SHORT_DATETIME_FORMAT")
    if key in DATES and isinstance(value, str):
        day: date | None = parse_date(value)
        if day is not None:
            return formats.date_format(day, "SHORT_DATE_FORMAT")
    if key in PEOPLE and isinstance(value, int):
        return names.people.get(value, f"#{value}")
    if key == "site" and isinstance(value, int):
        return names.sites.get(value, f"#{value}")
    if key == "partner" and isinstance(value, int):
        return names.partners.get(value, f"#{value}")
    if (object_type, key) in CHOICES:
        return str(CHOICES[object_type, key].get(value, value))
    if key.startswith("rates.") and isinstance(value, str | int | float):
        return _("%(amount)s €/h") % {"amount": formats.number_format(value, 2)}
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    if isinstance(value, dict):
        return "; ".join(
            f"{k}: {', '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in value.items()
        )
    return str(value)


def _change(object_type: str, key: str, pair: Sequence[Any], names: Names) -> Change:
    label = str(FIELDS.get(key, key))
    before, after = [*pair, None, None][:2]
    if key == "members":
        old, new = set(before or []), set(after or [])

        def who(ids: Iterable[int]) -> list[str]:
            return sorted(names.people.get(i, f"#{i}") for i in ids)

        return Change(label, "", "", added=who(new - old), removed=who(old - new))
    return Change(
        label,
        value_in_words(object_type, key, before, names),
        value_in_words(object_type, key, after, names),
    )


def _what(entry: AuditEntry, names: Names) -> str:
    """The object: its kind and id, then its equipment, or a closure's site (or every site)."""
    kinds = dict(AuditObject.choices)
    text = f"{kinds.get(entry.object_type, entry.object_type)} #{entry.object_id}"
    if entry.equipment_id:
        return f"{text} · {names.equipment.get(entry.equipment_id, f'#{entry.equipment_id}')}"
    if entry.object_type == AuditObject.CLOSURE:
        where = names.sites.get(entry.site_id, f"#{entry.site_id}") if entry.site_id else None
        return f"{text} · {where or _('every site')}"
    return text


def describe(entries: Sequence[AuditEntry]) -> list[Row]:
    """Rows for the page: each entry's author, object, action and changes in words."""
    names = Names(entries)
    return [
        Row(
            entry=entry,
            who=(entry.by.get_full_name() or entry.by.get_username())
            if entry.by is not None
            else _("the platform"),
            what=_what(entry, names),
            action=str(ACTIONS.get(entry.action, entry.action)),
            changes=[
                _change(entry.object_type, k, v, names) for k, v in (entry.changes or {}).items()
            ],
            overridden=", ".join(entry.overridden or []),
        )
        for entry in entries
    ]
