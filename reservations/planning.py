"""Busy time of many equipment over a few local days, laid out for the web pages.

One builder serves the planning page (equipment in rows, days in columns) and the week
calendar of an equipment page (days in columns, time downwards): it reads every
reservation and closure of the window in a fixed number of queries, whatever the number
of equipment, and cuts them into pieces per local day (Europe/Paris).

Pieces are placed on the local wall clock: a 09:00 booking sits at 09:00 on the day after
a daylight-saving change too (the day is 23 or 25 hours long, the grid is not).
What a reader may not see in full (SPEC §6) never enters a block: others' bookings are
busy time with their priority only.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import MISSING, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from html import escape
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import BooleanField, Expression, ExpressionWrapper, Value
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.french_calendars import public_holidays
from core.roles import is_platform_manager
from core.sql import Among
from core.timezones import day_bounds, local_tz
from equipment.models import Equipment
from partners.models import ProjectKind
from reservations.models import Closure, closed_equipment

from .models import LIVE_STATUSES, Reservation, ReservationStatus
from .selectors import full_view_filter

# Busy time drawn on the grid: what holds the slot, and what was used.
SHOWN_STATUSES = (*LIVE_STATUSES, ReservationStatus.COMPLETED)
DAY_MINUTES = 24 * 60
DEFAULT_HOURS = (8 * 60, 19 * 60)
ONE_MINUTE = timedelta(minutes=1)
ONE_DAY = timedelta(days=1)
# "HH:MM" of every minute of a day, for the wall clock read without a conversion.
CLOCK_TEXTS = [f"{m // 60:02d}:{m % 60:02d}" for m in range(DAY_MINUTES)]


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def clock(moment: datetime, tz: ZoneInfo) -> str:
    local = moment.astimezone(tz)
    return f"{local.hour:02d}:{local.minute:02d}"  # strftime("%H:%M"), several times faster


@dataclass
class Block:
    """A piece of busy time on one local day, placed in percent of the day's span."""

    kind: str  # "reservation", "buffer" or "closure"
    start: datetime
    end: datetime
    offset: float = 0.0
    size: float = 0.0
    priority: str = ""
    status: str = ""
    times: str = ""
    # Only for a reader who sees the reservation in full.
    full: bool = False
    reservation_id: int | None = None
    title: str = ""
    project: str = ""
    partner: str = ""
    booked_by: str = ""
    # Closures: why (closures are public, as busy time is).
    reason: str = ""
    start_minute: int = 0
    end_minute: int = 0

    @property
    def across(self) -> str:
        """Inline style for a horizontal track (the planning page)."""
        return f"left:{self.offset:.3f}%;width:{self.size:.3f}%"

    @property
    def down(self) -> str:
        """Inline style for a vertical day column (an equipment's week)."""
        return f"top:{self.offset:.3f}%;height:{self.size:.3f}%"

    @property
    def css(self) -> str:
        names = [f"block-{self.kind}"]
        if self.priority:
            names.append(f"prio-{self.priority}")
        if self.status == ReservationStatus.PENDING:
            names.append("pending")
        return " ".join(names)

    @property
    def tooltip(self) -> str:
        return self.describe(_block_words(get_language()))

    def describe(self, words: dict[str, Any]) -> str:
        """The tooltip, with the words of the reader's language given (`_block_words`)."""
        if self.kind == "closure":
            return f"{self.times} · {words['closed']}: {self.reason}"
        if self.kind == "buffer":
            return f"{self.times} · {words['buffer']}"
        label = words["priorities"].get(self.priority, self.priority)
        if not self.full:
            return f"{self.times} · {words['busy']} ({label})"
        return f"{self.times} · {self.title} · {self.project} ({self.partner}) · {self.booked_by}"

    def across_html(self, words: dict[str, Any], escaped: dict[str, str] | None = None) -> str:
        """The block on a horizontal track, as reservations/_block.html draws it with
        `vertical=False` (tests/web/test_planning.py holds them equal).

        The planning draws thousands of blocks: a template include each cost most of the
        page's time, so the markup is written here, with the same escaping (Django's
        `escape` is the standard library's, behind a lazy-string wrapper). `escaped`
        (Escapes) keeps the texts already escaped, from block to block.
        """
        before, after = self.across_parts(words, Escapes() if escaped is None else escaped)
        # `across` is numbers: nothing to escape.
        return f"{before}{_across(self.offset, self.size)}{after}"

    def across_parts(self, words: dict[str, Any], escaped: dict[str, str]) -> tuple[str, str]:
        """`across_html` before and after the block's place (`across`): the place may be
        given later (build_planning)."""
        e = escaped
        # The class and the data attributes depend on kind, priority and status only.
        head, tail = _block_markup(self.kind, self.priority, self.status)
        if self.reservation_id:
            tail += f' data-reservation="{self.reservation_id}"'
        if self.kind == "reservation" and self.full:
            # describe(), escaped piece by piece: escaping replaces characters one by one,
            # and the separators have none to replace.
            title = e[self.title]
            label = f'<span class="label">{title}</span>'
            tooltip = (
                f"{e[self.times]} · {title} · {e[self.project]} ({e[self.partner]})"
                f" · {e[self.booked_by]}"
            )
        else:
            if self.kind == "closure":
                label = words["closed_label"]
            elif self.kind == "reservation":
                label = words["busy_label"]
            else:
                label = ""
            tooltip = e[self.describe(words)]
        return f'{head} style="', f'" title="{tooltip}"{tail}>{label}</span>\n'


class Escapes(dict[str, str]):
    """`html.escape` of each text met, computed once: a busy week repeats its hours, its
    projects, its people and its busy blocks' tooltips."""

    def __missing__(self, text: str) -> str:
        found = self[text] = escape(text)
        return found


@lru_cache(maxsize=4096)
def _across(offset: float, size: float) -> str:
    """Block.across, kept: the blocks of a busy week share a few hundred places."""
    return f"left:{offset:.3f}%;width:{size:.3f}%"


@lru_cache(maxsize=64)
def _block_markup(kind: str, priority: str, status: str) -> tuple[str, str]:
    """The start of a block's tag up to its style, and its data attributes but the
    reservation's (Block.across_html), for one kind, priority and status."""
    css = Block(kind=kind, start=_EPOCH, end=_EPOCH, priority=priority, status=status).css
    tail = f' data-kind="{kind}"'
    if priority:
        tail += f' data-priority="{escape(priority)}"'
    return f'<span class="block {escape(css)}"', tail


_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def priority_labels() -> dict[str, str]:
    return {kind.value: str(kind.label) for kind in ProjectKind}


@lru_cache(maxsize=8)
def _block_words(language: str | None) -> dict[str, Any]:
    """The words of the blocks in one language, looked up once rather than per block."""
    closed, busy = _("Closed"), _("Busy")
    return {
        "closed": closed,
        "buffer": _("Buffer"),
        "busy": busy,
        "priorities": priority_labels(),
        # The labels of Block.across_html, escaped once.
        "closed_label": f'<span class="label">{escape(closed)}</span>',
        "busy_label": f'<span class="label">{escape(busy)}</span>',
    }


@dataclass
class Cell:
    day: date
    holiday: str = ""
    blocks: list[Block] = field(default_factory=list)
    # Opening hours of the equipment that day, placed like the blocks.
    open: list[tuple[float, float]] = field(default_factory=list)
    today: bool = False

    @property
    def open_across(self) -> list[str]:
        return [f"left:{a:.3f}%;width:{b:.3f}%" for a, b in self.open]

    @property
    def open_down(self) -> list[str]:
        return [f"top:{a:.3f}%;height:{b:.3f}%" for a, b in self.open]

    def across_html(
        self,
        words: dict[str, Any],
        openings: dict[Any, str] | None = None,
        escaped: dict[str, str] | None = None,
    ) -> str:
        """The day's cell of a planning row: opening hours, then the blocks (see Row).
        `openings` keeps the markup of the opening hours already written, by their list;
        `escaped` the texts already escaped (Escapes)."""
        escaped = Escapes() if escaped is None else escaped
        # The grid's cells share their opening lists (_rows): one markup per list.
        key = id(self.open)
        opening = openings.get(key) if openings is not None else None
        if opening is None:
            opening = "".join(
                f'<span class="open" style="{style}"></span>' for style in self.open_across
            )
            if openings is not None:
                openings[key] = opening
        blocks = "".join([block.across_html(words, escaped) for block in self.blocks])
        today = "today" if self.today else ""
        return f'<td class="{today}"><div class="track">{opening}\n{blocks}</div></td>\n'


@dataclass
class Row:
    equipment: Equipment
    cells: list[Cell]

    @property
    def cells_across(self) -> SafeString:
        """The row's day cells on the planning (reservations/_grid.html), written here as the
        blocks are (Block.across_html) rather than by template loops over every cell; the
        opening styles are numbers, the blocks escaped."""
        return self.cells_html(_block_words(get_language()), {}, Escapes())

    def cells_html(
        self, words: dict[str, Any], openings: dict[Any, str], escaped: dict[str, str]
    ) -> SafeString:
        """`cells_across` with the block words given, and the opening hours' markup and the
        escaped texts kept from row to row (Grid.rows_across)."""
        return mark_safe(  # noqa: S308
            "".join([cell.across_html(words, openings, escaped) for cell in self.cells])
        )

    def across_html(
        self, link: str, words: dict[str, Any], openings: dict[Any, str], escaped: dict[str, str]
    ) -> str:
        """The row of the planning's table (reservations/_grid.html): what the template's
        loop over the rows wrote for it, whitespace included (tests/web/test_planning.py
        holds them equal), with `link` the equipment page's URL."""
        return _row_html(self.equipment, link, self.cells_html(words, openings, escaped))


def _row_html(item: Equipment, link: str, cells: str) -> str:
    """A row of the planning's table (Row.across_html) with its cells' markup given."""
    status = ""
    if item.status != Equipment.Status.ACTIVE:
        status = (
            f'<span class="status status-{escape(item.status)}">'
            f"{escape(str(item.get_status_display()))}</span>"
        )
    return (
        f'\n    <tr data-equipment="{item.pk}">\n      <th scope="row" class="eq">\n'
        f'        <a href="{escape(link)}">{escape(item.code)}</a>\n'
        f"        <small>{escape(item.name)}</small>\n"
        f"        {status}\n      </th>\n"
        f"      {cells}\n    </tr>\n  "
    )


# Any number will do: the equipment pages' paths differ only by it (Grid.rows_across).
_SAMPLE_PK = 987654321


def equipment_links(pks: Iterable[int]) -> dict[int, str]:
    """The URL of each equipment's page (`equipment:detail`), reversed once rather than
    once per equipment (200 reversals cost more than the blocks of a planning row): the
    path takes the key through an `int` converter, so the others are the sample's path
    with their own key. Reversed one by one if the sample's number shows elsewhere."""
    sample = reverse("equipment:detail", args=[_SAMPLE_PK])
    if sample.count(str(_SAMPLE_PK)) != 1:
        return {pk: reverse("equipment:detail", args=[pk]) for pk in pks}
    head, _sample, tail = sample.partition(str(_SAMPLE_PK))
    return {pk: f"{head}{pk}{tail}" for pk in pks}


@dataclass
class Tick:
    label: str
    offset: float

    @property
    def across(self) -> str:
        return f"left:{self.offset:.3f}%"

    @property
    def down(self) -> str:
        return f"top:{self.offset:.3f}%"


@dataclass
class Grid:
    days: list[date]
    rows: list[Row]
    first_minute: int
    last_minute: int
    holidays: dict[date, str]
    ticks: list[Tick]
    today: date
    # The rows' markup when written straight from the database's rows (build_planning):
    # `rows` is then empty, and `rows_across` gives it.
    markup: str | None = None

    @property
    def shown(self) -> bool:
        """Whether the table has rows (reservations/_grid.html)."""
        return bool(self.rows or self.markup)

    @property
    def hour_count(self) -> int:
        return (self.last_minute - self.first_minute) // 60

    @property
    def hours(self) -> str:
        return f"{self.first_minute // 60:02d}:00–{self.last_minute // 60:02d}:00"

    @property
    def first_day(self) -> date:
        return self.days[0]

    @property
    def last_day(self) -> date:
        return self.days[-1]

    @property
    def rows_across(self) -> SafeString:
        """Every row of the planning's table (reservations/_grid.html), written here
        rather than by a template loop per row, as the blocks are (Row.across_html)."""
        if self.markup is not None:
            return mark_safe(self.markup)  # noqa: S308 (build_planning escapes what it writes)
        words = _block_words(get_language())
        links = equipment_links(row.equipment.pk for row in self.rows)
        openings: dict[Any, str] = {}
        escaped = Escapes()
        html = [
            row.across_html(links[row.equipment.pk], words, openings, escaped) for row in self.rows
        ]
        return mark_safe("".join(html))  # noqa: S308 (each row escapes what it writes)

    def headers(self) -> list[dict[str, Any]]:
        return [
            {"day": d, "holiday": self.holidays.get(d, ""), "today": d == self.today}
            for d in self.days
        ]


def _minute(moment: datetime, bounds: tuple[datetime, datetime], tz: ZoneInfo) -> int:
    """Wall-clock minutes since local midnight; the end of the day is 1440."""
    if moment >= bounds[1]:
        return DAY_MINUTES
    if moment <= bounds[0]:
        return 0
    local = moment.astimezone(tz)
    return local.hour * 60 + local.minute


# A local day and its bounds, computed once per grid rather than once per reservation.
DayBounds = tuple[date, tuple[datetime, datetime]]


def _day_bounds(days: Sequence[date], tz: ZoneInfo) -> list[DayBounds]:
    return [(day, day_bounds(day, tz)) for day in days]


def _pieces(
    start: datetime, end: datetime, days: Sequence[DayBounds], tz: ZoneInfo
) -> list[tuple[date, int, int]]:
    """Cut [start, end) into (local day, first minute, last minute) pieces."""
    # Most busy time lies within one local day: find that day by date, not by trying each.
    index = (start.astimezone(tz).date() - days[0][0]).days
    if 0 <= index < len(days):
        day, bounds = days[index]
        if bounds[0] <= start and end <= bounds[1]:
            first, last = _minute(start, bounds, tz), _minute(end, bounds, tz)
            return [(day, first, last)] if last > first else []
    found = []
    for day, bounds in days:
        if start < bounds[1] and bounds[0] < end:
            first, last = _minute(start, bounds, tz), _minute(end, bounds, tz)
            if last > first:
                found.append((day, first, last))
    return found


class WallClock:
    """Local days and wall-clock minutes of instants, for the days of one grid.

    When none of the days has a daylight-saving change (each lasts 24 hours), the wall
    clock of an instant among them is the first midnight plus the minutes elapsed: an
    integer division rather than a time zone conversion per instant (a busy week has
    thousands). Otherwise (`uniform` false), and for instants outside the days, each
    instant is converted (`_pieces`, `clock`): the same answers, more slowly.
    """

    def __init__(self, days: Sequence[DayBounds], tz: ZoneInfo):
        self.days = days
        self.tz = tz
        self.dates = [day for day, _bounds in days]
        self.origin = days[0][1][0].astimezone(UTC)
        self.end = len(days) * DAY_MINUTES
        self.uniform = all(b.astimezone(UTC) - a.astimezone(UTC) == ONE_DAY for _d, (a, b) in days)

    def text(self, moment: datetime) -> str:
        """`clock(moment)`: its local "HH:MM"."""
        if self.uniform:
            minute = (moment - self.origin) // ONE_MINUTE
            if 0 <= minute < self.end:
                return CLOCK_TEXTS[minute % DAY_MINUTES]
        return clock(moment, self.tz)

    def pieces(self, start: datetime, end: datetime) -> list[tuple[date, int, int]]:
        """`_pieces(start, end)`: [start, end) cut into (local day, first minute, last minute)."""
        if not self.uniform:
            return _pieces(start, end, self.days, self.tz)
        # Minutes since the first midnight, floored (the days' bounds are whole minutes:
        # the same minutes as the wall clock's hour and minute).
        first = (start - self.origin) // ONE_MINUTE
        last = (end - self.origin) // ONE_MINUTE
        index = first // DAY_MINUTES if first > 0 else 0
        stop = min(len(self.dates) - 1, last // DAY_MINUTES)
        found = []
        while index <= stop:
            base = index * DAY_MINUTES
            a, b = first - base, last - base
            if a < 0:
                a = 0
            if b > DAY_MINUTES:
                b = DAY_MINUTES
            if b > a:
                found.append((self.dates[index], a, b))
            index += 1
        return found


Openings = dict[int, list[list[tuple[int, int]]]]


def _openings(equipment: Sequence[Equipment], days: Sequence[date]) -> Openings:
    """Each equipment's opening minutes on each of the days, read once per distinct policy
    (Equipment.load_policies gives equal overrides one Policy)."""
    weekdays = [day.weekday() for day in days]
    by_policy: dict[int, list[list[tuple[int, int]]]] = {}
    found: Openings = {}
    for item in equipment:
        policy = item.policy
        hours = by_policy.get(id(policy))
        if hours is None:
            hours = by_policy[id(policy)] = [policy.opening_minutes(w) for w in weekdays]
        found[item.pk] = hours
    return found


def _span(openings: Openings, extra: Sequence[tuple[int, int]]) -> tuple[int, int]:
    """Whole hours covering the opening hours of the days shown and the bookings in them."""
    bounds = [(a, b) for hours in openings.values() for day in hours for a, b in day]
    bounds += list(extra)
    if not bounds:
        return DEFAULT_HOURS
    first = min(a for a, _b in bounds) // 60 * 60
    last = -(-max(b for _a, b in bounds) // 60) * 60
    return first, max(last, first + 60)


def _place(first: int, last: int, a: int, b: int) -> tuple[float, float]:
    """Minutes [a, b) of a day as (offset, size) in percent of minutes [first, last)."""
    span = last - first
    # min(max(…)) clamps, written out: this runs for every piece of a busy week.
    start = first if a < first else last if a > last else a
    end = first if b < first else last if b > last else b
    return round((start - first) * 100 / span, 3), round((end - start) * 100 / span, 3)


# A piece of busy time to draw: equipment pk, local day, first and last wall-clock minute.
Piece = tuple[int, date, int, int, Block]


def build_grid(
    *, equipment: Sequence[Equipment], first_day: date, days: int, user: Any, now: datetime
) -> Grid:
    """Lay out the busy time of `equipment` over `days` local days from `first_day`.

    Two queries (reservations, closures) whatever the number of equipment and bookings;
    the equipment come in already loaded.
    """
    tz = local_tz()
    day_list = [first_day + timedelta(days=n) for n in range(days)]
    window = (day_bounds(day_list[0], tz)[0], day_bounds(day_list[-1], tz)[1])
    holidays = public_holidays(day_list[0], day_list[-1])
    pieces: list[Piece] = []
    if equipment:
        bounds = _day_bounds(day_list, tz)
        pieces += _reservation_pieces(equipment, window, WallClock(bounds, tz), user)
        pieces += _closure_pieces(equipment, window, bounds, tz)
    booked_minutes = [(a, b) for _pk, _day, a, b, block in pieces if block.kind == "reservation"]
    today = now.astimezone(tz).date()
    Equipment.load_policies(equipment)
    openings = _openings(equipment, day_list)
    first, last = _span(openings, booked_minutes)
    return Grid(
        days=day_list,
        rows=_rows(equipment, day_list, holidays, pieces, first, last, today, openings),
        first_minute=first,
        last_minute=last,
        holidays=holidays,
        ticks=_ticks(first, last),
        today=today,
    )


def full_view_expression(user: Any) -> Expression:
    """Tell whether `user` sees a reservation in full (SPEC §6), as a query expression."""
    if is_platform_manager(user):
        return Value(True, output_field=BooleanField())
    return ExpressionWrapper(full_view_filter(user), output_field=BooleanField())


# The columns a block needs: reading them as values rather than four model instances per
# reservation (with every datetime column parsed) halves the cost of a busy week.
_BLOCK_COLUMNS = (
    "pk",
    "equipment_id",
    "start",
    "end",
    "blocked_until",
    "priority",
    "status",
    "full",
    "title",
    "project__name",
    "project__partner__name",
    "booked_by__first_name",
    "booked_by__last_name",
    "booked_by__username",
)


def _reservation_block(row: tuple[Any, ...], *, times: str) -> Block:
    """Describe a reservation (a row of `_BLOCK_COLUMNS`; `times` its local "HH:MM–HH:MM"):
    busy time with its priority, its details only if the reader sees it in full."""
    (pk, _equipment, start, end, _blocked, priority, status, full, title, project, partner,
     first_name, last_name, username) = row  # fmt: skip
    # Block(kind=…, …) without its __init__ (twenty arguments bound, for thousands of
    # rows): the defaults, then this reservation's values; tests hold the two equal.
    block = object.__new__(Block)
    if full:
        block.__dict__ = {
            **_BLOCK_DEFAULTS,
            "kind": "reservation",
            "start": start,
            "end": end,
            "priority": priority,
            "status": status,
            "times": times,
            "full": True,
            "reservation_id": pk,
            "title": title,
            "project": project,
            "partner": partner,
            # As User.get_full_name(), else the username.
            "booked_by": f"{first_name} {last_name}".strip() or username,
        }
    else:
        block.__dict__ = {
            **_BLOCK_DEFAULTS,
            "kind": "reservation",
            "start": start,
            "end": end,
            "priority": priority,
            "status": status,
            "times": times,
        }
    return block


_BLOCK_DEFAULTS = {f.name: f.default for f in fields(Block) if f.default is not MISSING}


def _reservation_pieces(
    equipment: Sequence[Equipment], window: tuple[datetime, datetime], wall: WallClock, user: Any
) -> list[Piece]:
    """Cut the reservations shown in the window, and the buffers after them, into day pieces."""
    reservations = (
        Reservation.objects.overlapping(*window, buffers=True)
        .filter(Among("equipment_id", [e.pk for e in equipment]), status__in=SHOWN_STATUSES)
        .annotate(full=full_view_expression(user))
        .order_by("start", "pk")
        .values_list(*_BLOCK_COLUMNS)
    )
    pieces: list[Piece] = []
    text, cut = wall.text, wall.pieces
    origin, last_minute, dates, uniform = wall.origin, wall.end, wall.dates, wall.uniform
    for r in reservations:
        pk, start, end, blocked_until = r[1], r[2], r[3], r[4]
        if uniform:
            # WallClock.text and WallClock.pieces written out for the common case, a
            # reservation within one of the days: the minutes since the first midnight
            # give both its times and its place.
            first = (start - origin) // ONE_MINUTE
            last = (end - origin) // ONE_MINUTE
            index, minute = divmod(first, DAY_MINUTES)
            if first >= 0 and last < last_minute and last - first < DAY_MINUTES - minute:
                end_text = CLOCK_TEXTS[last % DAY_MINUTES]
                block = _reservation_block(r, times=f"{CLOCK_TEXTS[minute]}–{end_text}")
                if last > first:
                    pieces.append((pk, dates[index], minute, last - first + minute, block))
            else:
                end_text = text(end)
                block = _reservation_block(r, times=f"{text(start)}–{end_text}")
                for day, a, b in cut(start, end):
                    pieces.append((pk, day, a, b, block))
        else:
            end_text = text(end)
            block = _reservation_block(r, times=f"{text(start)}–{end_text}")
            for day, a, b in cut(start, end):
                pieces.append((pk, day, a, b, block))
        if blocked_until > end:
            buffer = Block(
                kind="buffer",
                start=end,
                end=blocked_until,
                priority=block.priority,
                times=f"{end_text}–{text(blocked_until)}",
            )
            for day, a, b in cut(end, blocked_until):
                pieces.append((pk, day, a, b, buffer))
    return pieces


def _closure_block(closure: Closure, tz: ZoneInfo) -> Block:
    """Describe a closure: its dates and times, and why."""
    start_text, end_text = (
        f"{date_format(m.astimezone(tz), 'SHORT_DATE_FORMAT')} {clock(m, tz)}"
        for m in (closure.start, closure.end)
    )
    return Block(
        kind="closure",
        start=closure.start,
        end=closure.end,
        reason=closure.reason,
        times=f"{start_text}–{end_text}",
    )


def _closure_pieces(
    equipment: Sequence[Equipment],
    window: tuple[datetime, datetime],
    days: Sequence[DayBounds],
    tz: ZoneInfo,
) -> list[Piece]:
    """Cut the closures of the window into day pieces, one per equipment they close."""
    ids = [e.pk for e in equipment]
    site_ids = {e.site_id for e in equipment}
    closures = (
        Closure.objects.touching(equipment_ids=ids, site_ids=site_ids)
        .during(*window)
        .order_by("start", "pk")
    )
    by_site: dict[int, list[int]] = defaultdict(list)
    for e in equipment:
        by_site[e.site_id].append(e.pk)
    pieces: list[Piece] = []
    for c in closures:
        targets = closed_equipment(c, by_site, ids)
        block = _closure_block(c, tz)
        for day, a, b in _pieces(c.start, c.end, days, tz):
            for pk in targets:
                pieces.append((pk, day, a, b, block))
    return pieces


def _rows(
    equipment: Sequence[Equipment],
    days: Sequence[date],
    holidays: dict[date, str],
    pieces: Sequence[Piece],
    first: int,
    last: int,
    today: date,
    openings: Openings,
) -> list[Row]:
    """Place the pieces and the opening hours between minutes `first` and `last` of each day.

    The cells of equipment sharing a policy share their days' lists of opening places
    (read only, as the rest of the grid): a week of 200 equipment makes thousands of
    objects, and each one made is work for the garbage collector too.
    """
    placed_hours: dict[int, list[list[tuple[float, float]]]] = {}
    # Cell(day=…, holiday=…, today=…, open=…) for every equipment and day, without __init__.
    cell_values = [(d, holidays.get(d, ""), d == today) for d in days]
    cells: dict[int, dict[date, Cell]] = {}
    for e in equipment:
        hours = openings[e.pk]
        placed_days = placed_hours.get(id(hours))
        if placed_days is None:
            placed_days = placed_hours[id(hours)] = [
                [_place(first, last, a, b) for a, b in day] for day in hours
            ]
        row = cells[e.pk] = {}
        for (day, holiday, is_today), placed_day in zip(cell_values, placed_days, strict=True):
            cell = row[day] = object.__new__(Cell)
            cell.__dict__ = {
                "day": day,
                "holiday": holiday,
                "blocks": [],
                "open": placed_day,
                "today": is_today,
            }
    placed_once: set[int] = set()
    places: dict[tuple[int, int], tuple[float, float]] = {}  # a busy week repeats its hours
    for pk, day, a, b, block in pieces:
        place = places.get((a, b))
        if place is None:
            place = places[a, b] = _place(first, last, a, b)
        offset, size = place
        if size > 0:
            placed = block
            if id(block) in placed_once:
                # A copy for each further piece (a block may span days or close many
                # equipment); cheaper than dataclasses.replace, which runs __init__ again.
                placed = object.__new__(Block)
                placed.__dict__.update(block.__dict__)
            placed_once.add(id(block))
            placed.start_minute, placed.end_minute = a, b
            placed.offset, placed.size = offset, size
            cells[pk][day].blocks.append(placed)
    return [Row(equipment=e, cells=list(cells[e.pk].values())) for e in equipment]


# A piece of busy time written as markup but its place: equipment pk, local day, first and
# last wall-clock minute, the block's markup before and after its place (Block.across_parts).
MarkupPiece = tuple[int, date, int, int, str, str]


def build_planning(
    *, equipment: Sequence[Equipment], first_day: date, days: int, user: Any, now: datetime
) -> Grid:
    """`build_grid` for the planning page: the same grid, but its rows written as markup
    (Grid.markup, what `rows_across` gives) straight from the database's rows, without a
    Block per piece placed in Cells and written afterwards: a busy week has thousands.
    Tests hold the two equal (tests/web/test_planning_fast_paths.py)."""
    tz = local_tz()
    day_list = [first_day + timedelta(days=n) for n in range(days)]
    window = (day_bounds(day_list[0], tz)[0], day_bounds(day_list[-1], tz)[1])
    holidays = public_holidays(day_list[0], day_list[-1])
    words = _block_words(get_language())
    escaped = Escapes()
    pieces: list[MarkupPiece] = []
    booked: list[tuple[int, int]] = []
    if equipment:
        bounds = _day_bounds(day_list, tz)
        booked = _reservation_markup(
            equipment, window, WallClock(bounds, tz), user, words, escaped, pieces
        )
        closures: dict[int, tuple[str, str]] = {}
        for pk, day, a, b, block in _closure_pieces(equipment, window, bounds, tz):
            parts = closures.get(id(block))
            if parts is None:
                parts = closures[id(block)] = block.across_parts(words, escaped)
            pieces.append((pk, day, a, b, *parts))
    today = now.astimezone(tz).date()
    Equipment.load_policies(equipment)
    openings = _openings(equipment, day_list)
    first, last = _span(openings, booked)
    return Grid(
        days=day_list,
        rows=[],
        first_minute=first,
        last_minute=last,
        holidays=holidays,
        ticks=_ticks(first, last),
        today=today,
        markup=_rows_markup(equipment, day_list, pieces, first, last, today, openings),
    )


def _reservation_markup(
    equipment: Sequence[Equipment],
    window: tuple[datetime, datetime],
    wall: WallClock,
    user: Any,
    words: dict[str, Any],
    escaped: dict[str, str],
    pieces: list[MarkupPiece],
) -> list[tuple[int, int]]:
    """`_reservation_pieces` with each block written (Block.across_parts) rather than made:
    add the pieces of the reservations and their buffers to `pieces`; give the first and
    last minutes of the reservations' pieces (what `_span` reads of them)."""
    reservations = (
        Reservation.objects.overlapping(*window, buffers=True)
        .filter(Among("equipment_id", [e.pk for e in equipment]), status__in=SHOWN_STATUSES)
        .annotate(full=full_view_expression(user))
        .order_by("start", "pk")
        .values_list(*_BLOCK_COLUMNS)
    )
    e = escaped
    busy, buffer_word, labels = words["busy"], words["buffer"], words["priorities"]
    busy_label = words["busy_label"]
    # Blocks that show no details repeat: their markup by (priority, status, times).
    hidden: dict[tuple[str, str, str], tuple[str, str]] = {}
    buffers: dict[tuple[str, str], tuple[str, str]] = {}
    lowest, highest = DAY_MINUTES, 0
    text, cut = wall.text, wall.pieces
    origin, last_minute, dates, uniform = wall.origin, wall.end, wall.dates, wall.uniform
    add = pieces.append
    for r in reservations:
        (pk, equipment_id, start, end, blocked_until, priority, status, full, title, project,
         partner, first_name, last_name, username) = r  # fmt: skip
        found: list[tuple[date, int, int]]
        if uniform:
            # As _reservation_pieces: a reservation within one of the days is placed from
            # its minutes since the first midnight.
            first = (start - origin) // ONE_MINUTE
            last = (end - origin) // ONE_MINUTE
            index, minute = divmod(first, DAY_MINUTES)
            if first >= 0 and last < last_minute and last - first < DAY_MINUTES - minute:
                end_text = CLOCK_TEXTS[last % DAY_MINUTES]
                times = f"{CLOCK_TEXTS[minute]}–{end_text}"
                found = [(dates[index], minute, last - first + minute)] if last > first else []
            else:
                end_text = text(end)
                times = f"{text(start)}–{end_text}"
                found = cut(start, end)
        else:
            end_text = text(end)
            times = f"{text(start)}–{end_text}"
            found = cut(start, end)
        if full:
            # Block.across_parts of _reservation_block's block, written out.
            head, tail = _block_markup("reservation", priority, status)
            shown = e[title]
            booked_by = f"{first_name} {last_name}".strip() or username
            before = f'{head} style="'
            after = (
                f'" title="{e[times]} · {shown} · {e[project]} ({e[partner]}) · {e[booked_by]}"'
                f'{tail} data-reservation="{pk}"><span class="label">{shown}</span></span>\n'
            )
        else:
            parts = hidden.get((priority, status, times))
            if parts is None:
                head, tail = _block_markup("reservation", priority, status)
                tooltip = e[f"{times} · {busy} ({labels.get(priority, priority)})"]
                parts = hidden[priority, status, times] = (
                    f'{head} style="',
                    f'" title="{tooltip}"{tail}>{busy_label}</span>\n',
                )
            before, after = parts
        for day, a, b in found:
            add((equipment_id, day, a, b, before, after))
            if a < lowest:
                lowest = a
            if b > highest:
                highest = b
        if blocked_until > end:
            buffer_times = f"{end_text}–{text(blocked_until)}"
            parts = buffers.get((priority, buffer_times))
            if parts is None:
                head, tail = _block_markup("buffer", priority, "")
                tooltip = e[f"{buffer_times} · {buffer_word}"]
                parts = buffers[priority, buffer_times] = (
                    f'{head} style="',
                    f'" title="{tooltip}"{tail}></span>\n',
                )
            for day, a, b in cut(end, blocked_until):
                add((equipment_id, day, a, b, *parts))
    return [(lowest, highest)] if highest else []


def _rows_markup(
    equipment: Sequence[Equipment],
    days: Sequence[date],
    pieces: Sequence[MarkupPiece],
    first: int,
    last: int,
    today: date,
    openings: Openings,
) -> str:
    """The planning's rows (Grid.rows_across) from pieces written but their place: `_rows`
    and Row.across_html in one pass, with the same markup."""
    count = len(days)
    day_index = {day: n for n, day in enumerate(days)}
    position = {e.pk: n for n, e in enumerate(equipment)}
    cells: list[list[str]] = [[] for _n in range(len(equipment) * count)]
    places: dict[tuple[int, int], str | None] = {}  # a busy week repeats its hours
    for pk, day, a, b, before, after in pieces:
        if (a, b) in places:
            place = places[a, b]
        else:
            offset, size = _place(first, last, a, b)
            place = places[a, b] = _across(offset, size) if size > 0 else None
        if place is not None:
            cells[position[pk] * count + day_index[day]].append(f"{before}{place}{after}")
    # Cell.across_html's opening hours, once per list of them (equal policies share one).
    opening_markup: dict[int, list[str]] = {}
    classes = ["today" if day == today else "" for day in days]
    links = equipment_links(e.pk for e in equipment)
    html = []
    for n, item in enumerate(equipment):
        hours = openings[item.pk]
        opened = opening_markup.get(id(hours))
        if opened is None:
            opened = opening_markup[id(hours)] = [
                "".join(
                    f'<span class="open" style="left:{x:.3f}%;width:{y:.3f}%"></span>'
                    for x, y in (_place(first, last, a, b) for a, b in day)
                )
                for day in hours
            ]
        base = n * count
        tds = "".join(
            [
                f'<td class="{classes[d]}"><div class="track">{opened[d]}\n'
                f"{''.join(cells[base + d])}</div></td>\n"
                for d in range(count)
            ]
        )
        html.append(_row_html(item, links[item.pk], tds))
    return "".join(html)


def _ticks(first: int, last: int) -> list[Tick]:
    """Mark every whole hour from minute `first` to minute `last`."""
    return [
        Tick(label=f"{m // 60:02d}", offset=_place(first, last, m, m)[0])
        for m in range(first, last + 1, 60)
    ]


def opening_week(equipment: Equipment, today: date) -> date:
    """The Monday of the week an equipment's calendar opens on: this week while an open day
    remains in it (today included), else the next week (a Sunday, a closed weekend)."""
    monday = monday_of(today)
    policy = equipment.policy
    if any(policy.opening_minutes(weekday) for weekday in range(today.weekday(), 7)):
        return monday
    return monday + timedelta(days=7)
