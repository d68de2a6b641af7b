"""The fast iCalendar writer folds lines byte for byte as icalendar does."""

from __future__ import annotations

import random

from icalendar.parser import Contentline

from calendars.ics_writer import fold


def test_fold_matches_icalendar_on_awkward_lines():
    """Backslashes and carets at the fold, multi-byte characters across it."""
    alphabet = ["a", "é", "€", "𝄞", "\\", "^", ",", ";", " ", "Z"]
    rng = random.Random(5545)
    lines = ["DESCRIPTION:" + "x" * n for n in range(55, 70)]
    lines += ["SUMMARY:" + "a" * 65 + "\\" + "b" * 20, "SUMMARY:" + "é" * 40 + "^n" * 30]
    lines += [
        "DESCRIPTION:" + "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 300)))
        for _ in range(3000)
    ]
    for line in lines:
        assert fold(line) == Contentline(line).to_ical().decode(), line
