"""Forms of the booking pages: they read and check input; the services apply the rules."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core import timezones
from core.timezones import TimeError, local_tz, parse_local
from equipment.forms import SiteCategoryFilterForm
from equipment.models import Equipment, Site
from partners.models import Project
from reservations.models import Closure

from . import permissions
from .recurrence import MAX_OCCURRENCES

WEEKDAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
LOCAL_INPUT = "%Y-%m-%dT%H:%M"
# Dates far outside these years only overflow date arithmetic (9999-12-31 + 1 day).
# The years of the booking rules, less the last: pages reach a week or a month beyond.
FIRST_YEAR, LAST_YEAR = timezones.FIRST_YEAR, timezones.LAST_YEAR - 1


def _out_of_range() -> ValidationError:
    return ValidationError(
        _("Choose a date between %(first)d and %(last)d."),
        code="out_of_range",
        params={"first": FIRST_YEAR, "last": LAST_YEAR},
    )


def check_year(value: date | datetime | None) -> None:
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise _out_of_range()


def weekday_choices() -> list[tuple[str, Any]]:
    names = (
        _("Monday"),
        _("Tuesday"),
        _("Wednesday"),
        _("Thursday"),
        _("Friday"),
        _("Saturday"),
        _("Sunday"),
    )
    return list(zip(WEEKDAY_CODES, names, strict=True))


class IsoDateInput(forms.DateInput):
    """A browser date picker: it reads and writes ISO dates whatever the language."""

    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class LocalDateTimeField(forms.CharField):
    """A local time in Europe/Paris (or an instant with an offset), as the API reads it.

    A wall-clock time that does not exist or happens twice because of daylight saving is
    refused with the code `ambiguous_time`, as the booking rules say.
    """

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT)
    default_validators = [check_year]

    def to_python(self, value: Any) -> datetime | None:  # type: ignore[override]
        if isinstance(value, datetime):
            return value
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_local(text)
        except TimeError as error:
            if error.unreadable:
                raise ValidationError(_("Enter a date and time."), code="invalid") from None
            if error.out_of_range:
                raise _out_of_range() from None
            raise ValidationError(error.message, code=error.code) from None


def local_input(moment: datetime) -> str:
    """A datetime as the value of a datetime-local input, in Europe/Paris."""
    return moment.astimezone(local_tz()).strftime(LOCAL_INPUT)


class EquipmentChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj: Equipment) -> str:
        return f"{obj.code} – {obj.name} ({obj.site.name})"


class ProjectChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Project) -> str:
        return f"{obj.name} ({obj.partner.name}, {obj.get_kind_display()})"


def bookable_projects(user: Any) -> QuerySet[Project]:
    """The projects the user books for: those they lead or belong to."""
    return (
        Project.objects.filter(Q(members=user) | Q(leader=user))
        .select_related("partner")
        .distinct()
        .order_by("name")
    )


class PlanningForm(SiteCategoryFilterForm):
    view = forms.ChoiceField(
        choices=[("week", _("Week")), ("day", _("Day"))], required=False, label=_("View")
    )
    date = forms.DateField(
        required=False, label=_("Date"), widget=IsoDateInput(), validators=[check_year]
    )


class BookingForm(forms.Form):
    """One equipment, several (a session), once or every week (a series)."""

    equipment = EquipmentChoiceField(
        queryset=Equipment.objects.none(),
        label=_("Equipment"),
        help_text=_(
            "Hold Ctrl (⌘ on a Mac) to choose several: they are booked together (a session)."
        ),
        widget=forms.SelectMultiple(attrs={"size": 8}),
    )
    project = ProjectChoiceField(queryset=Project.objects.none(), label=_("Project"))
    start = LocalDateTimeField(label=_("Start"))
    end = LocalDateTimeField(label=_("End"))
    title = forms.CharField(max_length=200, label=_("Title"))
    expected_participants = forms.IntegerField(
        min_value=1, initial=1, label=_("Expected participants")
    )
    repeat = forms.BooleanField(required=False, label=_("Repeat every week"))
    weekdays = forms.MultipleChoiceField(
        choices=weekday_choices,
        required=False,
        label=_("On"),
        help_text=_("The day of the start when none is ticked."),
        widget=forms.CheckboxSelectMultiple,
    )
    repeat_end = forms.ChoiceField(
        choices=[("until", _("until a date")), ("count", _("a number of times"))],
        initial="until",
        required=False,
        label=_("Ends"),
        widget=forms.RadioSelect,
    )
    until = forms.DateField(
        required=False, label=_("Last day"), widget=IsoDateInput(), validators=[check_year]
    )
    count = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_OCCURRENCES, label=_("Occurrences")
    )
    skip_school_holidays = forms.BooleanField(required=False, label=_("Skip school holidays"))
    skip_conflicts = forms.BooleanField(
        required=False,
        label=_("Skip the occurrences that cannot be booked"),
        help_text=_("Otherwise nothing is booked when one occurrence breaks a rule."),
    )
    override = forms.BooleanField(
        required=False,
        label=_("Override the booking rules (managers)"),
        help_text=_("Recorded in the audit; overlaps are never allowed."),
    )

    def __init__(self, *args: Any, user: Any, can_override: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["equipment"].queryset = (  # type: ignore[attr-defined]
            Equipment.objects.exclude(status=Equipment.Status.RETIRED)
            .select_related("site")
            .order_by("site__name", "code")
        )
        self.fields["project"].queryset = bookable_projects(user)  # type: ignore[attr-defined]
        if not can_override:
            del self.fields["override"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("repeat"):
            if data.get("repeat_end") == "count":
                if not data.get("count"):
                    self.add_error("count", ValidationError(_("How many times?"), code="required"))
            elif not data.get("until"):
                self.add_error("until", ValidationError(_("Until when?"), code="required"))
        return data

    def rrule(self) -> str | None:
        """The RRULE subset of SPEC §3 for a weekly series: FREQ=WEEKLY;BYDAY=..;UNTIL|COUNT."""
        data = self.cleaned_data
        if not data.get("repeat"):
            return None
        days = [d for d in WEEKDAY_CODES if d in (data.get("weekdays") or [])]
        if not days:
            days = [WEEKDAY_CODES[data["start"].astimezone(local_tz()).weekday()]]
        parts = ["FREQ=WEEKLY", "BYDAY=" + ",".join(days)]
        if data.get("repeat_end") == "count":
            parts.append(f"COUNT={data['count']}")
        else:
            until: date = data["until"]
            parts.append(f"UNTIL={until:%Y%m%d}")
        return ";".join(parts)


class CancelForm(forms.Form):
    scope = forms.ChoiceField(
        choices=[
            ("this", _("this one")),
            ("following", _("this one and the following ones")),
            ("series", _("the whole series")),
        ],
        required=False,
    )
    reason = forms.CharField(max_length=2000, required=False)


class DecisionForm(forms.Form):
    reason = forms.CharField(max_length=2000, required=False, label=_("Reason"))


class TargetField(forms.ChoiceField):
    """Where a closure applies: an equipment, a site, or every site (managers' choices)."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("label", _("What to close"))
        super().__init__(*args, **kwargs)


def closure_targets(
    user: Any, managed: QuerySet[Equipment]
) -> tuple[list[tuple[Any, Any]], dict[str, Any]]:
    """Choices of what the user may close, and what each choice stands for."""
    choices: list[tuple[Any, Any]] = []
    meaning: dict[str, Any] = {}
    if permissions.may_close(user, equipment=None, manages=False):  # sites and the campus
        choices.append(("all", _("Every site")))
        meaning["all"] = None
        sites = list(Site.objects.order_by("name"))
        choices.append((_("Sites"), [(f"site:{s.pk}", s.name) for s in sites]))
        meaning.update({f"site:{s.pk}": s for s in sites})
    items = list(managed.select_related("site").order_by("code"))
    choices.append((_("Equipment"), [(f"equipment:{e.pk}", f"{e.code} – {e.name}") for e in items]))
    meaning.update({f"equipment:{e.pk}": e for e in items})
    return choices, meaning


class ClosureForm(forms.Form):
    target = TargetField()
    start = LocalDateTimeField(label=_("Start"))
    end = LocalDateTimeField(label=_("End"))
    reason = forms.CharField(max_length=255, label=_("Reason"))
    kind = forms.ChoiceField(choices=Closure.Kind.choices, label=_("Kind"), initial="maintenance")

    def __init__(self, *args: Any, targets: list[tuple[Any, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets  # type: ignore[attr-defined]


class IcsImportForm(forms.Form):
    target = TargetField()
    file = forms.FileField(
        label=_("Calendar file (.ics)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".ics,text/calendar"}),
    )

    def __init__(self, *args: Any, targets: list[tuple[Any, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets  # type: ignore[attr-defined]


class HolidaysForm(forms.Form):
    target = TargetField()
    year = forms.IntegerField(
        min_value=timezones.FIRST_YEAR, max_value=timezones.LAST_YEAR, label=_("Year")
    )

    def __init__(self, *args: Any, targets: list[tuple[Any, Any]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets  # type: ignore[attr-defined]


def target_of(meaning: dict[str, Any], key: str) -> dict[str, Any]:
    """The service's keyword arguments for a chosen target."""
    value = meaning.get(key)
    if isinstance(value, Equipment):
        return {"equipment": value, "site": None}
    if isinstance(value, Site):
        return {"equipment": None, "site": value}
    return {"equipment": None, "site": None}
