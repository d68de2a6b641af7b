"""Forms of the booking pages: they read and check input; the services apply the rules."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from core import french_calendars, timezones
from core.timezones import TimeError, local_tz, parse_local
from equipment.forms import SiteCategoryFilterForm
from equipment.models import Equipment, Site
from equipment.selectors import search_key
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


class EquipmentCheckboxes(forms.CheckboxSelectMultiple):
    """Checkboxes; the booking page lays them out by site and category itself."""


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


FREQUENCIES = ("once", "daily", "weekly")
TERM_PRESETS = ("next_holidays", "school_year_end")


def term_last_day(preset: str, day: date) -> date:
    """The last day of a term preset from `day` (french_calendars.term_end), for the form
    and the booking page's buttons; a ValidationError `school_calendar_unknown` where the
    zone B calendar does not say."""
    last = french_calendars.term_end(preset, day)
    if last is None:
        raise ValidationError(
            _(
                "The zone B school calendar does not say when that is: "
                "choose the last day yourself."
            ),
            code="school_calendar_unknown",
        )
    return last


def build_rrule(
    *,
    frequency: str,
    start_day: date,
    interval: int = 1,
    weekdays: Iterable[str] = (),
    until: date | None = None,
    count: int | None = None,
) -> str | None:
    """The RRULE of SPEC §3 for a repetition: FREQ=DAILY|WEEKLY;INTERVAL;BYDAY;UNTIL|COUNT.

    None for a single booking. A weekly series without a ticked day repeats on the day of
    its start; a daily one with ticked days runs on those days only (every weekday, say).
    """
    if frequency not in ("daily", "weekly"):
        return None
    parts = [f"FREQ={frequency.upper()}"]
    if interval > 1:
        parts.append(f"INTERVAL={interval}")
    ticked = set(weekdays)
    days = [d for d in WEEKDAY_CODES if d in ticked]
    if frequency == "weekly" and not days:
        days = [WEEKDAY_CODES[start_day.weekday()]]
    if days:
        parts.append("BYDAY=" + ",".join(days))
    if count is not None:
        parts.append(f"COUNT={count}")
    elif until is not None:
        parts.append(f"UNTIL={until:%Y%m%d}")
    return ";".join(parts)


class BookingForm(forms.Form):
    """One equipment, several (a session), once or repeated (a series)."""

    equipment = EquipmentChoiceField(
        queryset=Equipment.objects.none(),
        label=_("Equipment"),
        help_text=_("Tick several to book them together for the same times (a session)."),
        widget=EquipmentCheckboxes,
    )
    project = ProjectChoiceField(queryset=Project.objects.none(), label=_("Project"))
    start = LocalDateTimeField(label=_("Start"))
    end = LocalDateTimeField(label=_("End"))
    title = forms.CharField(max_length=200, label=_("Title"))
    expected_participants = forms.IntegerField(
        min_value=1, initial=1, label=_("Expected participants")
    )
    frequency = forms.ChoiceField(
        choices=[("once", _("once")), ("daily", _("every day")), ("weekly", _("every week"))],
        initial="once",
        required=False,
        label=_("Repeat"),
        widget=forms.RadioSelect,
    )
    interval = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=52,
        initial=1,
        label=_("Every how many days or weeks"),
        help_text=_("1: every day or every week; 2 with “every week”: every other week."),
    )
    # The former "repeat every week" box: still read (as a weekly series), no longer shown.
    repeat = forms.BooleanField(required=False, label=_("Repeat every week"))
    weekdays = forms.MultipleChoiceField(
        choices=weekday_choices,
        required=False,
        label=_("On"),
        help_text=_("Every week: the day of the start when none is ticked."),
        widget=forms.CheckboxSelectMultiple,
    )
    repeat_end = forms.ChoiceField(
        choices=[("until", _("until a date")), ("count", _("a number of times"))],
        initial="until",
        required=False,
        label=_("Ends"),
        widget=forms.RadioSelect,
    )
    term = forms.ChoiceField(
        choices=[
            ("", _("no preset")),
            ("next_holidays", _("until the next school holidays")),
            ("school_year_end", _("until the end of the school year")),
        ],
        required=False,
        label=_("Term preset (zone B)"),
        help_text=_("The last day becomes the eve of those holidays."),
    )
    until = forms.DateField(
        required=False, label=_("Last day"), widget=IsoDateInput(), validators=[check_year]
    )
    count = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_OCCURRENCES, label=_("Occurrences")
    )
    school_holidays = forms.ChoiceField(
        choices=[
            ("default", _("default: skipped for pedagogical projects")),
            ("skip", _("skip them")),
            ("keep", _("do not skip them")),
        ],
        initial="default",
        required=False,
        label=_("School holidays (zone B)"),
        help_text=_(
            "Where the zone B calendar is not published yet, the default does not guess: "
            "it asks you to choose."
        ),
        widget=forms.RadioSelect,
    )
    # The former check box: still read as "skip them", no longer shown.
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
            .select_related("site", "category")
            .order_by("site__name", "category__name", "code")
        )
        self.fields["project"].queryset = bookable_projects(user)  # type: ignore[attr-defined]
        if not can_override:
            del self.fields["override"]

    def equipment_groups(self) -> list[dict[str, Any]]:
        """The equipment choices by site, then category, each with whether it is ticked."""
        chosen = {str(v) for v in (self["equipment"].value() or [])}
        sites: dict[int, dict[str, Any]] = {}
        for item in self.fields["equipment"].queryset:  # type: ignore[attr-defined]
            site = sites.setdefault(item.site_id, {"site": item.site, "categories": {}})
            category = site["categories"].setdefault(
                item.category_id, {"category": item.category, "items": []}
            )
            category["items"].append(
                {
                    "equipment": item,
                    "checked": str(item.pk) in chosen,
                    "search": search_key(
                        " ".join((item.code, item.name, item.site.name, item.category.name))
                    ),
                }
            )
        return [
            {"site": s["site"], "categories": list(s["categories"].values())}
            for s in sites.values()
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        frequency = data.get("frequency") or ("weekly" if data.get("repeat") else "once")
        data["frequency"] = frequency
        data["interval"] = data.get("interval") or 1
        if frequency == "once":
            data["skip_school_holidays"] = None
            return data
        start = data.get("start")
        if data.get("term") and start is not None:
            try:
                last = term_last_day(data["term"], start.astimezone(local_tz()).date())
            except ValidationError as error:
                self.add_error("term", error)
                return data
            data["until"], data["repeat_end"] = last, "until"
        elif data.get("repeat_end") == "count":
            if not data.get("count"):
                self.add_error("count", ValidationError(_("How many times?"), code="required"))
        elif not data.get("until"):
            self.add_error("until", ValidationError(_("Until when?"), code="required"))
        data["skip_school_holidays"] = self._skips_school_holidays(data)
        return data

    @staticmethod
    def _skips_school_holidays(data: dict[str, Any]) -> bool | None:
        """The answer as the service's flag: None leaves the default to the service (a
        pedagogical series skips the school holidays, and is refused where the calendar is
        not published; the page then shows that refusal at this question)."""
        choice = data.get("school_holidays") or (
            "skip" if data.get("skip_school_holidays") else "default"
        )
        return None if choice == "default" else choice == "skip"

    def rrule(self) -> str | None:
        """The RRULE of the chosen repetition (see build_rrule), None for a single booking."""
        data = self.cleaned_data
        count = data.get("count") if data.get("repeat_end") == "count" else None
        return build_rrule(
            frequency=data.get("frequency") or "once",
            start_day=data["start"].astimezone(local_tz()).date(),
            interval=data.get("interval") or 1,
            weekdays=data.get("weekdays") or [],
            until=data.get("until"),
            count=count,
        )


class MoveForm(forms.Form):
    """New times for a reservation (the service checks every rule again, their order
    first: the move page shows its refusal on the field it names)."""

    start = LocalDateTimeField(label=_("Start"))
    end = LocalDateTimeField(label=_("End"))


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
