"""Closures from .ics files (SPEC §4): real exports, hostile files, displacement, permissions."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from calendars import sync
from calendars.ics_import import IcsImportError, parse_ics
from reservations.models import Closure
from reservations.services import reservation_create

pytestmark = pytest.mark.django_db
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 3, 2, 8, 0, tzinfo=PARIS)  # a Monday
FILES = Path(__file__).parent / "files"
URL = "/api/v1/closures/import/"
OUTLOOK_UIDS = [
    "040000008200E00074C5B7101A82E0080000000010A3E6F0D77DDC01000000000000000010000000"
    "A1B2C3D4E5F60718293A4B5C6D7E8F90",
    "040000008200E00074C5B7101A82E008000000003C57F1F1D77DDC01000000000000000010000000"
    "F0E1D2C3B4A5968778695A4B3C2D1E0F",
    "040000008200E00074C5B7101A82E00800000000D0A5B1F2D77DDC01000000000000000010000000"
    "1234ABCD5678EF901234ABCD5678EF90",
]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("calendars.api.timezone.now", lambda: NOW)


@pytest.fixture(autouse=True)
def no_pending_sync():
    """Ids left by other tests' uncommitted transactions must not leak into these."""
    sync._pending.__dict__.clear()
    yield
    sync._pending.__dict__.clear()


def upload(name: str, content: bytes | None = None) -> SimpleUploadedFile:
    data = content if content is not None else (FILES / name).read_bytes()
    return SimpleUploadedFile(name, data, content_type="text/calendar")


def post(client, name: str, content: bytes | None = None, **scope):
    return client.post(URL, {"file": upload(name, content), **scope}, format="multipart")


def periods(**filters) -> list[tuple[datetime, datetime, str, str]]:
    return [
        (c.start, c.end, c.kind, c.reason)
        for c in Closure.objects.filter(**filters).order_by("start")
    ]


# --- real exports ----------------------------------------------------------------------------


def test_outlook_export_with_windows_time_zone_across_the_spring_change(client_for, campus):
    response = post(
        client_for(campus.admin), "outlook_windows_tz.ics", equipment=campus.rheometer.pk
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["errors"] == [] and body["skipped"] == [] and body["displaced"] == []
    assert periods(equipment=campus.rheometer) == [
        # Friday before the change: 08:00-18:00 at +01:00.
        (utc(2026, 3, 27, 7), utc(2026, 3, 27, 17), "event", "Journée portes ouvertes"),
        # Monday after the change: 08:00-18:00 at +02:00.
        (utc(2026, 3, 30, 6), utc(2026, 3, 30, 16), "event", "Maintenance annuelle du plateau"),
        # All-day Easter Monday (CATEGORIES:Holiday): the whole local day.
        (utc(2026, 4, 5, 22), utc(2026, 4, 6, 22), "holiday", "Lundi de Pâques"),
    ]
    assert [c["source"] for c in body["created"]] == [f"ics:{uid}" for uid in OUTLOOK_UIDS]
    first = body["created"][0]
    assert first["equipment"] == campus.rheometer.pk and first["site"] is None
    assert (first["start"], first["end"]) == (
        "2026-03-27T08:00:00+01:00",
        "2026-03-27T18:00:00+01:00",
    )
    assert body["created"][1]["start"] == "2026-03-30T08:00:00+02:00"


def test_google_export_in_utc_keeps_a_weekly_event_at_local_time_across_the_autumn_change(
    client_for, campus
):
    response = post(client_for(campus.admin), "google_utc.ics", site=campus.site.pk)
    assert response.status_code == 201, response.json()
    uid = "2k9vq1m3c8d7h6f5g4s3a2p1o0@google.com"
    assert periods(site=campus.site) == [
        # X-WR-TIMEZONE:Europe/Paris: a 09:00-11:00 seminar stays at 09:00 local time.
        (utc(2026, 10, 20, 7), utc(2026, 10, 20, 9), "event", "Séminaire des doctorants"),
        (utc(2026, 10, 23, 7), utc(2026, 10, 23, 16), "event", "Inventaire annuel"),
        (utc(2026, 10, 27, 8), utc(2026, 10, 27, 10), "event", "Séminaire des doctorants"),
        (utc(2026, 11, 3, 8), utc(2026, 11, 3, 10), "event", "Séminaire des doctorants"),
    ]
    assert sorted(Closure.objects.values_list("source", flat=True)) == [
        f"ics:{uid}:20261020T070000Z",
        f"ics:{uid}:20261027T080000Z",
        f"ics:{uid}:20261103T080000Z",
        "ics:7b1c3e5g7i9k1m3o5q7s9u1w3y@google.com",
    ]


def test_weekly_event_with_an_exdate_and_a_moved_occurrence(client_for, campus):
    response = post(client_for(campus.admin), "recurring_exceptions.ics", equipment=campus.hplc.pk)
    assert response.status_code == 201, response.json()
    uid = "5e0a8c2f-3b71-4d0e-9a55-0c1f7d2e9b43"
    rows = list(Closure.objects.order_by("start").values_list("start", "end", "reason", "source"))
    assert rows == [
        (
            utc(2026, 3, 11, 13),
            utc(2026, 3, 11, 15),
            "Nettoyage des hottes",
            f"ics:{uid}:20260311T130000Z",
        ),
        # 18 March is excluded (EXDATE); 14:00-16:00 stays local after the spring change.
        (
            utc(2026, 3, 25, 13),
            utc(2026, 3, 25, 15),
            "Nettoyage des hottes",
            f"ics:{uid}:20260325T130000Z",
        ),
        # 1 April moved to Thursday 2 April 10:00-12:00 (RECURRENCE-ID), named by its origin.
        (
            utc(2026, 4, 2, 8),
            utc(2026, 4, 2, 10),
            "Nettoyage des hottes (déplacé)",
            f"ics:{uid}:20260401T120000Z",
        ),
        (
            utc(2026, 4, 8, 12),
            utc(2026, 4, 8, 14),
            "Nettoyage des hottes",
            f"ics:{uid}:20260408T120000Z",
        ),
    ]


def test_all_day_events_close_whole_local_days(client_for, campus):
    response = post(client_for(campus.admin), "all_day.ics")
    assert response.status_code == 201, response.json()
    assert periods(equipment=None, site=None) == [
        # No DTEND: one day.
        (utc(2026, 5, 14, 22), utc(2026, 5, 15, 22), "event", "Pont de l'Ascension"),
        # 17 October to 1 November included, across the autumn change: 00:00+02 to 00:00+01.
        (utc(2026, 10, 16, 22), utc(2026, 11, 1, 23), "holiday", "Vacances de la Toussaint"),
    ]


def test_importing_the_same_file_twice_creates_nothing_the_second_time(client_for, campus):
    client = client_for(campus.admin)
    assert post(client, "recurring_exceptions.ics", equipment=campus.hplc.pk).status_code == 201
    again = post(client, "recurring_exceptions.ics", equipment=campus.hplc.pk)
    assert again.status_code == 200
    body = again.json()
    assert body["created"] == []
    assert [s["reason"] for s in body["skipped"]] == ["already_imported"] * 4
    assert body["skipped"][0]["start"] == "2026-03-11T14:00:00+01:00"
    assert Closure.objects.count() == 4
    # Another scope is another closure.
    other = post(client, "recurring_exceptions.ics", equipment=campus.rheometer.pk)
    assert other.status_code == 201
    assert Closure.objects.count() == 8


def test_import_displaces_a_covered_reservation_and_tells_its_owner(
    client_for, campus, django_capture_on_commit_callbacks
):
    covered = reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=[campus.rheometer],
        start=datetime(2026, 3, 30, 9, 0, tzinfo=PARIS),
        end=datetime(2026, 3, 30, 11, 0, tzinfo=PARIS),
        title="Mesures de viscosité",
        now=NOW,
    ).reservations[0]
    untouched = reservation_create(
        user=campus.researcher,
        project=campus.research,
        equipment=[campus.rheometer],
        start=datetime(2026, 3, 31, 9, 0, tzinfo=PARIS),
        end=datetime(2026, 3, 31, 11, 0, tzinfo=PARIS),
        title="Mesures",
        now=NOW,
    ).reservations[0]
    campus.researcher.email = "chercheur@univ-orleans.fr"
    campus.researcher.save()
    with django_capture_on_commit_callbacks(execute=True):
        response = post(
            client_for(campus.admin), "outlook_windows_tz.ics", equipment=campus.rheometer.pk
        )
    assert response.status_code == 201, response.json()
    assert [d["id"] for d in response.json()["displaced"]] == [covered.pk]
    covered.refresh_from_db()
    untouched.refresh_from_db()
    assert (covered.status, untouched.status) == ("displaced", "confirmed")
    assert covered.audit.filter(action="displace").count() == 1
    assert [m.to for m in mail.outbox] == [["chercheur@univ-orleans.fr"]]
    assert "30/03/2026" in mail.outbox[0].body


def test_import_costs_a_fixed_number_of_queries(client_for, campus):
    """One batch whatever the number of events: no query per closure."""
    client = client_for(campus.admin)
    one = _event("DTSTART:20260505T080000Z\r\nDTEND:20260505T090000Z\r\nSUMMARY:Un\r\n")

    def count(name: str, content: bytes | None = None) -> int:
        with CaptureQueriesContext(connection) as ctx:
            response = post(client, name, content, equipment=campus.rheometer.pk)
        assert response.status_code == 201, response.json()
        return len(ctx.captured_queries)

    single = count("one.ics", one)
    Closure.objects.all().delete()
    three = count("outlook_windows_tz.ics")
    assert Closure.objects.count() == 3
    assert single == three


# --- hostile files: a clear 400, nothing written ---------------------------------------------


def refused(response, code: str) -> dict:
    assert response.status_code == 400, response.json()
    body = response.json()
    assert body["code"] == code
    assert body["detail"]
    assert body["created"] == [] and body["skipped"] == []
    assert Closure.objects.count() == 0
    return body


def test_garbage_bytes_are_not_a_calendar(client_for, campus):
    body = refused(post(client_for(campus.admin), "garbage.ics"), "invalid_ics")
    # French by default (LANGUAGE_CODE fr, no Accept-Language).
    assert body["detail"].startswith("Ce n'est pas un fichier iCalendar")
    assert "\ufffd" not in body["detail"]


@pytest.mark.parametrize(
    "content",
    [b"hello world", b"BEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\n", "é".encode("latin-1") * 10],
)
def test_other_non_calendars_are_refused(client_for, campus, content):
    refused(post(client_for(campus.admin), "x.ics", content), "invalid_ics")


def test_a_bad_dtstart_refuses_the_whole_file(client_for, campus):
    body = refused(post(client_for(campus.admin), "bad_dtstart.ics"), "invalid_ics")
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert (error["uid"], error["summary"], error["index"], error["line"]) == (
        "mauvaise-date-2@campus",
        "Date saisie à la main",
        2,
        11,
    )
    assert "DTSTART" in error["message"]


def test_each_bad_entry_is_named(client_for, campus):
    body = refused(post(client_for(campus.admin), "bad_entries.ics"), "invalid_ics")
    assert [(e["uid"], e["index"], e["line"]) for e in body["errors"]] == [
        ("sans-debut@campus", 1, 4),
        ("a-l-envers@campus", 2, 10),
        ("fuseau-inconnu@campus", 3, 17),
        ("regle-illisible@campus", 4, 24),
    ]
    messages = [e["message"] for e in body["errors"]]
    assert "DTSTART" in messages[0]
    assert "ne se termine pas après son début" in messages[1]
    assert "Mars/Olympus_Mons" in messages[2]
    assert "RRULE" in messages[3]


def test_an_endless_rule_every_minute_is_refused_fast(client_for, campus):
    started = time.perf_counter()
    body = refused(post(client_for(campus.admin), "minutely_no_end.ics"), "too_many_occurrences")
    assert time.perf_counter() - started < 1.0
    assert [e["uid"] for e in body["errors"]] == ["chaque-minute@campus"]


def test_a_file_over_two_megabytes_is_refused(client_for, campus):
    event = (
        "BEGIN:VEVENT\r\nUID:{n}@campus\r\nDTSTART:20260415T080000Z\r\n"
        "DTEND:20260415T100000Z\r\nSUMMARY:Remplissage {n}\r\nEND:VEVENT\r\n"
    )
    body = "".join(event.format(n=n) for n in range(30_000))
    content = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{body}END:VCALENDAR\r\n".encode()
    assert len(content) > 3 * 1024 * 1024
    result = refused(post(client_for(campus.admin), "big.ics", content), "file_too_large")
    assert result["errors"] == []


def ics(*events: str) -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n" + "".join(events) + "END:VCALENDAR\r\n"
    ).encode()


def event(uid: str, start: str, end: str, extra: str = "") -> str:
    return (
        f"BEGIN:VEVENT\r\nUID:{uid}\r\nDTSTART:{start}\r\nDTEND:{end}\r\n"
        f"SUMMARY:{uid}\r\n{extra}END:VEVENT\r\n"
    )


def test_five_thousand_occurrences_pass_and_one_more_is_refused():
    at_limit = ics(
        event("h", "20260401T000000Z", "20260401T003000Z", "RRULE:FREQ=HOURLY;COUNT=5000\r\n")
    )
    assert len(parse_ics(at_limit, now=NOW).closures) == 5000
    over = ics(
        event("h", "20260401T000000Z", "20260401T003000Z", "RRULE:FREQ=HOURLY;COUNT=5001\r\n")
    )
    with pytest.raises(IcsImportError) as error:
        parse_ics(over, now=NOW)
    assert error.value.code == "too_many_occurrences"


def test_a_daily_rule_from_long_ago_is_refused_before_expanding():
    old = ics(event("d", "17000101T080000Z", "17000101T090000Z", "RRULE:FREQ=DAILY\r\n"))
    started = time.perf_counter()
    with pytest.raises(IcsImportError) as error:
        parse_ics(old, now=NOW)
    assert time.perf_counter() - started < 0.5
    assert error.value.code == "too_many_occurrences"


def test_events_outside_the_window_and_cancelled_ones_are_skipped():
    parsed = parse_ics(
        ics(
            event("old", "20200101T080000Z", "20200101T090000Z"),
            event("far", "20350101T080000Z", "20350101T090000Z"),
            event("off", "20260401T080000Z", "20260401T090000Z", "STATUS:CANCELLED\r\n"),
            event("ok", "20260402T080000Z", "20260402T090000Z"),
        ),
        now=NOW,
    )
    assert [c.source for c in parsed.closures] == ["ics:ok"]
    assert sorted((s["source"], s["reason"]) for s in parsed.skipped) == [
        ("ics:far", "outside_window"),
        ("ics:off", "cancelled"),
        ("ics:old", "outside_window"),
    ]


def test_floating_times_are_read_in_paris_and_kinds_follow_the_words():
    parsed = parse_ics(
        ics(
            "BEGIN:VEVENT\r\nUID:f\r\nDTSTART:20260701T090000\r\nDTEND:20260701T120000\r\n"
            "SUMMARY:Jour FÉRIÉ local\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:g\r\nDTSTART:20260105T090000\r\nDTEND:20260105T120000\r\n"
            "CATEGORIES:Congés\r\nSUMMARY:Fermeture\r\nEND:VEVENT\r\n",
            "BEGIN:VEVENT\r\nUID:h\r\nDTSTART:20260106T090000\r\nDTEND:20260106T120000\r\n"
            "END:VEVENT\r\n",
        ),
        now=NOW,
    )
    assert [(c.uid, c.start, c.end, c.kind) for c in parsed.closures] == [
        ("g", utc(2026, 1, 5, 8), utc(2026, 1, 5, 11), "holiday"),  # +01:00, CATEGORIES
        ("h", utc(2026, 1, 6, 8), utc(2026, 1, 6, 11), "event"),
        ("f", utc(2026, 7, 1, 7), utc(2026, 7, 1, 10), "holiday"),  # +02:00, SUMMARY
    ]


# --- input and permissions -------------------------------------------------------------------


def test_anonymous_gets_401(client_for, campus):
    assert post(client_for(None), "all_day.ics").status_code == 401
    assert Closure.objects.count() == 0


@pytest.mark.parametrize(
    ("who", "scope", "status"),
    [
        ("researcher", {}, 403),
        ("researcher", {"equipment": "rheometer"}, 403),
        ("eq_manager", {}, 403),
        ("eq_manager", {"site": "site"}, 403),
        ("eq_manager", {"equipment": "rheometer"}, 403),
        ("eq_manager", {"equipment": "hplc"}, 201),
        ("admin", {"site": "other_site"}, 201),
    ],
)
def test_only_managers_of_the_scope_import(client_for, campus, who, scope, status):
    values = {name: getattr(campus, value).pk for name, value in scope.items()}
    response = post(client_for(getattr(campus, who)), "all_day.ics", **values)
    assert response.status_code == status, response.json()
    if status == 403:
        assert response.json()["code"] == "permission_denied"
    assert Closure.objects.count() == (2 if status == 201 else 0)


def test_a_refusal_for_permission_comes_before_reading_the_file(client_for, campus):
    response = post(client_for(campus.researcher), "garbage.ics")
    assert response.status_code == 403


def test_equipment_and_site_together_or_no_file_are_invalid(client_for, campus):
    client = client_for(campus.admin)
    both = post(client, "all_day.ics", equipment=campus.hplc.pk, site=campus.site.pk)
    assert both.status_code == 400 and both.json()["code"] == "invalid"
    missing = client.post(URL, {"site": campus.site.pk}, format="multipart")
    assert missing.status_code == 400
    assert "file" in missing.json()["fields"]
    empty = post(client, "empty.ics", b"")
    assert empty.status_code == 400 and "file" in empty.json()["fields"]
    unknown = post(client, "all_day.ics", equipment=999_999)
    assert unknown.status_code == 400 and "equipment" in unknown.json()["fields"]
    assert Closure.objects.count() == 0


def test_schema_documents_the_multipart_import(client, campus):
    client.force_login(campus.admin)
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/closures/import/"]["post"]
    content = operation["requestBody"]["content"]
    assert list(content) == ["multipart/form-data"]
    ref = content["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[1]
    properties = schema["components"]["schemas"][ref]["properties"]
    assert properties["file"]["format"] == "binary"
    assert {"201", "200", "400"} <= set(operation["responses"])


# --- the command -----------------------------------------------------------------------------


def test_command_imports_a_file_for_an_equipment(campus, monkeypatch):
    monkeypatch.setattr("calendars.management.commands.import_closures.timezone.now", lambda: NOW)
    out = StringIO()
    call_command(
        "import_closures",
        str(FILES / "outlook_windows_tz.ics"),
        "--equipment",
        "TO-RHEO-01",
        stdout=out,
    )
    assert (
        "3 fermetures créées pour TO-RHEO-01, 0 ignorée, 0 réservation évincée." in out.getvalue()
    )
    assert Closure.objects.filter(equipment=campus.rheometer).count() == 3
    assert Closure.objects.filter(created_by__isnull=True).count() == 3
    again = StringIO()
    with translation.override("en"):
        call_command(
            "import_closures",
            str(FILES / "outlook_windows_tz.ics"),
            "--equipment",
            "TO-RHEO-01",
            "--user",
            campus.admin.username,
            stdout=again,
        )
    assert "0 closures created" in again.getvalue()
    assert again.getvalue().count("skipped (already_imported)") == 3


def test_command_explains_a_bad_file_and_writes_nothing(campus):
    with translation.override("en"), pytest.raises(CommandError) as error:
        call_command("import_closures", str(FILES / "bad_entries.ics"))
    text = str(error.value)
    assert text.startswith("invalid_ics: Events that cannot be read: 4.")
    assert "event 3, line 17 [fuseau-inconnu@campus] Fuseau inconnu: Unknown time zone" in text
    assert Closure.objects.count() == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--equipment", "NOPE"], "No equipment with code NOPE."),
        (["--site", "999999"], "No site with id 999999."),
        (["--user", "nobody"], "No user named nobody."),
        (["--user", "chercheur"], "permission_denied: You may not close this equipment or site."),
    ],
)
def test_command_refuses_unknown_scope_user_or_permission(campus, args, message):
    with translation.override("en"), pytest.raises(CommandError) as error:
        call_command("import_closures", str(FILES / "all_day.ics"), *args)
    assert str(error.value) == message
    assert Closure.objects.count() == 0


def test_command_reports_a_missing_file(campus, tmp_path):
    with translation.override("en"), pytest.raises(CommandError) as error:
        call_command("import_closures", str(tmp_path / "absent.ics"))
    assert "Cannot read" in str(error.value)


def test_an_event_of_the_past_year_is_still_imported():
    """A year back is imported (the current school year); older is skipped (tested above)."""
    parsed = parse_ics(ics(event("recent", "20250401T080000Z", "20250401T090000Z")), now=NOW)
    assert [c.source for c in parsed.closures] == ["ics:recent"]
    assert parsed.closures[0].end - parsed.closures[0].start == timedelta(hours=1)


def test_control_characters_in_a_summary_are_dropped(client_for, campus):
    content = ics(
        "BEGIN:VEVENT\r\nUID:nul\r\nDTSTART:20260401T080000Z\r\nDTEND:20260401T090000Z\r\n"
        "SUMMARY:Panne\x00 du\tgroupe\r\nEND:VEVENT\r\n"
    )
    response = post(client_for(campus.admin), "nul.ics", content)
    assert response.status_code == 201, response.json()
    assert Closure.objects.get().reason == "Panne du groupe"


def _event(body: str, uid: str = "x@campus") -> bytes:
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260101T000000Z\r\n{body}END:VEVENT\r\nEND:VCALENDAR\r\n"
    ).encode()


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",  # never occurs: dateutil would step to 9999
        "FREQ=MONTHLY;BYMONTH=4,6;BYMONTHDAY=31;COUNT=5",
        "FREQ=DAILY;BYHOUR=25",
        "FREQ=DAILY;COUNT=-1",
        "FREQ=WEEKLY;BYMONTH=13",
        "FREQ=DAILY;COUNT=3;UNTIL=20271231T000000Z",
    ],
)
def test_unusable_rules_are_refused_at_once(client_for, campus, rule):
    content = _event(
        f"DTSTART:20270101T080000Z\r\nDTEND:20270101T090000Z\r\nRRULE:{rule}\r\nSUMMARY:x\r\n"
    )
    began = time.perf_counter()
    body = refused(post(client_for(campus.admin), "rule.ics", content), "invalid_ics")
    assert time.perf_counter() - began < 2
    assert [e["uid"] for e in body["errors"]] == ["x@campus"]
    assert "RRULE" in body["errors"][0]["message"]


def test_an_occurrence_in_the_spring_gap_is_skipped_not_fatal(client_for, campus):
    """02:00-03:00 on the last Sunday of March does not exist in Paris: that one is skipped."""
    content = _event(
        "DTSTART;TZID=Europe/Paris:20270327T020000\r\n"
        "DTEND;TZID=Europe/Paris:20270327T030000\r\n"
        "RRULE:FREQ=DAILY;COUNT=3\r\nSUMMARY:Entretien\r\n"
    )
    response = post(client_for(campus.admin), "gap.ics", content)
    assert response.status_code == 201, response.json()
    body = response.json()
    assert len(body["created"]) == 2
    assert [s["reason"] for s in body["skipped"]] == ["empty_period"]


def test_windows_1252_file_keeps_its_accents(client_for, campus):
    content = (
        _event(
            "DTSTART;VALUE=DATE:20270715\r\nDTEND;VALUE=DATE:20270716\r\nSUMMARY:Fermé l'été\r\n"
        )
        .decode()
        .encode("cp1252")
    )
    response = post(client_for(campus.admin), "latin.ics", content)
    assert response.status_code == 201, response.json()
    assert [c.reason for c in Closure.objects.all()] == ["Fermé l'été"]


def test_a_file_without_events_is_refused(client_for, campus):
    content = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nBEGIN:VTODO\r\n"
        b"UID:t\r\nDTSTAMP:20260101T000000Z\r\nSUMMARY:todo\r\nEND:VTODO\r\nEND:VCALENDAR\r\n"
    )
    refused(post(client_for(campus.admin), "todo.ics", content), "invalid_ics")
