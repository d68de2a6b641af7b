"""Forms of the inventory's pages: they read the input; selectors do the filtering."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django import forms
from django.forms.models import ModelChoiceIterator
from django.utils.html import escape
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.translation import gettext_lazy as _

from .documents import ACCEPT
from .models import Category, EquipmentDocument, Site


class ListedChoiceIterator(ModelChoiceIterator):
    """A model choice field's options read by one plain query.

    Django's iterator streams them (`QuerySet.iterator()`), through a server-side cursor
    on PostgreSQL: a DECLARE, a FETCH and a CLOSE for a few sites, five times the cost of
    reading them (the planning page draws two such menus). Same options, same order.
    """

    def __iter__(self) -> Iterator[tuple[Any, Any]]:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


def _shown(value: Any) -> str:
    """A value as the widget templates write it (`{{ value|stringformat:'s' }}`, escaped
    unless already safe)."""
    return str(value) if isinstance(value, SafeData) else escape(str(value))


class ListedSelect(forms.Select):
    """A menu written in Python rather than by Django's templates (select.html, an
    include of select_option.html and attrs.html per option): the same markup, from the
    same context (`get_context`), stripped as the form renderer strips it, for a fraction
    of the time. Grouped choices are left to the templates. Tests hold the two equal."""

    def render(
        self, name: str, value: Any, attrs: dict[str, Any] | None = None, renderer: Any = None
    ) -> SafeString:
        widget = self.get_context(name, value, attrs)["widget"]
        groups = widget["optgroups"]
        if any(group_name for group_name, _choices, _index in groups):
            return super().render(name, value, attrs, renderer)
        options = [
            f'\n  <option value="{_shown(option["value"])}"{_attrs(option["attrs"])}>'
            f"{_shown(option['label'])}</option>\n"
            for _name, choices, _index in groups
            for option in choices
        ]
        return mark_safe(  # noqa: S308 (every value escaped as the templates do)
            f'<select name="{_shown(widget["name"])}"{_attrs(widget["attrs"])}>'
            f"{''.join(options)}\n</select>"
        )


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html."""
    return "".join(
        f" {_shown(name)}" if value is True else f' {_shown(name)}="{_shown(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class ListedModelChoiceField(forms.ModelChoiceField):
    """A menu of a few rows (sites, categories): see ListedChoiceIterator, ListedSelect."""

    iterator = ListedChoiceIterator
    widget = ListedSelect


class SiteCategoryFilterForm(forms.Form):
    """Narrow a list of equipment to a site and a category (catalogue, planning)."""

    site = ListedModelChoiceField(
        queryset=Site.objects.all(),
        required=False,
        label=_("Site"),
        empty_label=_("All sites"),
        widget=ListedSelect(attrs={"aria-label": _("Site")}),
    )
    category = ListedModelChoiceField(
        queryset=Category.objects.all(),
        required=False,
        label=_("Category"),
        empty_label=_("All categories"),
        widget=ListedSelect(attrs={"aria-label": _("Category")}),
    )


class CatalogueFilterForm(SiteCategoryFilterForm):
    """The catalogue's search and filters (SPEC §8); every field may be left empty."""

    field_order = ["q", "site", "category", "qualified"]

    q = forms.CharField(
        required=False,
        max_length=200,
        label=_("Search"),
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": _("Search: code, name, description…"),
                "aria-label": _("Search"),
            }
        ),
    )
    qualified = forms.BooleanField(
        required=False,
        label=_("I am qualified"),
        help_text=_("Only equipment that needs no qualification or that I am qualified for."),
    )


class DocumentForm(forms.Form):
    """A document to attach: its title, its kind and its file."""

    title = forms.CharField(label=_("Title"), max_length=200)
    kind = forms.ChoiceField(label=_("Kind"), choices=EquipmentDocument.Kind.choices)
    file = forms.FileField(
        label=_("File"),
        widget=forms.FileInput(attrs={"accept": ACCEPT}),
        help_text=_("PDF or an office document (Word, Excel, PowerPoint, OpenDocument)."),
    )


class TrainingRequestForm(forms.Form):
    """Ask for training on an equipment (its page), with an optional note to its managers."""

    message = forms.CharField(
        max_length=2000,
        required=False,
        label=_("Message to the managers (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TrainingAcceptForm(forms.Form):
    valid_until = forms.DateField(
        label=_("Qualified until"), widget=forms.DateInput(attrs={"type": "date"})
    )


class TrainingDeclineForm(forms.Form):
    # Blank is the service's to refuse, with its own words (code `required`).
    reason = forms.CharField(max_length=2000, required=False, label=_("Reason"))
