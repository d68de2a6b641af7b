"""The plan's typical week for its page: a column per weekday, time downwards, a block per
weekly slot of each placed class, coloured by class (with its number: never colour alone).

Pure: it reads the requests' stored assignments and the equipment's codes, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from equipment.policy import WEEKDAYS, to_minutes

# Dark enough for white text at a small size (contrast ≥ 4.5:1), and apart from each other;
# a class beyond the palette reuses a colour, its number still tells it apart.
PALETTE = (
    "#1565c0",
    "#2e7d32",
    "#8e24aa",
    "#c62828",
    "#00695c",
    "#6d4c41",
    "#ad1457",
    "#283593",
    "#8a5a00",
    "#37474f",
    "#4a6b00",
    "#5e35b1",
)


def colour_of(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


@dataclass
class Block:
    number: int
    title: str
    colour: str
    start: str
    end: str
    equipment: str
    top: float = 0.0
    height: float = 0.0
    lane: int = 0
    lanes: int = 1

    @property
    def style(self) -> str:
        width = 100 / self.lanes
        return (
            f"top: {self.top:.3f}%; height: {self.height:.3f}%; "
            f"left: calc({self.lane * width:.3f}% + 2px); width: calc({width:.3f}% - 4px); "
            f"background: {self.colour}"
        )


@dataclass
class Day:
    code: str
    name: str = ""
    blocks: list[Block] = field(default_factory=list)


@dataclass
class Week:
    days: list[Day]
    first_hour: int
    last_hour: int

    @property
    def hour_count(self) -> int:
        return self.last_hour - self.first_hour

    @property
    def ticks(self) -> list[dict[str, Any]]:
        span = self.hour_count
        return [
            {"label": f"{h:02d}:00", "top": f"top: {(h - self.first_hour) * 100 / span:.3f}%"}
            for h in range(self.first_hour, self.last_hour + 1)
        ]


def build_week(requests: list[Any], codes: dict[int, str]) -> Week:
    """The typical week of the placed `requests` (in the plan's order; their `number` is
    their place in that order, from 1), `codes` naming the equipment by id."""
    raw: list[tuple[int, int, int, Block]] = []
    for index, request in enumerate(requests):
        assignment = request.assignment
        if not assignment:
            continue
        seen = set()
        for session in assignment.get("sessions") or [assignment]:
            key = (
                session["weekday"],
                session["start"],
                session["end"],
                tuple(session["equipment"]),
            )
            if key in seen:  # a slot that varies repeats itself week after week
                continue
            seen.add(key)
            start, end = to_minutes(session["start"]), to_minutes(session["end"]) or 24 * 60
            raw.append(
                (
                    WEEKDAYS.index(session["weekday"]),
                    start,
                    max(end, start + 1),
                    Block(
                        number=index + 1,
                        title=request.title,
                        colour=colour_of(index),
                        start=session["start"],
                        end=session["end"],
                        equipment=", ".join(
                            codes.get(e, str(e)) for e in sorted(session["equipment"])
                        ),
                    ),
                )
            )
    first = min((s // 60 for _, s, _, _ in raw), default=8)
    last = max((-(-e // 60) for _, _, e, _ in raw), default=18)
    first, last = min(first, 8), max(last, 18)
    span = (last - first) * 60
    used = {d for d, _, _, _ in raw}
    shown = [d for d in range(7) if d < 5 or d in used]
    days = {d: Day(code=WEEKDAYS[d]) for d in shown}
    for weekday in shown:
        mine = sorted((r for r in raw if r[0] == weekday), key=lambda r: (r[1], r[2]))
        # Lanes side by side for classes at the same time (on different equipment).
        ends: list[int] = []
        placed = []
        for _, start, end, block in mine:
            lane = next((n for n, busy in enumerate(ends) if busy <= start), len(ends))
            if lane == len(ends):
                ends.append(end)
            else:
                ends[lane] = end
            block.lane = lane
            block.top = (start - first * 60) * 100 / span
            block.height = (end - start) * 100 / span
            placed.append(block)
        for block in placed:
            block.lanes = max(len(ends), 1)
        days[weekday].blocks = placed
    return Week(days=[days[d] for d in shown], first_hour=first, last_hour=last)
