"""Request parsers that refuse control characters in any text of a body (SPEC §14).

One place for every endpoint: titles, reasons, names and descriptions go on into feeds,
emails and exports, where a control character breaks strict readers (an iCalendar feed
with one was rejected whole). Tab and line breaks stay allowed. The refusal is a field
error, so the API answers 400 `invalid` with `fields: {"title": [...]}`.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ValidationError

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MESSAGE = _("Control characters are not allowed (only tabs and line breaks).")


def control_character_errors(value: Any, path: str = "") -> dict[str, list[Any]]:
    """`{field path: [message]}` for every string of `value` holding a control character."""
    errors: dict[str, list[Any]] = {}
    if isinstance(value, str):
        if CONTROL.search(value):
            errors[path or "non_field_errors"] = [MESSAGE]
    elif isinstance(value, dict):
        for key, item in value.items():
            errors.update(control_character_errors(item, f"{path}.{key}" if path else str(key)))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            errors.update(control_character_errors(item, f"{path}.{index}" if path else str(index)))
    return errors


def refuse_control_characters(data: Any) -> None:
    if hasattr(data, "lists"):  # a QueryDict: every value of every key
        data = {key: values[0] if len(values) == 1 else values for key, values in data.lists()}
    errors = control_character_errors(data)
    if errors:
        raise ValidationError(errors, code="invalid")


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        refuse_control_characters(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        data = super().parse(stream, media_type, parser_context)
        refuse_control_characters(data)
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream: Any, media_type: Any = None, parser_context: Any = None) -> Any:
        parsed = super().parse(stream, media_type, parser_context)
        refuse_control_characters(parsed.data)  # the fields; uploaded files are read elsewhere
        return parsed
