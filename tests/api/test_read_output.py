"""The read endpoints' exact bytes over a week in which summer time ends (Sunday 25
October 2026: 03:00 CEST becomes 02:00 CET), so that a cheaper formatter, a cached
policy or plain rows instead of the serializer cannot drift; and the list's count,
queried only when a full page leaves the total unknown."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from equipment.models import Equipment
from reservations.models import Closure, Reservation
from tests.conftest import reservation_row

pytestmark = pytest.mark.django_db

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 10, 20, 7, 0, tzinfo=PARIS)
# Thursday 22 to Wednesday 28 October: two days in summer time, two in winter time.
WEEK = {"start": "2026-10-22T00:00:00+02:00", "end": "2026-10-28T00:00:00+01:00"}


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch):
    monkeypatch.setattr("reservations.api.booking.timezone.now", lambda: NOW)


def paris(day: int, hour: int, minute: int = 0, *, fold: int = 0) -> datetime:
    return datetime(2026, 10, day, hour, minute, tzinfo=PARIS, fold=fold)


def compact(value) -> bytes:
    """JSON as DRF renders it: compact, non-ASCII as is, keys in the order given."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@pytest.fixture
def week(campus):
    """The rheometer opens on Saturday mornings too (its own policy; the HPLC keeps the
    platform's) and keeps 15 minutes after each booking; two bookings in the hour that
    Sunday repeats, written later-first; a closure; bookkeeping with microseconds."""
    Equipment.objects.filter(pk=campus.rheometer.pk).update(
        policy_overrides={"opening_hours": {"sat": [["09:00", "12:00"]]}, "buffer_minutes": 15}
    )
    stamped = paris(20, 7, 0).replace(microsecond=123456)
    reservation_row(
        campus, paris(23, 10), 90, blocked_until=paris(23, 11, 45), at=stamped, title="Été"
    )
    # Wall-clock arithmetic would make 02:30 CEST + 30 min end at 03:00 CET: ends in UTC.
    second = paris(25, 2, 15, fold=1)  # 01:15 UTC
    reservation_row(
        campus, second, 30, end=second.astimezone(UTC) + timedelta(minutes=30), at=stamped
    )
    first = paris(25, 2, 30)  # 00:30 UTC
    reservation_row(
        campus, first, 30, end=first.astimezone(UTC) + timedelta(minutes=30), at=stamped
    )
    reservation_row(campus, paris(26, 9), 60, blocked_until=paris(26, 10, 15), at=stamped)
    reservation_row(
        campus, paris(22, 18), 120, equipment=campus.hplc, project=campus.research, at=stamped
    )
    reservation_row(campus, paris(27, 9), 60, status="cancelled", at=stamped)
    Closure.objects.create(
        equipment=campus.rheometer, start=paris(27, 14), end=paris(27, 16), reason="panne"
    )
    return campus


def test_availability_of_a_week_ending_summer_time_is_exact(client_for, week):
    client = client_for(week.outsider)
    ids = f"{week.rheometer.pk},{week.hplc.pk}"
    response = client.get("/api/v1/availability/", {"equipment": ids, **WEEK})
    assert response.status_code == 200
    assert response.content == compact({"results": [RHEOMETER_WEEK(week), HPLC_WEEK(week)]})
    single = client.get(f"/api/v1/equipment/{week.hplc.pk}/availability/", WEEK)
    assert single.content == compact(HPLC_WEEK(week))


def test_reservations_of_a_week_ending_summer_time_are_exact(client_for, week):
    client = client_for(week.admin)
    response = client.get("/api/v1/reservations/", {"equipment": week.rheometer.pk, **WEEK})
    assert response.status_code == 200
    rows = Reservation.objects.filter(equipment=week.rheometer).order_by("start", "id")
    assert response.content == compact(
        {
            "count": 5,
            "next": None,
            "previous": None,
            "results": [RESERVATION(r) for r in rows],
        }
    )
    assert [r["start"] for r in response.json()["results"]] == [
        "2026-10-23T10:00:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:15:00+01:00",
        "2026-10-26T09:00:00+01:00",
        "2026-10-27T09:00:00+01:00",
    ]


def RESERVATION(r: Reservation) -> dict:
    return {
        "id": r.pk,
        "equipment": r.equipment_id,
        "project": r.project_id,
        "booked_by": r.booked_by_id,
        "start": r.start.astimezone(PARIS).isoformat(),
        "end": r.end.astimezone(PARIS).isoformat(),
        "title": r.title,
        "expected_participants": 1,
        "status": r.status,
        "priority": "research",
        "series": None,
        "session": None,
        "revision": 0,
        "created_at": "2026-10-20T07:00:00.123456+02:00",
        "updated_at": "2026-10-20T07:00:00.123456+02:00",
    }


def busy(start: str, end: str, kind: str) -> dict:
    item = {"start": f"2026-10-{start}", "end": f"2026-10-{end}", "kind": kind}
    return {**item, "priority": "research"} if kind == "reservation" else item


def free(start: str, end: str) -> dict:
    return {"start": f"2026-10-{start}", "end": f"2026-10-{end}"}


def RHEOMETER_WEEK(campus) -> dict:
    return {
        "equipment": campus.rheometer.pk,
        **WEEK,
        "busy": [
            busy("23T10:00:00+02:00", "23T11:30:00+02:00", "reservation"),
            busy("23T11:30:00+02:00", "23T11:45:00+02:00", "buffer"),
            # In the order of the instants: 02:30 CEST comes before 02:15 CET (a
            # comparison of local datetimes of one zone ignores `fold` and says otherwise).
            busy("25T02:30:00+02:00", "25T02:00:00+01:00", "reservation"),
            busy("25T02:15:00+01:00", "25T02:45:00+01:00", "reservation"),
            busy("26T09:00:00+01:00", "26T10:00:00+01:00", "reservation"),
            busy("26T10:00:00+01:00", "26T10:15:00+01:00", "buffer"),
            busy("27T14:00:00+01:00", "27T16:00:00+01:00", "closure"),
        ],
        "free": [
            free("22T08:00:00+02:00", "22T19:00:00+02:00"),
            free("23T08:00:00+02:00", "23T10:00:00+02:00"),
            free("23T11:45:00+02:00", "23T19:00:00+02:00"),
            free("24T09:00:00+02:00", "24T12:00:00+02:00"),  # its own Saturday hours
            free("26T08:00:00+01:00", "26T09:00:00+01:00"),
            free("26T10:15:00+01:00", "26T19:00:00+01:00"),
            free("27T08:00:00+01:00", "27T14:00:00+01:00"),
            free("27T16:00:00+01:00", "27T19:00:00+01:00"),
        ],
    }


def HPLC_WEEK(campus) -> dict:
    return {
        "equipment": campus.hplc.pk,
        **WEEK,
        "busy": [busy("22T18:00:00+02:00", "22T20:00:00+02:00", "reservation")],
        "free": [
            free("22T08:00:00+02:00", "22T18:00:00+02:00"),
            free("23T08:00:00+02:00", "23T19:00:00+02:00"),
            free("26T08:00:00+01:00", "26T19:00:00+01:00"),
            free("27T08:00:00+01:00", "27T19:00:00+01:00"),
        ],
    }


# --- the list's count ---------------------------------------------------------------------


def listed(client, django_assert_num_queries, queries: int, **params):
    with django_assert_num_queries(queries):
        return client.get("/api/v1/reservations/", {"equipment": params.pop("pk"), **params})


def test_the_count_is_queried_only_when_a_full_page_leaves_it_unknown(
    client_for, week, django_assert_num_queries
):
    """Token, rows with the no-show probe; the count besides only when the page is full."""
    client = client_for(week.admin)
    pk = week.rheometer.pk
    base = {"pk": pk, **WEEK}
    whole = listed(client, django_assert_num_queries, 2, **base).json()
    assert whole["count"] == 5 and len(whole["results"]) == 5
    first = listed(client, django_assert_num_queries, 3, page_size=2, **base).json()
    assert first["count"] == 5 and first["previous"] is None
    assert first["next"].endswith("page=2&page_size=2&start=2026-10-22T00%3A00%3A00%2B02%3A00")
    assert first["results"] == whole["results"][:2]
    last = listed(client, django_assert_num_queries, 2, page=3, page_size=2, **base).json()
    assert last["count"] == 5 and last["next"] is None and "page=2" in last["previous"]
    assert last["results"] == whole["results"][4:]
    # Exactly one page: the row read beyond it is not there, so nothing to count.
    exact = listed(client, django_assert_num_queries, 2, page_size=5, **base).json()
    assert exact == whole
    # "last" needs the number of pages before reading one.
    named = listed(client, django_assert_num_queries, 3, page="last", page_size=2, **base)
    assert named.json() == last
    empty = listed(client, django_assert_num_queries, 2, pk=week.hplc.pk, start=WEEK["end"])
    assert empty.json() == {"count": 0, "next": None, "previous": None, "results": []}


@pytest.mark.parametrize("page", ["4", "0", "-1", "x", "1.5"])
def test_pages_beyond_or_beside_the_list_answer_404(client_for, week, page):
    client = client_for(week.admin)
    response = client.get(
        "/api/v1/reservations/", {"equipment": week.rheometer.pk, "page": page, "page_size": 2}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_another_partner_s_reservations_are_not_listed(client_for, week):
    response = client_for(week.outsider).get(
        "/api/v1/reservations/", {"equipment": week.rheometer.pk, **WEEK}
    )
    assert response.json() == {"count": 0, "next": None, "previous": None, "results": []}


def test_the_list_s_columns_are_the_serializer_s_fields():
    """The list answers from plain rows (reservations.api.reads): a field added to the
    serializer and not to the columns would silently drop out of the list."""
    from reservations.api.booking import ReservationSerializer
    from reservations.api.reads import RESERVATION_COLUMNS

    assert [name for name, _ in RESERVATION_COLUMNS] == list(ReservationSerializer.Meta.fields)


def test_a_booking_answers_the_serializers_bytes(client_for, campus):
    """The booking's answer is written from the new rows as the list writes them: the
    same bytes as ReservationSerializer over the stored reservation, a session's and a
    series' too, in the week summer time ends."""
    from rest_framework.renderers import JSONRenderer

    from core.roles import SYSTEM
    from equipment.services import qualification_grant
    from reservations.api.booking import ReservationSerializer

    qualification_grant(
        actor=SYSTEM, user=campus.researcher, equipment=campus.hplc, valid_until=date(2027, 6, 1)
    )
    client = client_for(campus.researcher)

    def post(**body) -> dict:
        response = client.post(
            "/api/v1/reservations/",
            {"project": campus.research.pk, "title": "Sur l'heure d'été", **body},
            content_type="application/json",
        )
        assert response.status_code == 201, response.content
        return json.loads(response.content)

    def stored(ids: list[int]) -> bytes:
        rows = Reservation.objects.filter(pk__in=ids).order_by("start", "equipment_id")
        return JSONRenderer().render(ReservationSerializer(rows, many=True).data)

    single = post(
        equipment=campus.rheometer.pk,
        start="2026-10-23T10:00:00+02:00",
        end="2026-10-23T11:30:00+02:00",
    )
    assert (
        compact({k: v for k, v in single.items() if k != "displaced"})
        == stored([single["id"]])[1:-1]
    )
    grouped = post(
        equipment_ids=[campus.rheometer.pk, campus.hplc.pk],
        start="2026-10-26T09:00:00+01:00",
        end="2026-10-26T10:00:00+01:00",
        recurrence={"rrule": "FREQ=DAILY;COUNT=2"},
    )
    ids = [r["id"] for r in grouped["reservations"]]
    assert len(ids) == 4
    ordered = sorted(grouped["reservations"], key=lambda r: (r["start"], r["equipment"]))
    assert compact(ordered) == stored(ids)


def test_the_availability_s_own_json_is_drf_s_rendering(client_for, week):
    """The JSON written by reads.availability_json is DRF's rendering of `availabilities`,
    byte for byte: buffers, a site's, a campus-wide and an equipment's closure, the hour
    repeated when summer time ends, a priority written in full."""
    from rest_framework.renderers import JSONRenderer

    from reservations.api.reads import LocalStamps, availability_json
    from reservations.selectors import availabilities, availability_times

    Closure.objects.create(site=week.site, start=paris(24, 8), end=paris(24, 9), reason="site")
    Closure.objects.create(start=paris(25, 2, 40), end=paris(25, 2, 20, fold=1), reason="all")
    items = list(Equipment.objects.filter(pk__in=[week.rheometer.pk, week.hplc.pk]))
    start, end = paris(22, 0), paris(28, 0)
    ids = [week.hplc.pk, week.rheometer.pk]
    dicts = availabilities(items, start, end, stamp=LocalStamps())
    expected = JSONRenderer().render({"results": [dicts[pk] for pk in ids]})
    written = availability_json(ids, availability_times(items, start, end), start, end)
    assert written.encode() == expected
    assert '"kind":"buffer"' in written and written.count('"kind":"closure"') >= 4


def test_an_indented_availability_is_drf_s_too(client_for, week):
    client = client_for(week.outsider)
    ids = f"{week.rheometer.pk},{week.hplc.pk}"
    query = {"equipment": ids, **WEEK}
    response = client.get("/api/v1/availability/", query, HTTP_ACCEPT="application/json; indent=2")
    assert response.status_code == 200
    expected = {"results": [RHEOMETER_WEEK(week), HPLC_WEEK(week)]}
    assert response.content == json.dumps(expected, indent=2, ensure_ascii=False).encode()
    page = client.get("/api/v1/availability/", query, HTTP_ACCEPT="text/html")
    assert page.status_code == 200
    assert page["Content-Type"].startswith("text/html")
    assert "&quot;kind&quot;: &quot;closure&quot;" in page.content.decode()
