"""The audit trail in words, for the managers' page: labels, values, who and what.

Values come as the trail stores them (JSON: ids, UTC ISO instants, text amounts); each
becomes words in the active language: statuses and kinds by their labels, instants in
Paris time (`d/m/Y H:i`, the French short format), people, partners, sites and
equipment by name (looked up once per page, whatever its length).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.utils import formats, timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from core.models import AuditEntry, AuditObject
from equipment.models import Equipment, Site
from equipment.policy import WEEKDAYS
from equipment.policy_text import day_names
from partners.models import Partner, ProjectKind
from reservations.models import Closure, ReservationStatus

User = get_user_model()

# Their own entries (context "audit action"): after "Réservation #12 · HPLC" or
# "Qualification #3", French needs words that agree with any object (nouns).
ACTIONS: dict[str, Promise] = {
    "create": pgettext_lazy("audit action", "created"),
    "update": pgettext_lazy("audit action", "changed"),
    "delete": pgettext_lazy("audit action", "deleted"),
    "move": pgettext_lazy("audit action", "moved"),
    "cancel": pgettext_lazy("audit action", "cancelled"),
    "approve": pgettext_lazy("audit action", "approved"),
    "reject": pgettext_lazy("audit action", "rejected"),
    "displace": pgettext_lazy("audit action", "displaced"),
    "check_in": pgettext_lazy("audit action", "checked in"),
    "check_out": pgettext_lazy("audit action", "checked out"),
    "no_show": pgettext_lazy("audit action", "no-show"),
    "completed": pgettext_lazy("audit action", "completed"),
    "grant": pgettext_lazy("audit action", "granted"),
    "renew": pgettext_lazy("audit action", "renewed"),
    "revoke": pgettext_lazy("audit action", "revoked"),
    "affiliate": pgettext_lazy("audit action", "affiliation"),
    "sign_up": pgettext_lazy("audit action", "first sign-on"),
    "document_add": pgettext_lazy("audit action", "document added"),
    "document_delete": pgettext_lazy("audit action", "document removed"),
    # Waitlist entries (written by the waitlist app, which this one cannot import).
    "book": pgettext_lazy("audit action", "booked from the waitlist"),
    "expire": pgettext_lazy("audit action", "expiry"),
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
    "provider": gettext_lazy("identity provider"),
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
    "document": gettext_lazy("document"),
    "priority": gettext_lazy("priority"),
    "displaced": gettext_lazy("queued after a displacement"),
    "reservation": gettext_lazy("reservation"),
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
    # The waitlist's statuses (waitlist.models.EntryStatus), named here: a lower app.
    (AuditObject.WAITLIST_ENTRY, "status"): {
        "waiting": pgettext_lazy("waitlist status", "waiting"),
        "booked": pgettext_lazy("waitlist status", "booked"),
        "expired": pgettext_lazy("waitlist status", "expired"),
        "cancelled": pgettext_lazy("waitlist status", "cancelled"),
    },
    (AuditObject.WAITLIST_ENTRY, "priority"): dict(ProjectKind.choices),
}


@dataclass
class Change:
    label: str
    before: str
    after: str
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


@dataclass
class Rule:
    """A booking rule a manager overrode: its words and its code."""

    label: str
    code: str


@dataclass
class Row:
    entry: AuditEntry
    who: str
    what: str
    action: str
    changes: list[Change]
    overridden: list[Rule]


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


def _kind(value: Any) -> str:
    """A project kind (`pedagogical`…) by its label."""
    try:
        return str(ProjectKind(value).label)
    except ValueError:
        return str(value)


def _per_kind(kind: Any, value: Any) -> str:
    """One kind's value of a policy setting: "research: 30"."""
    return _("%(kind)s: %(value)s") % {"kind": _kind(kind), "value": value}


def _number(value: Any) -> str:
    """A number in the active language's format, without a useless fraction (7,5; 10)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return formats.number_format(value) if isinstance(value, int | float) else str(value)


def _policy_in_words(key: str, value: Any) -> str | None:
    """A policy override with a structure (days, kinds, windows) in the words of the
    equipment page (equipment.policy_text); None for the others, and for a value of an
    unexpected shape, said as stored rather than failing the page."""
    days = day_names()
    try:
        if key == "policy.opening_hours" and isinstance(value, dict):
            opening = []
            for day in WEEKDAYS:
                if day in value:
                    spans = ", ".join(f"{a}–{b}" for a, b in value[day]) or _("closed")
                    opening.append(f"{days[day]} {spans}")
            return "; ".join(opening)
        if key == "policy.horizon_days" and isinstance(value, dict):
            return "; ".join(_per_kind(kind, _number(n)) for kind, n in value.items())
        if key == "policy.weekly_quota_hours" and isinstance(value, dict):
            return "; ".join(
                _per_kind(kind, _("no quota") if hours is None else _number(hours))
                for kind, hours in value.items()
            )
        if key == "policy.approval_required_for" and isinstance(value, list):
            return ", ".join(_kind(kind) for kind in value) or "—"
        if key == "policy.teaching_windows" and isinstance(value, list):
            return ", ".join(f"{days[w['weekday']]} {w['start']}–{w['end']}" for w in value) or "—"
    except (KeyError, TypeError, ValueError):
        return None
    return None


def value_in_words(object_type: str, key: str, value: Any, names: Names) -> str:
    """One stored value in words."""
    if value is None or value == "":
        return _missing(key)
    if key.startswith("policy."):
        policy = _policy_in_words(key, value)
        if policy is not None:
            return policy
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


def describe(
    entries: Sequence[AuditEntry], *, rule_labels: Mapping[str, str] | None = None
) -> list[Row]:
    """Rows for the page: each entry's author, object, action and changes in words; the
    rules overridden by their `rule_labels` (reservations.web.common.code_labels)."""
    names = Names(entries)
    labels = rule_labels or {}
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
            overridden=[Rule(labels.get(code, code), code) for code in entry.overridden or []],
        )
        for entry in entries
    ]
