"""A booking policy in plain words, for the equipment page."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from partners.models import ProjectKind

from .policy import QUOTA_KINDS, WEEKDAYS, Policy


def day_names() -> dict[str, str]:
    """The weekdays of a policy (`mon`…`sun`) in words, in the active language."""
    return {
        "mon": _("Monday"),
        "tue": _("Tuesday"),
        "wed": _("Wednesday"),
        "thu": _("Thursday"),
        "fri": _("Friday"),
        "sat": _("Saturday"),
        "sun": _("Sunday"),
    }


def _duration(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(h)d h %(m)02d") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return _("%(m)d min") % {"m": rest}


def describe_policy(policy: Policy) -> list[str]:
    """Return one sentence per rule of the policy, in the active language."""
    names = day_names()
    opening = []
    for day in WEEKDAYS:
        ranges = policy.opening_hours.get(day) or []
        if ranges:
            spans = ", ".join(f"{a}–{b}" for a, b in ranges)
            opening.append(f"{names[day]} {spans}")
    lines = [
        _("Open: %(hours)s.") % {"hours": "; ".join(opening)} if opening else _("Never open."),
        _("Bookings start and end on a %(g)s grid, last from %(min)s to %(max)s.")
        % {
            "g": _duration(policy.granularity_minutes),
            "min": _duration(policy.min_duration_minutes),
            "max": _duration(policy.max_duration_minutes),
        },
        _(
            "Book at most %(ped)d days ahead for teaching, %(res)d for research, "
            "%(ind)d for industrial projects, and at least %(notice)s before the start."
        )
        % {
            "ped": policy.horizon_days["pedagogical"],
            "res": policy.horizon_days["research"],
            "ind": policy.horizon_days["industrial"],
            "notice": _duration(policy.min_notice_minutes),
        },
    ]
    if policy.buffer_minutes:
        lines.append(
            _("%(buffer)s are kept free after each booking.")
            % {"buffer": _duration(policy.buffer_minutes)}
        )
    if policy.approval_required_for:
        kinds = ", ".join(str(ProjectKind(k).label) for k in policy.approval_required_for)
        lines.append(_("A manager approves the bookings of %(kinds)s projects.") % {"kinds": kinds})
    for kind in QUOTA_KINDS:
        quota = policy.weekly_quota_hours.get(kind)
        if quota is not None:
            lines.append(
                _("Each partner may book at most %(hours)s h a week for %(kind)s projects.")
                % {"hours": f"{quota:g}", "kind": ProjectKind(kind).label}
            )
    for window in policy.teaching_windows:
        lines.append(
            _(
                "%(day)s %(start)s–%(end)s is kept for teaching during school terms, "
                "until %(days)s before."
            )
            % {
                "day": names[window["weekday"]],
                "start": window["start"],
                "end": window["end"],
                "days": ngettext("%(n)d day", "%(n)d days", policy.teaching_release_days)
                % {"n": policy.teaching_release_days},
            }
        )
    lines.append(
        _("Cancelling less than %(h)d h before the start counts as a late cancellation.")
        % {"h": policy.late_cancellation_hours}
    )
    return lines
