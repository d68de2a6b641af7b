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


def test_written_events_are_remembered_by_their_data_alone(settings, monkeypatch):
    """render_calendar keeps each VEVENT's text by (EventData, time zone): a second
    rendering, one from a full memory and one from an empty one are the same bytes as
    icalendar's."""
    from datetime import UTC, date, datetime, timedelta
    from zoneinfo import ZoneInfo

    from calendars import ics_writer
    from calendars.ics_writer import EventData, reference_calendar, render_calendar

    start = datetime(2026, 3, 29, 0, 30, 15, tzinfo=UTC)  # the night summer time starts
    events = [
        EventData(
            uid=f"reservation-{n}@x",
            summary="Mesures; « gel », long " * (n % 3 + 1),
            start=start + timedelta(hours=n),
            end=start + timedelta(hours=n + 1),
            stamp=start,
            sequence=n,
            created=start,
            last_modified=start,
            status="CONFIRMED",
            url=f"https://x/r/{n}/",
            location="Salle 1, bâtiment B",
            description="Projet : A\nStatut : confirmée" if n % 2 else "",
        )
        for n in range(6)
    ]
    events.append(
        events[0]._replace(uid="closure-1@x", start=date(2026, 5, 1), end=date(2026, 5, 2))
    )
    reference = reference_calendar(name="N", uid="u", events=events).to_ical()
    monkeypatch.setattr(ics_writer, "_WRITTEN", {})
    assert render_calendar(name="N", uid="u", events=events) == reference
    assert len(ics_writer._WRITTEN) == len(events)
    assert render_calendar(name="N", uid="u", events=events) == reference  # remembered
    # The same instants in another zone are equal keys: they are written the same.
    paris = ZoneInfo("Europe/Paris")
    moved = [e._replace(start=e.start.astimezone(paris)) for e in events[:6]]
    assert render_calendar(name="N", uid="u", events=moved + events[6:]) == reference
    # Full: emptied, then filled again.
    monkeypatch.setattr(ics_writer, "WRITTEN_MAX", 3)
    monkeypatch.setattr(ics_writer, "_WRITTEN", {})
    assert render_calendar(name="N", uid="u", events=events) == reference
    assert len(ics_writer._WRITTEN) <= 3
    # Another zone is another key.
    settings.TIME_ZONE = "America/New_York"
    other = render_calendar(name="N", uid="u", events=events)
    assert other == reference_calendar(name="N", uid="u", events=events).to_ical()
    assert other != reference
