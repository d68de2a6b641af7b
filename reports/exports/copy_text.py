"""PostgreSQL's COPY text format, read as it streams."""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .cells import BATCH

_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}
_COPY_ESCAPE = re.compile(r"\\(.)")


def copy_rows(copy: Iterable[Any]) -> Iterator[list[str]]:
    """Rows of COPY's text format: one line each, tab-separated, backslash escapes."""
    for lines in copy_lines(copy, lambda fields: fields):
        yield from lines


def copy_lines(copy: Iterable[Any], line: Callable[[list[str]], Any]) -> Iterator[list[Any]]:
    """Apply `line` to each row of COPY's text format, yielding batches of results.

    One loop for the whole stream (it runs once per reservation): PostgreSQL sends about
    a message per row, but a message may hold several rows or part of one.
    """
    decoder = codecs.getincrementaldecoder("utf-8")()
    rest = ""
    batch: list[Any] = []
    for block in copy:
        text = rest + decoder.decode(block)
        lines = text.split("\n")
        rest = lines.pop()
        for one in lines:
            fields = one.split("\t")
            if "\\" in one:
                fields = [_COPY_ESCAPE.sub(_unescape, f) for f in fields]
            batch.append(line(fields))
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _unescape(match: re.Match[str]) -> str:
    return _COPY_ESCAPES.get(match[1], match[1])
