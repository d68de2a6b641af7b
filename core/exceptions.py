"""Domain errors that carry a machine code; the API and the web pages translate them."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused operation: a `code` for machines, a translated `message` for people."""

    status = 400

    def __init__(self, code: str, message: str, *, status: int | None = None, **extra: Any):
        super().__init__(message)
        self.code = code
        self.message = message
        if status is not None:
            self.status = status
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "detail": str(self.message), **self.extra}
