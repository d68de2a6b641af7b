"""Each reservation's effective status, clipped durations and rate, as SQL expressions."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    DateTimeField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least

from equipment.models import Equipment
from equipment.policy import PLATFORM_DEFAULTS
from partners.models import Partner, ProjectKind
from reservations.models import Reservation, ReservationStatus

from ..sql import Cents, duration, instant
from .scope import Filters, Scope, window_reservations

S = ReservationStatus
COUNTED = (S.PENDING, S.CONFIRMED, S.COMPLETED, S.NO_SHOW)
BOOKED = (S.CONFIRMED, S.COMPLETED, S.NO_SHOW)
ZERO = timedelta(0)


@dataclass
class EquipmentFacts:
    """Each equipment's policy overrides, site, code, name and status, read in one query."""

    overrides: dict[int, dict[str, Any]]
    site: dict[int, int]
    # pk -> (code, name, status): idle equipment's rows are named without another query.
    names: dict[int, tuple[str, str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls) -> EquipmentFacts:
        overrides: dict[int, dict[str, Any]] = {}
        site: dict[int, int] = {}
        names: dict[int, tuple[str, str, str]] = {}
        for pk, data, site_id, code, name, status in Equipment.objects.order_by().values_list(
            "pk", "policy_overrides", "site_id", "code", "name", "status"
        ):
            overrides[pk] = data or {}
            site[pk] = site_id
            names[pk] = (code, name, status)
        return cls(overrides=overrides, site=site, names=names)

    def shape(self) -> tuple[Any, ...]:
        """What the SQL of `per_equipment()` depends on: the overrides and the platform's
        defaults (a key of compiled.compiled_sql)."""
        return (
            json.dumps(PLATFORM_DEFAULTS, sort_keys=True, default=str),
            tuple(
                sorted(
                    (pk, json.dumps(data, sort_keys=True, default=str))
                    for pk, data in self.overrides.items()
                    if data
                )
            ),
        )

    def per_equipment(self, setting: str, value_of: Any, output_field: Any) -> Any:
        """A CASE giving each equipment `value_of(its setting)`; only equipment that
        overrides the platform default is listed, the rest take the default."""
        default = PLATFORM_DEFAULTS[setting]
        groups: dict[Any, list[int]] = defaultdict(list)
        for pk, overrides in self.overrides.items():
            value = overrides.get(setting, default)
            if value != default:
                groups[value].append(pk)
        whens = [
            When(equipment_id__in=sorted(ids), then=Value(value_of(value), output_field))
            for value, ids in sorted(groups.items())
        ]
        if not whens:
            return Value(value_of(default), output_field)
        return Case(
            *whens, default=Value(value_of(default), output_field), output_field=output_field
        )


def with_figures(
    *,
    start: datetime,
    end: datetime,
    scope: Scope,
    now: datetime,
    filters: Filters | None,
    facts: EquipmentFacts,
) -> QuerySet[Reservation]:
    """The reservations overlapping the window in the scope and filters, annotated."""
    return annotated(
        window_reservations(start, end, scope, filters or Filters()),
        start=start,
        end=end,
        now=now,
        facts=facts,
    )


def annotated(
    qs: QuerySet[Reservation],
    *,
    start: datetime,
    end: datetime,
    now: datetime,
    facts: EquipmentFacts,
) -> QuerySet[Reservation]:
    """Each reservation's effective status and its clipped durations, as SQL expressions.

    Only comparisons of instants and differences of them: they cost the database little,
    and every database computes them exactly. Each annotation refers only to earlier ones.
    """
    return qs.annotate(
        **_equipment_settings(now, facts),
        **_effective_status(now),
        **_durations(start=start, end=end, now=now),
        **_rate_and_lateness(),
    )


def _equipment_settings(now: datetime, facts: EquipmentFacts) -> dict[str, Any]:
    return {
        # SPEC §5: past its grace, a reservation not checked in is a no-show already.
        "r_no_show_before": facts.per_equipment(
            "check_in_grace_minutes", lambda m: now - timedelta(minutes=m), DateTimeField()
        ),
        "r_late_within": facts.per_equipment(
            "late_cancellation_hours", lambda h: timedelta(hours=h), DurationField()
        ),
    }


def _past_grace() -> Q:
    """Confirmed on check-in equipment, never checked in, past its grace (needs the
    `r_no_show_before` annotation): a no-show already (SPEC §5)."""
    return Q(
        status=S.CONFIRMED,
        equipment__requires_check_in=True,
        usage__isnull=True,
        start__lte=F("r_no_show_before"),
    )


def _ended(now: datetime) -> Q:
    """Confirmed and ended; as release_no_shows, check-in equipment completes only what
    was checked in."""
    return (Q(equipment__requires_check_in=False) | Q(usage__isnull=False)) & Q(
        status=S.CONFIRMED, end__lte=now
    )


def reads_as_no_show() -> Q:
    """Whether a reservation's effective status (`r_status`) is no-show, without its CASE."""
    return Q(status=S.NO_SHOW) | _past_grace()


def reads_as_completed(now: datetime) -> Q:
    """Whether a reservation's effective status (`r_status`) is completed, without its CASE."""
    return Q(status=S.COMPLETED) | _ended(now)


def _effective_status(now: datetime) -> dict[str, Any]:
    return {
        "r_status": Case(
            When(_past_grace(), then=Value(S.NO_SHOW)),
            When(_ended(now), then=Value(S.COMPLETED)),
            default=F("status"),
            output_field=CharField(),
        ),
    }


def _durations(*, start: datetime, end: datetime, now: datetime) -> dict[str, Any]:
    """Booked, used and billable time, clipped to the window."""
    window_start, window_end = instant(start), instant(end)
    clipped = Least(F("end"), window_end) - Greatest(F("start"), window_start)
    usage = Greatest(
        duration(ZERO),
        Least(Coalesce(F("usage__checked_out_at"), Least(F("end"), instant(now))), window_end)
        - Greatest(F("usage__checked_in_at"), window_start),
    )
    checked_in = Q(usage__isnull=False, status__in=(S.CONFIRMED, S.COMPLETED))
    # The conditions below read the stored status, not `r_status`: an annotation is
    # inlined wherever it is referred to, and the effective status's CASE repeated in
    # every figure cost the database (and Django's compiler) more than the joins. The
    # effective status maps only `confirmed` (to no-show, completed or itself), so being
    # booked (confirmed, completed or no-show) is the same on either.
    completed_without_check_in = Q(
        equipment__requires_check_in=False, usage__isnull=True
    ) & reads_as_completed(now)
    return {
        "r_booked": Case(
            When(status__in=BOOKED, then=clipped),
            default=duration(ZERO),
            output_field=DurationField(),
        ),
        "r_used": Case(
            When(checked_in, then=usage),
            When(completed_without_check_in, then=clipped),
            default=duration(ZERO),
            output_field=DurationField(),
        ),
        # Used or no-show: the two never meet on one reservation.
        "r_billable": Case(
            When(reads_as_no_show(), then=clipped),
            When(checked_in, then=usage),
            When(completed_without_check_in, then=clipped),
            default=duration(ZERO),
            output_field=DurationField(),
        ),
    }


def _rate_and_lateness() -> dict[str, Any]:
    return {
        "r_rate": Case(
            When(project__kind=ProjectKind.PEDAGOGICAL, then=Cents("equipment__rate_teaching")),
            When(
                project__partner__rate_category=Partner.RateCategory.INDUSTRIAL,
                then=Cents("equipment__rate_industrial"),
            ),
            default=Cents("equipment__rate_academic"),
            output_field=BigIntegerField(),
        ),
        "r_notice": ExpressionWrapper(F("start") - F("status_changed_at"), DurationField()),
        "r_late": Case(
            When(status=S.CANCELLED, r_notice__lt=F("r_late_within"), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        ),
    }
