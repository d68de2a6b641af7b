"""A JSON renderer that passes through a document already written as DRF would write it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings


class JSONText(str):
    """A JSON document written beforehand, byte for byte as `JSONRenderer` writes its data
    in the default style (compact, non-ASCII kept, U+2028 and U+2029 escaped)."""


def json_string(value: str) -> str:
    """`value` as a JSON string, as `JSONRenderer` writes it."""
    return (
        json.dumps(value, ensure_ascii=False)
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


class JSONTextRenderer(JSONRenderer):
    """`JSONRenderer`, answering a `JSONText` as it is (for a view that writes its JSON
    itself, on its hot path); anything else, or an indented rendering (the browsable API,
    `Accept: application/json; indent=4`), as `JSONRenderer` does."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        if isinstance(data, JSONText):
            indent = self.get_indent(accepted_media_type or "", renderer_context or {})
            if indent is None and self.compact and not self.ensure_ascii:
                return data.encode()
            data = json.loads(data)
        return super().render(data, accepted_media_type, renderer_context)


def renderers_with_json_text() -> list[Any]:
    """The default renderers, `JSONTextRenderer` in place of `JSONRenderer`."""
    return [
        JSONTextRenderer if renderer is JSONRenderer else renderer
        for renderer in api_settings.DEFAULT_RENDERER_CLASSES
    ]
