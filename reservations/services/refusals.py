"""Refused bookings: the error the caller sees, with the slots it could book instead."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import words
from equipment.models import Equipment
from partners.models import Project
from reservations import rules
from reservations.alternatives import suggest_alternatives
from reservations.exceptions import BookingError
from reservations.models import LIVE_STATUSES, Reservation

from .noshows import record_no_shows


@dataclass(frozen=True)
class Wanted:
    """The slot a conflict refused, for which alternatives are suggested."""

    equipment: Equipment
    start: datetime
    end: datetime


def occurrence_payload(
    equipment_id: int | None, start: datetime, end: datetime, code: str
) -> dict[str, Any]:
    item: dict[str, Any] = {"start": start, "end": end, "code": code}
    if equipment_id is not None:
        item["equipment"] = equipment_id
    return item


def _busy_list(conflicts: Sequence[rules.Busy]) -> list[dict[str, Any]]:
    return [{"start": b.start, "end": b.end} for b in conflicts if b.id]


def conflict(
    equipment: Equipment,
    start: datetime,
    end: datetime,
    *,
    conflicts: Sequence[rules.Busy] = (),
    exclude_id: int | None = None,
) -> BookingError:
    """A plain `conflict` (409) listing what is in the way; alternatives are added by
    `with_alternatives` once the refused transaction has ended."""
    if not conflicts:  # the database refused the overlap: read what won the race
        rows = (
            Reservation.objects.overlapping(start, end, buffers=True)
            .filter(equipment=equipment, status__in=LIVE_STATUSES)
            .exclude(pk=exclude_id or 0)
            .values_list("pk", "start", "end", "blocked_until", "priority")
        )
        conflicts = [rules.Busy(*row) for row in rows]
    error = BookingError("conflict", conflicts=_busy_list(conflicts))
    error.wanted = Wanted(equipment, start, end)  # type: ignore[attr-defined]
    return error


def refusal(
    failures: list[dict[str, Any]],
    violations: list[rules.Violation],
    conflicts: list[rules.Busy],
    *,
    grouped: bool,
    items: list[Equipment],
    start: datetime,
    end: datetime,
) -> BookingError:
    """The error of a refused request. A series or session lists every failing occurrence;
    it is a 409 `conflict` only when every failure is one (SPEC §3)."""
    codes = [v.code for v in violations]
    if not grouped:
        if codes[0] == "conflict":
            return conflict(items[0], start, end, conflicts=conflicts)
        return BookingError(violations[0].code, violations[0].message)
    if all(c == "conflict" for c in codes):
        # Alternatives for the first conflicting occurrence (and its equipment in a session).
        first = failures[0]
        by_id = {e.pk: e for e in items}
        error = BookingError(
            "conflict.series", occurrences=failures, conflicts=_busy_list(conflicts)
        )
        error.wanted = Wanted(  # type: ignore[attr-defined]
            by_id.get(first.get("equipment", items[0].pk), items[0]), first["start"], first["end"]
        )
        return error
    code = next(c for c in codes if c != "conflict")
    return BookingError(code, words("series_refused"), occurrences=failures)


def with_alternatives(
    error: BookingError,
    *,
    user: Any,
    project: Project,
    now: datetime,
    kind: str | None = None,
    override_by: Any = None,
    exclude_id: int | None = None,
) -> BookingError:
    """Add `alternatives` to a conflict, computed after its transaction was rolled back
    (no lock is held while the candidates are tried), as `user` would book them;
    `override_by` is the manager overriding the rules, if any."""
    wanted: Wanted | None = getattr(error, "wanted", None)
    if wanted is None:
        return error
    # The candidates' no-shows free their slots too, as for every read.
    candidates = Equipment.objects.filter(
        category_id=wanted.equipment.category_id,
        site_id=wanted.equipment.site_id,
        requires_check_in=True,
    )
    record_no_shows(now=now, equipment_ids=list(candidates.values_list("pk", flat=True)))
    error.extra["alternatives"] = suggest_alternatives(
        equipment=wanted.equipment,
        start=wanted.start,
        end=wanted.end,
        now=now,
        user=user,
        project=project,
        kind=kind,
        override_by=override_by,
        exclude_id=exclude_id,
    )
    return error
