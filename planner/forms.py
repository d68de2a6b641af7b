"""The term planner's forms (SPEC §11): a plan, a class, solving and committing.

They only shape what the pages post; every check of the plan itself is the service's.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from core.roles import is_platform_manager
from equipment.models import Equipment
from equipment.policy import END_TIME_PATTERN, START_TIME_PATTERN, WEEKDAYS, to_minutes
from partners.models import Project, ProjectKind
from reservations.forms import (
    EquipmentChoiceField,
    IsoDateInput,
    ProjectChoiceField,
    bookable_projects,
    check_year,
)

from .services import DEFAULT_TIME_LIMIT
from .solver import MAX_TIME_LIMIT

# Rows of allowed slots offered by the class form (empty rows are ignored).
SLOT_ROWS = 4


def weekday_names() -> list[tuple[str, Any]]:
    names = (
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    )
    return list(zip(WEEKDAYS, names, strict=True))


def plannable_projects(user: Any) -> QuerySet[Project]:
    """The pedagogical projects the user may plan for: all for platform managers."""
    if is_platform_manager(user):
        projects = Project.objects.select_related("partner").order_by("name")
    else:
        projects = bookable_projects(user)
    return projects.filter(kind=ProjectKind.PEDAGOGICAL)


class PlanForm(forms.Form):
    name = forms.CharField(max_length=200, label=_("Name"))
    term_start = forms.DateField(
        label=_("Term start"), widget=IsoDateInput(), validators=[check_year]
    )
    term_end = forms.DateField(label=_("Term end"), widget=IsoDateInput(), validators=[check_year])
    skip_school_holidays = forms.BooleanField(
        required=False, initial=True, label=_("Skip the school holidays (zone B)")
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("term_start"), data.get("term_end")
        if start and end and end < start:
            self.add_error("term_end", _("The term must end on or after its start."))
        return data


def _time(pattern: str, label: Any) -> forms.CharField:
    return forms.CharField(
        required=False,
        label=label,
        validators=[RegexValidator(pattern, _("Enter a time as HH:MM."))],
        widget=forms.TimeInput(attrs={"type": "time", "step": 300}, format="%H:%M"),
    )


class RequestForm(forms.Form):
    """One class: its project, equipment choices and the weekly slots it may take."""

    project = ProjectChoiceField(queryset=Project.objects.none(), label=_("Project"))
    title = forms.CharField(max_length=200, label=_("Title"))
    expected_participants = forms.IntegerField(
        min_value=1, max_value=10000, initial=12, label=_("Expected participants")
    )
    equipment_choices = EquipmentChoiceField(
        queryset=Equipment.objects.none(),
        label=_("Equipment choices"),
        help_text=_("The solver picks among them; hold Ctrl (or ⌘) to select several."),
    )
    count = forms.IntegerField(
        min_value=1,
        max_value=50,
        initial=1,
        label=_("How many at once"),
        help_text=_("Equipment used together at each session (a workstation per pair…)."),
    )
    duration_minutes = forms.IntegerField(
        min_value=1, max_value=24 * 60, initial=120, label=_("Duration (minutes)")
    )
    sessions_per_week = forms.IntegerField(
        min_value=1, max_value=14, initial=1, label=_("Sessions per week")
    )
    same_slot_every_week = forms.BooleanField(
        required=False, initial=True, label=_("Same slot every week")
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["project"].queryset = plannable_projects(user)  # type: ignore[attr-defined]
        self.fields["equipment_choices"].queryset = (  # type: ignore[attr-defined]
            Equipment.objects.exclude(status=Equipment.Status.RETIRED)
            .select_related("site")
            .order_by("site__name", "code")
        )
        for n in range(SLOT_ROWS):
            self.fields[f"slot_{n}_weekday"] = forms.ChoiceField(
                choices=[("", "—"), *weekday_names()], required=False, label=_("Weekday")
            )
            self.fields[f"slot_{n}_start"] = _time(START_TIME_PATTERN, _("From"))
            self.fields[f"slot_{n}_end"] = _time(END_TIME_PATTERN, _("To"))

    def slot_rows(self) -> list[dict[str, Any]]:
        """The bound fields of each slot row, for the template."""
        return [
            {
                "number": n + 1,
                "weekday": self[f"slot_{n}_weekday"],
                "start": self[f"slot_{n}_start"],
                "end": self[f"slot_{n}_end"],
            }
            for n in range(SLOT_ROWS)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        slots = []
        for n in range(SLOT_ROWS):
            weekday = data.get(f"slot_{n}_weekday")
            start, end = data.get(f"slot_{n}_start"), data.get(f"slot_{n}_end")
            if not (weekday or start or end):
                continue
            if not (weekday and start and end):
                if f"slot_{n}_weekday" not in self.errors:
                    self.add_error(
                        f"slot_{n}_weekday", _("Give the weekday, the start and the end.")
                    )
                continue
            if to_minutes(start) >= to_minutes(end):
                self.add_error(f"slot_{n}_end", _("A slot must end after it starts."))
                continue
            slots.append({"weekday": weekday, "start": start, "end": end})
        if not slots and not any(k.startswith("slot_") for k in self.errors):
            self.add_error("slot_0_weekday", _("Give at least one allowed slot."))
        data["allowed_slots"] = slots
        return data

    def request(self) -> dict[str, Any]:
        """The class as `planner.services` reads it."""
        data = self.cleaned_data
        return {
            "project": data["project"],
            "title": data["title"],
            "expected_participants": data["expected_participants"],
            "equipment_choices": [e.pk for e in data["equipment_choices"]],
            "count": data["count"],
            "duration_minutes": data["duration_minutes"],
            "sessions_per_week": data["sessions_per_week"],
            "allowed_slots": data["allowed_slots"],
            "same_slot_every_week": data["same_slot_every_week"],
        }


class SolveForm(forms.Form):
    time_limit_seconds = forms.IntegerField(
        min_value=1,
        max_value=int(MAX_TIME_LIMIT),
        initial=int(DEFAULT_TIME_LIMIT),
        label=_("Time limit (seconds)"),
    )


class CommitForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("I confirm: book every placed class now, displacing the bookings listed."),
    )
