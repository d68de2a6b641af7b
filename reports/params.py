"""Read a report request (API query string, page form, command options) into plain values.

The window is `[start, end)`. A date `YYYY-MM-DD` is a local day in Europe/Paris: as a
start it means 00:00 local of that day, and as an end too, so the end day itself is
*not* in the window (`start=2026-01-01&end=2027-01-01` is the year 2026). A datetime is
ISO 8601; without an offset it is read in Europe/Paris, and a local time that does not
exist or is ambiguous because of daylight saving is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils.translation import gettext as _

from core import timezones
from core.errors import DomainError
from core.ids import is_id
from core.timezones import TimeError, day_bounds, local_tz, parse_local
from partners.models import ProjectKind
from reservations import rules

from .services import DIMENSIONS, Filters

FORMATS = ("json", "csv", "xlsx")
SEPARATORS = (",", ";")
MAX_WINDOW = timedelta(days=3700)  # about ten years
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class ReportQuery:
    start: datetime
    end: datetime
    group_by: tuple[str, ...]
    filters: Filters
    detail: bool = False
    format: str = "json"
    sep: str = ","


# Reports cover real bookings: bounds outside the years of the booking rules are typing
# mistakes, and near the ends of the calendar the local-time arithmetic would overflow.
FIRST_YEAR, LAST_YEAR = timezones.FIRST_YEAR, timezones.LAST_YEAR


def parse_bound(value: str) -> datetime:
    """A window bound: a local date (00:00 Europe/Paris) or an ISO 8601 datetime."""
    tz = local_tz()
    try:
        if _DATE.match(value):
            day = date.fromisoformat(value)  # ValueError for 2026-02-30
            bound = day_bounds(day, tz)[0].astimezone(rules.UTC)
        else:
            bound = parse_local(value).astimezone(rules.UTC)
    except TimeError as error:
        if error.code != "ambiguous_time":
            raise ValueError(value) from None
        raise
    except OverflowError:
        raise ValueError(value) from None
    if not FIRST_YEAR <= bound.year <= LAST_YEAR:
        raise ValueError(value)
    return bound


def _ids(value: str) -> tuple[int, ...]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    if not items or not all(is_id(v) for v in items):
        raise ValueError(value)
    return tuple(int(v) for v in items)


def parse_report_query(params: Mapping[str, Any], *, need_group: bool = True) -> ReportQuery:
    """Validate a report request; raise DomainError `invalid` (400) naming every bad field."""
    errors: dict[str, list[str]] = {}

    def get(name: str) -> str:
        value = params.get(name)
        return value.strip() if isinstance(value, str) else ""

    # Each reader adds its fields' errors in turn: the error body lists them in this order.
    bounds = _window(get("start"), get("end"), errors)
    detail = _detail(get("detail"), errors)
    group_by = _group_by(get("group_by"), required=need_group and not detail, errors=errors)
    filters = _filters(get, errors)
    fmt = get("format").lower() or "json"
    if fmt not in FORMATS:
        errors["format"] = [_("Expected json, csv or xlsx.")]
    sep = params.get("sep") or ","
    if sep not in SEPARATORS:
        errors["sep"] = [_('Expected "," or ";".')]

    if errors:
        raise DomainError("invalid.report", fields=errors)
    return ReportQuery(
        start=bounds["start"],
        end=bounds["end"],
        group_by=group_by,
        filters=Filters(**filters),
        detail=detail,
        format=fmt,
        sep=sep,
    )


def _window(start: str, end: str, errors: dict[str, list[str]]) -> dict[str, datetime]:
    """Read the `start` and `end` bounds that are valid; add the errors of the others."""
    bounds: dict[str, datetime] = {}
    for name, raw in (("start", start), ("end", end)):
        if not raw:
            errors[name] = [_("This parameter is required: a date YYYY-MM-DD or a datetime.")]
            continue
        try:
            bounds[name] = parse_bound(raw)
        except TimeError as error:
            errors[name] = [error.message]
        except ValueError:
            errors[name] = [_("Expected a date YYYY-MM-DD or an ISO 8601 datetime.")]
    if len(bounds) == 2:
        if bounds["start"] >= bounds["end"]:
            errors["end"] = [_("The end must come after the start.")]
        elif bounds["end"] - bounds["start"] > MAX_WINDOW:
            errors["end"] = [_("A report covers at most ten years.")]
    return bounds


def _detail(raw: str, errors: dict[str, list[str]]) -> bool:
    """Read whether the report lists one row per reservation (False when unreadable)."""
    value = raw.lower()
    if value in ("", "0", "false"):
        return False
    if value in ("1", "true", "reservations"):
        return True
    errors["detail"] = [_("Use detail=reservations for one row per reservation.")]
    return False


def _group_by(raw: str, *, required: bool, errors: dict[str, list[str]]) -> tuple[str, ...]:
    """Read the dimensions to group by: one or two different ones, if any or `required`."""
    group_by: tuple[str, ...] = ()
    if raw:
        group_by = tuple(d.strip() for d in raw.split(",") if d.strip())
    unknown = [d for d in group_by if d not in DIMENSIONS]
    if unknown:
        errors["group_by"] = [
            _("Unknown dimension: %(names)s. Choose one or two of: %(choices)s.")
            % {"names": ", ".join(unknown), "choices": ", ".join(DIMENSIONS)}
        ]
    elif (group_by or required) and not (
        1 <= len(group_by) <= 2 and len(set(group_by)) == len(group_by)
    ):
        errors["group_by"] = [
            _("Group by one or two different dimensions among: %(choices)s.")
            % {"choices": ", ".join(DIMENSIONS)}
        ]
    return group_by


def _filters(get: Callable[[str], str], errors: dict[str, list[str]]) -> dict[str, Any]:
    """Read the partner, equipment and project kind filters that are given and valid."""
    filters: dict[str, Any] = {}
    for name in ("partner", "equipment"):
        raw = get(name)
        if raw:
            try:
                filters[name] = _ids(raw)
            except ValueError:
                errors[name] = [_("Expected one id or several separated by commas.")]
    raw_kinds = get("project_kind")
    if raw_kinds:
        kinds = tuple(k.strip() for k in raw_kinds.split(",") if k.strip())
        if not kinds or any(k not in ProjectKind.values for k in kinds):
            errors["project_kind"] = [
                _("Expected pedagogical, research or industrial (several with commas).")
            ]
        else:
            filters["project_kind"] = kinds
    return filters
