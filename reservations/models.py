"""Bookings: reservations, series, sessions, usage and closures (their audit: core.models)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.contrib.postgres.lookups import Overlap
from django.db import connection, connections, models
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import AuditEntry, AuditObject
from core.sql import Among
from partners.models import Project, ProjectKind

from .constraints import CONSTRAINT_NAME, PostgresOnlyExclusionConstraint


class ReservationStatus(models.TextChoices):
    PENDING = "pending", _("pending")
    CONFIRMED = "confirmed", _("confirmed")
    CANCELLED = "cancelled", _("cancelled")
    REJECTED = "rejected", _("rejected")
    DISPLACED = "displaced", _("displaced")
    COMPLETED = "completed", _("completed")
    NO_SHOW = "no_show", _("no show")


# Live reservations hold their slot: the database forbids two of them overlapping.
LIVE_STATUSES = (ReservationStatus.PENDING, ReservationStatus.CONFIRMED)


class Series(models.Model):
    """Recurring reservations made by one request (an RRULE in Europe/Paris local time)."""

    rrule = models.CharField(_("recurrence rule"), max_length=500)
    skip_school_holidays = models.BooleanField(_("skip school holidays"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("series")
        verbose_name_plural = _("series")

    def __str__(self) -> str:
        return f"#{self.pk} {self.rrule}"


class Session(models.Model):
    """Several equipment booked together for the same times, all or nothing."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    def __str__(self) -> str:
        return f"#{self.pk}"


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


def held_span() -> TsTzRange:
    """[start, blocked_until): the time a reservation holds, its buffer included.

    The expression of the exclusion constraint and of the GiST index
    `reservation_held_span` (migration 0007): a query must write it exactly so for the
    planner to use them.
    """
    return TsTzRange("start", "blocked_until", RangeBoundary())


class ReservationQuerySet(models.QuerySet):
    def of_equipment(self, equipment_id: int) -> ReservationQuerySet:
        """One equipment's reservations, compared so that the GiST index on (equipment,
        held span) serves a window (migration 0009): as a bigint, the column's type, on
        PostgreSQL, where an integer parameter would go through `bigint = integer`, an
        operator btree_gist does not index."""
        if connections[self.db].vendor != "postgresql":
            return self.filter(equipment_id=equipment_id)
        return self.filter(
            equipment_id=Cast(models.Value(int(equipment_id)), models.BigIntegerField())
        )

    def overlapping(
        self, start: datetime | None, end: datetime | None, *, buffers: bool = False
    ) -> ReservationQuerySet:
        """Reservations overlapping [start, end) (None: unbounded on that side): whose
        [start, end) overlaps it, or with `buffers` whose [start, blocked_until) does.

        The plain comparisons `start < :end AND end > :start` bound `start` only from
        above, so every index on `start` reads the whole history before the window. On
        PostgreSQL the condition is therefore the range overlap `&&` on `held_span()`,
        which the GiST index `reservation_held_span` answers in time that depends on the
        window, not on the history. A lower bound on `start` from the longest possible
        reservation would not be sound: a manager may lift the length and opening-hours
        rules, so nothing in the database bounds a reservation's length.

        `&&` alone is exact with `buffers`. Without, the reservations of which only the
        buffer reaches into the window (`end <= :start < blocked_until`) are taken out,
        written as that exception rather than as `end > :start`: the planner estimates
        each condition independently, and `end > :start` (true of 1.5% of a long
        history) multiplied by the overlap's own estimate made it expect a hundred
        rows out of thousands and choose nested loops (twice slower usage reports).

        Other databases (SQLite, the demo's) and empty windows get the comparisons.
        """
        empty = start is not None and end is not None and start >= end
        if empty or connections[self.db].vendor != "postgresql":
            qs = self.filter(start__lt=end) if end is not None else self
            if start is not None:
                qs = qs.filter(**{"blocked_until__gt" if buffers else "end__gt": start})
            return qs
        window = TsTzRange(
            models.Value(start, output_field=models.DateTimeField()),
            models.Value(end, output_field=models.DateTimeField()),
            RangeBoundary(),
        )
        qs = self.filter(Overlap(held_span(), window))
        if not buffers and start is not None:
            qs = qs.exclude(end__lte=start, blocked_until__gt=start)
        return qs


def overlapping_sql(
    alias: str, start: datetime | None, end: datetime | None, *, buffers: bool = False
) -> tuple[str, list[Any]]:
    """`ReservationQuerySet.overlapping` as an SQL condition on the reservation table
    aliased `alias`, with its parameters, for the raw reads (the range overlap the GiST
    index answers on PostgreSQL, comparisons elsewhere and for an empty window)."""
    quote = connection.ops.quote_name
    adapt = connection.ops.adapt_datetimefield_value
    empty = start is not None and end is not None and start >= end
    if empty or connection.vendor != "postgresql":
        parts: list[str] = []
        params: list[Any] = []
        if end is not None:
            parts.append(f"{alias}.start < %s")
            params.append(adapt(end))
        if start is not None:
            column = "blocked_until" if buffers else quote("end")
            parts.append(f"{alias}.{column} > %s")
            params.append(adapt(start))
        return " AND ".join(parts) or "1 = 1", params
    sql = f"TSTZRANGE({alias}.start, {alias}.blocked_until, '[)') && TSTZRANGE(%s, %s, '[)')"
    params = [adapt(start), adapt(end)]
    if not buffers and start is not None:
        sql += f" AND NOT ({alias}.{quote('end')} <= %s AND {alias}.blocked_until > %s)"
        params += [adapt(start), adapt(start)]
    return sql, params


class Reservation(models.Model):
    """A booking of one equipment for a project. Never deleted: its status tells its fate."""

    equipment = models.ForeignKey(
        "equipment.Equipment",
        on_delete=models.PROTECT,
        related_name="reservations",
        verbose_name=_("equipment"),
    )
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="reservations", verbose_name=_("project")
    )
    booked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="reservations",
        verbose_name=_("booked by"),
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    # End plus the equipment's buffer at booking time: the slot it holds in the constraint.
    blocked_until = models.DateTimeField(_("blocked until"))
    title = models.CharField(_("title"), max_length=200)
    expected_participants = models.PositiveIntegerField(_("expected participants"), default=1)
    status = models.CharField(
        _("status"), max_length=10, choices=ReservationStatus.choices, db_index=True
    )
    # The project's kind when booked: pedagogical > research > industrial.
    priority = models.CharField(_("priority"), max_length=12, choices=ProjectKind.choices)
    series = models.ForeignKey(
        Series,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reservations",
        verbose_name=_("series"),
    )
    session = models.ForeignKey(
        Session,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reservations",
        verbose_name=_("session"),
    )
    revision = models.PositiveIntegerField(_("revision"), default=0)
    status_changed_at = models.DateTimeField(_("status changed at"))
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))

    objects = ReservationQuerySet.as_manager()

    class Meta:
        ordering = ["start", "id"]
        verbose_name = _("reservation")
        verbose_name_plural = _("reservations")
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")), name="reservation_start_before_end"
            ),
            models.CheckConstraint(
                condition=Q(blocked_until__gte=models.F("end")),
                name="reservation_blocked_after_end",
            ),
            PostgresOnlyExclusionConstraint(
                name=CONSTRAINT_NAME,
                expressions=[
                    ("equipment", RangeOperators.EQUAL),
                    (held_span(), RangeOperators.OVERLAPS),
                ],
                condition=Q(status__in=LIVE_STATUSES),
            ),
        ]
        indexes = [
            models.Index(fields=["equipment", "start"], name="reservation_equipment_start"),
            models.Index(fields=["project", "start"], name="reservation_project_start"),
            models.Index(fields=["start", "end"], name="reservation_period"),
            # The no-show check before every read (services.noshows): the confirmed
            # reservations already started are those in progress (the worker completes or
            # releases the ended ones), not the future ones nor the history.
            models.Index(
                fields=["start"],
                condition=Q(status="confirmed"),
                name="reservation_confirmed_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({timezone.localtime(self.start):%Y-%m-%d %H:%M})"

    @property
    def audit(self) -> models.QuerySet[AuditEntry]:
        """This reservation's entries in the audit trail (core.models.AuditEntry)."""
        return AuditEntry.objects.filter(object_type=AuditObject.RESERVATION, object_id=self.pk)

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES


class UsageRecord(models.Model):
    """The real use of a reservation: check-in and check-out."""

    reservation = models.OneToOneField(
        Reservation, on_delete=models.CASCADE, related_name="usage", verbose_name=_("reservation")
    )
    checked_in_at = models.DateTimeField(_("checked in at"))
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    checked_out_at = models.DateTimeField(_("checked out at"), null=True, blank=True)
    checked_out_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("usage record")
        verbose_name_plural = _("usage records")
        constraints = [
            models.CheckConstraint(
                condition=Q(checked_out_at__isnull=True)
                | Q(checked_out_at__gte=models.F("checked_in_at")),
                name="usage_out_after_in",
            )
        ]

    def __str__(self) -> str:
        return f"{self.reservation_id}: {self.checked_in_at} – {self.checked_out_at}"


class ClosureQuerySet(models.QuerySet):
    """The one definition of which closures concern which equipment."""

    def touching(self, *, equipment_ids: Any = (), site_ids: Any = ()) -> ClosureQuerySet:
        """Closures of these equipment, of these sites, and campus-wide ones.

        `equipment_ids` and `site_ids` may be lists or subqueries. The booking path reads
        the same condition in raw SQL (reservations.facts.busy_and_closures), kept in step
        by tests/reservations/test_closure_coverage.py.
        """
        return self.filter(
            _among("equipment_id", equipment_ids)
            | _among("site_id", site_ids)
            | Q(equipment__isnull=True, site__isnull=True)
        )

    def touching_equipment(self, equipment: Any) -> ClosureQuerySet:
        """Closures that make this equipment unavailable: its own, its site's, campus-wide."""
        return self.touching(equipment_ids=[equipment.pk], site_ids=[equipment.site_id])

    def during(self, start: datetime, end: datetime) -> ClosureQuerySet:
        """Closures overlapping [start, end)."""
        return self.filter(start__lt=end, end__gt=start)


def _among(column: str, values: Any) -> Q:
    """`column IN values`; a list (or set) of values as one array on PostgreSQL (Among)."""
    if isinstance(values, list | tuple | set | frozenset):
        return Q(Among(column, values))
    return Q(**{f"{column}__in": values})


def closed_equipment(closure: Any, by_site: Mapping[int, list[int]], ids: list[int]) -> list[int]:
    """Which of the equipment `ids` (by site: `by_site`) a closure read with
    ClosureQuerySet.touching closes: its own equipment, its site's, or all of them."""
    if closure.equipment_id is not None:
        return [closure.equipment_id]
    if closure.site_id is not None:
        return by_site.get(closure.site_id, [])
    return ids


class Closure(models.Model):
    """Equipment, a site, or (both empty) every site is unavailable over a period."""

    class Kind(models.TextChoices):
        MAINTENANCE = "maintenance", _("maintenance")
        HOLIDAY = "holiday", _("holiday")
        EVENT = "event", _("event")
        OTHER = "other", _("other")

    equipment = models.ForeignKey(
        "equipment.Equipment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name=_("equipment"),
    )
    site = models.ForeignKey(
        "equipment.Site",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="closures",
        verbose_name=_("site"),
    )
    start = models.DateTimeField(_("start"))
    end = models.DateTimeField(_("end"))
    reason = models.CharField(_("reason"), max_length=255)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.OTHER)
    # Where it came from: "" (by hand), "ics:<uid>", "holiday:<date>".
    source = models.CharField(_("source"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    objects = ClosureQuerySet.as_manager()

    class Meta:
        db_table = "equipment_closure"  # created by the equipment app; kept
        ordering = ["start"]
        verbose_name = _("closure")
        verbose_name_plural = _("closures")
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")), name="closure_start_before_end"
            ),
            models.CheckConstraint(
                condition=Q(equipment__isnull=True) | Q(site__isnull=True),
                name="closure_equipment_or_site",
            ),
        ]
        indexes = [models.Index(fields=["start", "end"], name="closure_period")]

    def __str__(self) -> str:
        return f"{self.reason} ({self.start:%Y-%m-%d} – {self.end:%Y-%m-%d})"
