"""The plan's typical week on its page (planner.week): blocks placed on the wall clock,
side by side when simultaneous, a colour per class readable with white text."""

from __future__ import annotations

from types import SimpleNamespace

from planner.week import PALETTE, build_week


def placed(title, *sessions):
    return SimpleNamespace(
        title=title,
        assignment={
            "sessions": [
                {"weekday": d, "start": s, "end": e, "equipment": eq} for d, s, e, eq in sessions
            ]
        },
    )


def test_simultaneous_classes_share_the_day_side_by_side_and_weekends_show_when_used():
    week = build_week(
        [
            placed("A", ("tue", "08:00", "10:00", [1])),
            placed("B", ("tue", "09:00", "11:00", [2]), ("sat", "14:00", "20:00", [2])),
            SimpleNamespace(title="C", assignment=None),
            placed("D", ("tue", "10:00", "12:00", [1])),
        ],
        {1: "WL-PC-01", 2: "WL-PC-02"},
    )
    assert [d.code for d in week.days] == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert (week.first_hour, week.last_hour) == (8, 20)
    tuesday = {b.title: b for b in week.days[1].blocks}
    assert {t: (b.number, b.lane, b.lanes) for t, b in tuesday.items()} == {
        "A": (1, 0, 2),
        "B": (2, 1, 2),
        "D": (4, 0, 2),  # after A on its lane
    }
    assert tuesday["A"].top == 0 and round(tuesday["A"].height, 3) == round(200 / 12, 3)
    assert tuesday["B"].equipment == "WL-PC-02" and tuesday["A"].colour != tuesday["B"].colour


def test_a_slot_that_varies_draws_each_distinct_slot_once():
    week = build_week(
        [placed("A", *[("mon", "08:00", "09:00", [1])] * 3, ("wed", "08:00", "09:00", [1]))],
        {1: "X"},
    )
    assert [len(d.blocks) for d in week.days] == [1, 0, 1, 0, 0]


def contrast_with_white(colour: str) -> float:
    def channel(value: int) -> float:
        x = value / 255
        return x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(int(colour[i : i + 2], 16)) for i in (1, 3, 5))
    return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05)


def test_every_colour_keeps_white_text_readable():
    assert len(set(PALETTE)) == len(PALETTE) >= 10
    assert min(contrast_with_white(c) for c in PALETTE) >= 4.5
