"""The usage reports as charts: SVG drawn by matplotlib on the server, shown inline.

No JavaScript, no CDN, nothing fetched: the page embeds the SVG text. Text stays text
(`svg.fonttype: none`), so the labels are selectable and translated like the page, and
`$` in a name is not read as mathematics. Each chart salts its element ids, so that
several charts on one page never share a clip path.
"""

from __future__ import annotations

import io
import unicodedata
from typing import Any

from django.utils.translation import gettext as _

from partners.models import ProjectKind

from .services import UsageReport

COLOURS = {
    "booked": "#0b6e69",
    "used": "#7fb8b4",
    "pedagogical": "#2e7d32",
    "research": "#1565c0",
    "industrial": "#8e24aa",
}


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=96, layout="constrained")


def _svg(figure: Any, salt: str) -> str:
    import matplotlib

    with matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": salt, "text.parse_math": False}
    ):
        buffer = io.StringIO()
        figure.savefig(
            buffer,
            format="svg",
            metadata={"Creator": None, "Date": None, "Format": None, "Type": None},
        )
    text = buffer.getvalue()
    # Inline in HTML: no XML declaration, no DOCTYPE (which names an external DTD).
    return text[text.index("<svg") :]


def _label(text: Any) -> str:
    """A name as a chart label: control characters (no glyph in any font) become spaces."""
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in str(text)).strip()


def _empty(figure: Any, axes: Any) -> None:
    axes.set_axis_off()
    axes.text(0.5, 0.5, _("No reservations in this window."), ha="center", va="center")


def hours_per_partner(report: UsageReport) -> str:
    """Booked and used hours per partner, as horizontal bars."""
    rows = report.rows
    figure = _figure(7.5, max(2.2, 0.45 * len(rows) + 1.2))
    axes = figure.add_subplot()
    if not rows:
        _empty(figure, axes)
        return _svg(figure, "partner")
    names = [_label(row["partner"]["name"]) for row in rows][::-1]
    booked = [float(row["booked_hours"]) for row in rows][::-1]
    used = [float(row["used_hours"]) for row in rows][::-1]
    positions = range(len(rows))
    axes.barh([p + 0.2 for p in positions], booked, 0.4, label=_("Booked"), color=COLOURS["booked"])
    axes.barh([p - 0.2 for p in positions], used, 0.4, label=_("Used"), color=COLOURS["used"])
    axes.set_yticks(list(positions), names)
    axes.set_xlabel(_("Hours"))
    axes.set_title(_("Hours per partner"))
    axes.legend(loc="lower right")
    axes.grid(axis="x", alpha=0.3)
    return _svg(figure, "partner")


def hours_per_project_kind(report: UsageReport) -> str:
    """Booked and used hours per project kind (the priorities), as bars."""
    rows = report.rows
    figure = _figure(5.5, 3.2)
    axes = figure.add_subplot()
    if not rows:
        _empty(figure, axes)
        return _svg(figure, "kind")
    labels = dict(ProjectKind.choices)
    kinds = [row["project_kind"] for row in rows]
    positions = range(len(rows))
    axes.bar(
        [p - 0.2 for p in positions],
        [float(row["booked_hours"]) for row in rows],
        0.4,
        label=_("Booked"),
        color=[COLOURS.get(k, COLOURS["booked"]) for k in kinds],
    )
    axes.bar(
        [p + 0.2 for p in positions],
        [float(row["used_hours"]) for row in rows],
        0.4,
        label=_("Used"),
        color=[COLOURS.get(k, COLOURS["booked"]) for k in kinds],
        alpha=0.45,
    )
    axes.set_xticks(list(positions), [str(labels.get(k, k)) for k in kinds])
    axes.set_ylabel(_("Hours"))
    axes.set_title(_("Hours per project kind"))
    axes.legend()
    axes.grid(axis="y", alpha=0.3)
    return _svg(figure, "kind")


def utilisation_per_equipment_and_month(report: UsageReport) -> str:
    """Utilisation (booked ÷ open hours) of each equipment per month, as a heat map."""
    rows = report.rows
    equipment = sorted({_label(row["equipment"]["code"]) for row in rows})
    months = sorted({row["month"] for row in rows})
    figure = _figure(max(5.5, 0.8 * len(months) + 3), max(2.4, 0.35 * len(equipment) + 1.4))
    axes = figure.add_subplot()
    if not rows:
        _empty(figure, axes)
        return _svg(figure, "utilisation")
    grid = [[0.0] * len(months) for _ in equipment]
    for row in rows:
        grid[equipment.index(_label(row["equipment"]["code"]))][months.index(row["month"])] = float(
            row["utilisation"]
        )
    image = axes.imshow(grid, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    axes.set_xticks(range(len(months)), months, rotation=45, ha="right")
    axes.set_yticks(range(len(equipment)), equipment)
    if len(equipment) * len(months) <= 400:
        for y, line in enumerate(grid):
            for x, value in enumerate(line):
                axes.text(
                    x,
                    y,
                    f"{value:.0%}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value > 0.6 else "#1d2a33",
                )
    figure.colorbar(image, ax=axes, label=_("Utilisation"), format="{x:.0%}")
    axes.set_title(_("Utilisation per equipment and month"))
    return _svg(figure, "utilisation")
