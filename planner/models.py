"""Term plans (SPEC §11): a term of classes, what each needs, and where the solver put it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from partners.models import Project
from reservations.models import Reservation


class PlanStatus(models.TextChoices):
    DRAFT = "draft", _("draft")
    SOLVING = "solving", _("solving")
    SOLVED = "solved", _("solved")
    INFEASIBLE = "infeasible", _("infeasible")
    COMMITTED = "committed", _("committed")


class Plan(models.Model):
    name = models.CharField(_("name"), max_length=200)
    term_start = models.DateField(_("term start"))
    term_end = models.DateField(_("term end"))
    skip_school_holidays = models.BooleanField(_("skip the school holidays"), default=True)
    status = models.CharField(
        _("status"), max_length=12, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="plans",
        verbose_name=_("created by"),
    )
    # The user whose bookings the last solve checked (membership, qualification).
    solved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("solved by"),
    )
    created_at = models.DateTimeField(_("created at"))
    objective = models.JSONField(_("objective"), default=dict, blank=True)
    optimal = models.BooleanField(_("optimal"), default=False)
    solve_seconds = models.FloatField(_("solve seconds"), null=True, blank=True)
    displaced = models.JSONField(_("displaced"), default=list, blank=True)
    # When the last solve was handed to the worker: a plan `solving` for much longer than
    # the largest time limit lost its worker, and may be solved again.
    solving_since = models.DateTimeField(_("solving since"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved at"), null=True, blank=True)
    committed_at = models.DateTimeField(_("committed at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)
    # What the commit booked: the plan's page links to them.
    reservations = models.ManyToManyField(
        Reservation, related_name="+", blank=True, verbose_name=_("reservations")
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("plan")
        verbose_name_plural = _("plans")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(term_end__gte=models.F("term_start")),
                name="planner_plan_term_order",
            )
        ]

    def __str__(self) -> str:
        return self.name


class PlanRequest(models.Model):
    """One class of the term: what it needs; `assignment` once solved, or why not."""

    plan = models.ForeignKey(
        Plan, on_delete=models.CASCADE, related_name="requests", verbose_name=_("plan")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    project = models.ForeignKey(
        Project, on_delete=models.PROTECT, related_name="+", verbose_name=_("project")
    )
    title = models.CharField(_("title"), max_length=200)
    expected_participants = models.PositiveIntegerField(_("expected participants"), default=1)
    equipment_choices = models.JSONField(_("equipment choices"), default=list)
    count = models.PositiveIntegerField(_("count"), default=1)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"))
    sessions_per_week = models.PositiveIntegerField(_("sessions per week"), default=1)
    allowed_slots = models.JSONField(_("allowed slots"), default=list)
    same_slot_every_week = models.BooleanField(_("same slot every week"), default=True)
    # {sessions: [{weekday, start, end, equipment, occurrences: [{start, end}]}]}: the
    # first session is also given flat (weekday, start, end, equipment, occurrences).
    assignment = models.JSONField(_("assignment"), null=True, blank=True)
    # Why the solver left it unplaced: {code, params}, put in words in the reader's language.
    unplaced = models.JSONField(_("unplaced reason"), null=True, blank=True)

    class Meta:
        ordering = ["plan", "position", "id"]
        verbose_name = _("plan request")
        verbose_name_plural = _("plan requests")

    def __str__(self) -> str:
        return self.title
