"""The usage report as charts: SVG drawn by matplotlib on the server, shown inline.

The charts follow the report's grouping: one chart per figure that reads well for it.
By one dimension, booked and used hours side by side per group, the amount per group and,
by equipment, each equipment's utilisation. By two, the booked hours, used hours and
amount of each group of the first dimension, stacked by the second (its largest groups,
the rest as "Others"), and, with equipment among them, a heat map of utilisation.

Groups are named as in the table (months in words, in the page's language) and numbers
written as the page writes them. No JavaScript, no CDN, nothing fetched: the page embeds
the SVG text. Text stays text (`svg.fonttype: none`), so the labels are selectable and
translated like the page, and `$` in a name is not read as mathematics. Each chart salts
its element ids, so that several charts on one page never share a clip path.
"""

from __future__ import annotations

import io
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from .labels import DIMENSION_LABELS, group_label, number, percent
from .services import UsageReport

COLOURS = {"booked": "#0b6e69", "used": "#7fb8b4", "amount": "#8e5a00", "other": "#9aa5ad"}
# Colour-blind-safe series for stacked bars (Okabe–Ito, without yellow: too pale on white).
SERIES = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#000000")
MAX_GROUPS = 40  # bars in one chart; past that, the largest by booked hours
MAX_SERIES = len(SERIES)  # stacked series; the rest together as "Others"


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


def _name(dimension: str, value: Any) -> str:
    return _label(group_label(dimension, value))


def _empty(salt: str, title: str) -> str:
    figure = _figure(7.5, 1.6)
    axes = figure.add_subplot()
    axes.set_axis_off()
    axes.set_title(title)
    axes.text(0.5, 0.5, _("No reservations in this window."), ha="center", va="center")
    return _svg(figure, salt)


def _number_axis(axis: Any, text: Callable[[float], str]) -> None:
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda value, _position: text(value)))


def _amount_text(value: float) -> str:
    return f"{number(Decimal(str(value)).quantize(Decimal(1)))}\N{NO-BREAK SPACE}€"


def _hours_text(value: float) -> str:
    return number(Decimal(str(value)).quantize(Decimal("0.1")), 0 if value == int(value) else 1)


def _largest(rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], Any]) -> list[Any]:
    """The rows to draw: all of them, or the MAX_GROUPS largest in their own order."""
    if len(rows) <= MAX_GROUPS:
        return rows
    keep = {id(row) for row in sorted(rows, key=key, reverse=True)[:MAX_GROUPS]}
    return [row for row in rows if id(row) in keep]


def _note_cut(axes: Any, shown: int, total: int) -> None:
    if shown < total:
        axes.set_xlabel(
            axes.get_xlabel()
            + " — "
            + _("the %(shown)d largest of %(total)d groups") % {"shown": shown, "total": total}
        )


@dataclass(frozen=True)
class Chart:
    svg: str
    wide: bool = False  # the heat map takes the page's width: one column per group


def charts_for(report: UsageReport) -> list[Chart]:
    """The charts of this report, following its grouping."""
    charts = [Chart(svg) for svg in _bar_charts(report)]
    if len(report.group_by) == 2 and "equipment" in report.group_by:
        other = next(d for d in report.group_by if d != "equipment")
        charts.append(Chart(utilisation_map(report, other=other), wide=True))
    return charts


def _bar_charts(report: UsageReport) -> list[str]:
    if len(report.group_by) == 1:
        dimension = report.group_by[0]
        charts = [hours_chart(report, dimension), amount_chart(report, dimension)]
        if dimension == "equipment":
            charts.append(utilisation_chart(report))
        return charts
    first, second = report.group_by
    if second == "month":
        # Months along the axis, in order, the other groups stacked: a bar per month reads
        # as a timeline, while months as stacked series would run out of colours.
        first, second = second, first
    return [
        stacked_chart(report, first, second, "booked_hours", _("Booked hours")),
        stacked_chart(report, first, second, "used_hours", _("Used hours")),
        stacked_chart(report, first, second, "amount", _("Amount (€)")),
    ]


def _bars_height(count: int, per_bar: float = 0.32) -> float:
    return max(2.2, per_bar * count + 1.3)


def hours_chart(report: UsageReport, dimension: str) -> str:
    """Booked and used hours per group, as pairs of horizontal bars."""
    title = _("Booked and used hours")
    rows = _largest(report.rows, lambda row: row["booked_hours"])
    if not rows:
        return _empty("hours", title)
    names = [_name(dimension, row[dimension]) for row in rows][::-1]
    booked = [float(row["booked_hours"]) for row in rows][::-1]
    used = [float(row["used_hours"]) for row in rows][::-1]
    figure = _figure(7.5, _bars_height(len(rows), 0.45))
    axes = figure.add_subplot()
    positions = range(len(rows))
    axes.barh([p + 0.2 for p in positions], booked, 0.4, label=_("Booked"), color=COLOURS["booked"])
    axes.barh([p - 0.2 for p in positions], used, 0.4, label=_("Used"), color=COLOURS["used"])
    axes.set_yticks(list(positions), names)
    axes.set_ylabel(str(DIMENSION_LABELS[dimension]))
    axes.set_xlabel(_("Hours"))
    _number_axis(axes.xaxis, _hours_text)
    _note_cut(axes, len(rows), len(report.rows))
    axes.set_title(title)
    axes.legend(loc="lower right")
    axes.grid(axis="x", alpha=0.3)
    return _svg(figure, "hours")


def amount_chart(report: UsageReport, dimension: str) -> str:
    """The amount per group, as horizontal bars."""
    title = _("Amount (€)")
    rows = _largest(report.rows, lambda row: row["amount"])
    if not rows:
        return _empty("amount", title)
    names = [_name(dimension, row[dimension]) for row in rows][::-1]
    amounts = [float(row["amount"]) for row in rows][::-1]
    figure = _figure(7.5, _bars_height(len(rows)))
    axes = figure.add_subplot()
    axes.barh(range(len(rows)), amounts, 0.6, color=COLOURS["amount"])
    axes.set_yticks(list(range(len(rows))), names)
    axes.set_ylabel(str(DIMENSION_LABELS[dimension]))
    axes.set_xlabel(_("Euros"))
    _number_axis(axes.xaxis, _amount_text)
    _note_cut(axes, len(rows), len(report.rows))
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    return _svg(figure, "amount")


def utilisation_chart(report: UsageReport) -> str:
    """Each equipment's utilisation (booked ÷ open hours), as horizontal bars up to 100 %."""
    title = _("Utilisation")
    rows = _largest(report.rows, lambda row: row["utilisation"])
    if not rows:
        return _empty("utilisation", title)
    names = [_name("equipment", row["equipment"]) for row in rows][::-1]
    shares = [float(row["utilisation"]) for row in rows][::-1]
    figure = _figure(7.5, _bars_height(len(rows)))
    axes = figure.add_subplot()
    axes.barh(range(len(rows)), shares, 0.6, color=COLOURS["booked"])
    axes.set_yticks(list(range(len(rows))), names)
    axes.set_xlim(0, 1)
    axes.set_ylabel(str(DIMENSION_LABELS["equipment"]))
    axes.set_xlabel(_("Booked hours ÷ open hours"))
    _number_axis(axes.xaxis, lambda value: percent(Decimal(str(value)), 0))
    _note_cut(axes, len(rows), len(report.rows))
    axes.set_title(title)
    axes.grid(axis="x", alpha=0.3)
    return _svg(figure, "utilisation")


def _keys(report: UsageReport, dimension: str) -> list[Any]:
    """The dimension's groups in the report's order, each once (as hashable keys)."""
    seen: dict[Any, Any] = {}
    for row in report.rows:
        key = _key(row[dimension])
        seen.setdefault(key, row[dimension])
    # Months in order, whatever the dimension the rows were sorted by first.
    return sorted(seen) if dimension == "month" else list(seen)


def _key(value: Any) -> Any:
    return value.get("id") if isinstance(value, dict) else value


def stacked_chart(
    report: UsageReport, first: str, second: str, figure_name: str, title: str
) -> str:
    """One figure per group of the first dimension, stacked by the second dimension."""
    salt = f"stacked-{figure_name}"
    if not report.rows:
        return _empty(salt, title)
    values: dict[Any, Any] = {}
    totals: dict[tuple[Any, Any], float] = {}
    per_group: dict[Any, float] = {}
    for row in report.rows:
        a, b = _key(row[first]), _key(row[second])
        values.setdefault(("a", a), row[first])
        values.setdefault(("b", b), row[second])
        amount = float(row[figure_name])
        totals[(a, b)] = totals.get((a, b), 0.0) + amount
        per_group[a] = per_group.get(a, 0.0) + amount
    groups = _keys(report, first)
    if len(groups) > MAX_GROUPS:
        largest = set(sorted(groups, key=lambda g: per_group[g], reverse=True)[:MAX_GROUPS])
        groups = [g for g in groups if g in largest]
    # The series in the table's order, each in the same colour on every chart of the
    # page; past MAX_SERIES, those with the most booked hours, the rest as "Others".
    series_order = _keys(report, second)
    shown: Sequence[Any] = series_order
    others: list[Any] = []
    if len(series_order) > MAX_SERIES:
        booked: dict[Any, Decimal] = {}
        for row in report.rows:
            key = _key(row[second])
            booked[key] = booked.get(key, Decimal(0)) + row["booked_hours"]
        largest = set(sorted(series_order, key=lambda s: booked[s], reverse=True)[: MAX_SERIES - 1])
        shown = [s for s in series_order if s in largest]
        others = [s for s in series_order if s not in largest]
    figure = _figure(7.5, _bars_height(len(groups)) + 0.4)
    axes = figure.add_subplot()
    positions = list(range(len(groups)))[::-1]  # the first group at the top
    left = [0.0] * len(groups)

    def draw(series: list[Any], label: str, colour: str) -> None:
        widths = [sum(totals.get((g, s), 0.0) for s in series) for g in groups]
        axes.barh(positions, widths, 0.6, left=left, label=label, color=colour)
        for n, width in enumerate(widths):
            left[n] += width

    for n, series in enumerate(shown):
        draw([series], _name(second, values[("b", series)]), SERIES[n % len(SERIES)])
    if others:
        draw(others, _("Others"), COLOURS["other"])
    axes.set_yticks(positions, [_name(first, values[("a", g)]) for g in groups])
    axes.set_ylabel(str(DIMENSION_LABELS[first]))
    if figure_name == "amount":
        axes.set_xlabel(_("Euros"))
        _number_axis(axes.xaxis, _amount_text)
    else:
        axes.set_xlabel(_("Hours"))
        _number_axis(axes.xaxis, _hours_text)
    _note_cut(axes, len(groups), len(per_group))
    axes.set_title(title)
    axes.legend(
        title=str(DIMENSION_LABELS[second]),
        loc="upper left",
        bbox_to_anchor=(1.01, 1),
        fontsize="small",
        title_fontsize="small",
    )
    axes.grid(axis="x", alpha=0.3)
    return _svg(figure, salt)


def utilisation_map(report: UsageReport, *, other: str) -> str:
    """Utilisation of each equipment per group of the other dimension, as a heat map."""
    title = _("Utilisation")
    if not report.rows:
        return _empty("utilisation-map", title)
    equipment = _keys(report, "equipment")[:MAX_GROUPS]
    columns = _keys(report, other)[:MAX_GROUPS]
    names: dict[Any, str] = {}
    for row in report.rows:
        names.setdefault(("e", _key(row["equipment"])), _name("equipment", row["equipment"]))
        names.setdefault(("o", _key(row[other])), _name(other, row[other]))
    grid = [[0.0] * len(columns) for _ in equipment]
    rows_at = {e: n for n, e in enumerate(equipment)}
    columns_at = {c: n for n, c in enumerate(columns)}
    for row in report.rows:
        y, x = rows_at.get(_key(row["equipment"])), columns_at.get(_key(row[other]))
        if y is not None and x is not None:
            grid[y][x] = float(row["utilisation"])
    figure = _figure(max(7.5, 0.9 * len(columns) + 3), max(3.0, 0.4 * len(equipment) + 2.0))
    axes = figure.add_subplot()
    image = axes.imshow(grid, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    axes.set_xticks(
        range(len(columns)), [names[("o", c)] for c in columns], rotation=45, ha="right"
    )
    axes.set_yticks(range(len(equipment)), [names[("e", e)] for e in equipment])
    axes.set_xlabel(str(DIMENSION_LABELS[other]))
    if len(equipment) * len(columns) <= 400:
        for y, line in enumerate(grid):
            for x, value in enumerate(line):
                axes.text(
                    x,
                    y,
                    percent(Decimal(str(value)), 0),
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if value > 0.6 else "#1d2a33",
                )
    bar = figure.colorbar(image, ax=axes, label=_("Booked hours ÷ open hours"))
    _number_axis(bar.ax.yaxis, lambda value: percent(Decimal(str(value)), 0))
    axes.set_title(title)
    return _svg(figure, "utilisation-map")
