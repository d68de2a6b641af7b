"""Planning page and the week grid builder: busy time by priority, closures, SPEC §6
visibility, daylight-saving days, a fixed number of queries."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from core.roles import SYSTEM
from equipment.models import Equipment
from equipment.services import equipment_create
from reservations.planning import Block, _block_words, build_grid
from reservations.services import closure_create

from .conftest import NOW, PARIS, WED, at

pytestmark = pytest.mark.django_db

BLOCK = re.compile(r'<span class="block ([^"]*)"[^>]*data-kind="(\w+)"(?: data-priority="(\w+)")?')


def blocks(page: str) -> list[tuple[str, str, str]]:
    """(css classes, kind, priority) of every busy block on a page."""
    return [(m.group(1), m.group(2), m.group(3) or "") for m in BLOCK.finditer(page)]


@pytest.fixture
def week(campus, qualified, book):
    """A research booking, a pending industrial one, a teaching one, and a closure."""
    for user, first, last in (
        (campus.researcher, "Claire", "Dubois"),
        (campus.industrial, "Marc", "Lambert"),
    ):
        user.first_name, user.last_name = first, last
        user.save()
    book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        WED,
        "10:00",
        "12:00",
        title="Rhéologie émulsion E12",
    )
    book(
        campus.industrial,
        campus.confidential,
        campus.hplc,
        WED,
        "09:00",
        "11:00",
        title="Validation lot Servier 42",
    )
    book(
        campus.teacher,
        campus.teaching,
        campus.hplc,
        WED,
        "14:00",
        "17:00",
        title="TP chromatographie BTS",
    )
    closure_create(
        user=campus.admin,
        equipment=campus.rheometer,
        start=at(WED + timedelta(days=1), "00:00"),
        end=at(WED + timedelta(days=2), "00:00"),
        reason="Étalonnage annuel",
        now=NOW,
    )
    return campus


def planning(client, user, query: str = "", **headers) -> str:
    client.force_login(user)
    response = client.get(f"/planning/{query}", **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_anonymous_users_are_sent_to_log_in(client):
    for url in (
        "/planning/",
        "/book/",
        "/book/done/",
        "/my/",
        "/manage/approvals/",
        "/manage/closures/",
    ):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/?next="), url


def test_week_shows_busy_time_by_priority_and_closures(client, week):
    page = planning(client, week.outsider, f"?date={WED}")
    found = blocks(page)
    kinds = sorted((kind, priority) for _css, kind, priority in found)
    assert kinds == [
        ("closure", ""),
        ("reservation", "industrial"),
        ("reservation", "pedagogical"),
        ("reservation", "research"),
    ]
    pending = [css for css, kind, priority in found if priority == "industrial"]
    assert pending == ["block-reservation prio-industrial pending"]
    # Monday to Sunday of the week of the date, in French by default.
    assert "lun 30/11" in page and "dim 6/12" in page
    assert "30 novembre" in page and "6 décembre 2026" in page


def test_others_bookings_are_busy_time_only(client, week):
    page = planning(client, week.outsider, f"?date={WED}")
    for secret in (
        "Rhéologie émulsion E12",
        "Validation lot Servier 42",
        "TP chromatographie",
        "Thèse émulsions",
        "Servier – validation HPLC",
        "Dubois",
        "Lambert",
        "Lycée Jean Zay",
        "Servier",
    ):
        assert secret not in page, secret
    assert page.count('data-reservation="') == 0


def test_members_see_their_own_projects_in_full(client, week):
    page = planning(client, week.researcher, f"?date={WED}")
    assert "Rhéologie émulsion E12" in page
    # ...and still only busy time of the confidential industrial project.
    assert "Validation lot Servier 42" not in page
    assert page.count('data-reservation="') == 1


def test_equipment_managers_see_their_equipment_in_full(client, week):
    page = planning(client, week.eq_manager, f"?date={WED}")
    assert "Validation lot Servier 42" in page and "TP chromatographie BTS" in page
    assert "Rhéologie émulsion E12" not in page  # the rheometer is not theirs


def test_site_and_category_filters(client, week):
    only_site = planning(client, week.outsider, f"?date={WED}&site={week.site.pk}")
    assert "WL-HPLC-01" in only_site and "TO-RHEO-01" not in only_site
    only_category = planning(client, week.outsider, f"?date={WED}&category={week.rheo.pk}")
    assert "TO-RHEO-01" in only_category and "WL-HPLC-01" not in only_category


def test_day_view_in_english(client, week):
    page = planning(client, week.outsider, f"?view=day&date={WED}", HTTP_ACCEPT_LANGUAGE="en")
    assert "Wednesday 2 December 2026" in page
    assert "Next day" in page and "Planning" in page
    assert sorted(kind for _c, kind, _p in blocks(page)) == ["reservation"] * 3
    assert "?view=day&amp;date=2026-12-03" in page and "?view=day&amp;date=2026-12-01" in page


def test_week_links_move_by_seven_days(client, week):
    page = planning(client, week.outsider, f"?date={WED}&site={week.site.pk}")
    assert f"?view=week&amp;date=2026-12-07&amp;site={week.site.pk}" in page
    assert f"?view=week&amp;date=2026-11-23&amp;site={week.site.pk}" in page


def test_bad_filters_are_explained_not_crashed(client, campus):
    page = planning(client, campus.outsider, "?date=2026-02-30&site=999999&view=year")
    assert page.count('class="error"') == 3
    # The page still shows this week.
    assert "23/11" in page


def test_dates_beyond_the_calendar_are_refused_not_overflowed(client, campus):
    for day in ("9999-12-31", "0001-01-01"):
        page = planning(client, campus.outsider, f"?date={day}", HTTP_ACCEPT_LANGUAGE="en")
        assert "Choose a date between 1900 and 2199." in page
        assert "Mon 23/11" in page  # this week instead


def test_retired_equipment_is_not_planned(client, campus):
    Equipment.objects.filter(pk=campus.rheometer.pk).update(status=Equipment.Status.RETIRED)
    page = planning(client, campus.outsider)
    assert "WL-HPLC-01" in page and "TO-RHEO-01" not in page


def test_planning_costs_the_same_queries_for_many_equipment(
    client, campus, qualified, book, django_assert_num_queries
):
    book(campus.researcher, campus.research, campus.rheometer, WED, "10:00", "12:00")
    client.force_login(campus.researcher)
    # 8 for the page, the links of referents (reports) and of teachers (planner)
    with django_assert_num_queries(10):
        client.get(f"/planning/?date={WED}")
    for n in range(12):
        extra = equipment_create(
            actor=SYSTEM,
            code=f"TO-X-{n:02d}",
            name=f"Extra {n}",
            category=campus.rheo,
            site=campus.other_site,
        )
        for hour in (8, 10, 12, 14):
            book(
                campus.researcher,
                campus.research,
                extra,
                WED,
                f"{hour:02d}:00",
                f"{hour + 1:02d}:30",
            )
    with django_assert_num_queries(10):  # as above
        page = client.get(f"/planning/?date={WED}").content.decode()
    assert len(blocks(page)) == 1 + 12 * 4


# --- the grid builder ----------------------------------------------------------------------


def test_blocks_sit_on_the_wall_clock_after_the_spring_change(campus, book):
    # Monday 29 March 2027, the day after the last Sunday of March: 09:00 is still 09:00.
    book(campus.teacher, campus.teaching, campus.rheometer, date(2027, 3, 29), "09:00", "11:00")
    grid = build_grid(
        equipment=[campus.rheometer],
        first_day=date(2027, 3, 22),
        days=14,
        user=campus.teacher,
        now=NOW,
    )
    (row,) = grid.rows
    placed = [(c.day, b.start_minute, b.end_minute) for c in row.cells for b in c.blocks]
    assert placed == [(date(2027, 3, 29), 9 * 60, 11 * 60)]
    assert (grid.first_minute, grid.last_minute) == (8 * 60, 19 * 60)
    block = row.cells[7].blocks[0]
    assert block.across == "left:9.091%;width:18.182%"
    assert block.full and block.title == "Mesures"


def test_a_closure_over_the_autumn_change_is_cut_into_local_days(campus):
    # Saturday 24 to Monday 26 October 2026 00:00; Sunday the 25th lasts 25 hours.
    closure_create(
        user=campus.admin,
        equipment=campus.rheometer,
        start=datetime(2026, 10, 24, 0, 0, tzinfo=PARIS),
        end=datetime(2026, 10, 26, 0, 0, tzinfo=PARIS),
        reason="Déménagement",
        now=datetime(2026, 10, 1, tzinfo=PARIS),
    )
    grid = build_grid(
        equipment=[campus.rheometer],
        first_day=date(2026, 10, 19),
        days=14,
        user=campus.outsider,
        now=NOW,
    )
    pieces = [
        (c.day, b.kind, b.start_minute, b.end_minute) for c in grid.rows[0].cells for b in c.blocks
    ]
    assert pieces == [
        (date(2026, 10, 24), "closure", 0, 1440),
        (date(2026, 10, 25), "closure", 0, 1440),
    ]
    # Drawn over the opening hours: the whole visible day.
    assert grid.rows[0].cells[5].blocks[0].across == "left:0.000%;width:100.000%"


def test_a_booking_outside_the_opening_hours_widens_the_grid(campus, book):
    # A manager's explicit override books before opening time.
    campus.rheometer.managers.add(campus.eq_manager)
    campus.open_research.members.add(campus.eq_manager)
    book(
        campus.eq_manager,
        campus.open_research,
        campus.rheometer,
        WED,
        "06:30",
        "08:30",
        override=True,
    )
    grid = build_grid(
        equipment=[campus.rheometer], first_day=WED, days=1, user=campus.outsider, now=NOW
    )
    assert (grid.first_minute, grid.last_minute) == (6 * 60, 19 * 60)
    assert [t.label for t in grid.ticks][:3] == ["06", "07", "08"]


def test_public_holidays_are_named_in_the_day_headers(campus):
    grid = build_grid(
        equipment=[campus.rheometer],
        first_day=date(2026, 12, 21),
        days=7,
        user=campus.outsider,
        now=NOW,
    )
    assert grid.rows[0].cells[4].holiday == "Noël"
    assert [h["holiday"] for h in grid.headers()].count("Noël") == 1


def test_pages_free_a_no_show_slot_before_the_command_runs(client, campus, book, monkeypatch):
    """Past its check-in grace the booking is a no-show: gone from the planning and the
    equipment week, whether or not release_no_shows has run (SPEC §5)."""
    from equipment.services import equipment_update
    from reservations.models import Reservation

    equipment_update(actor=SYSTEM, equipment=campus.rheometer, requires_check_in=True)
    today = NOW.date()
    booking = book(
        campus.researcher,
        campus.research,
        campus.rheometer,
        today,
        "08:15",
        "10:00",
        now=NOW - timedelta(days=1),
    ).reservations[0]
    client.force_login(campus.admin)
    marker = f'data-reservation="{booking.pk}"'
    planning = f"/planning/?date={today}&site={campus.other_site.pk}"
    assert marker in client.get(planning).content.decode()
    monkeypatch.setattr("django.utils.timezone.now", lambda: NOW + timedelta(minutes=46))
    assert marker not in client.get(planning).content.decode()
    Reservation.objects.filter(pk=booking.pk).update(status="confirmed")
    assert marker not in client.get(f"/equipment/{campus.rheometer.pk}/").content.decode()
    booking.refresh_from_db()
    assert booking.status == "no_show"


# --- a busy site: fixed queries, blocks written without a template per block -----------------


def test_planning_of_a_site_costs_the_same_queries_for_5_and_50_equipment(
    client, campus, book, django_assert_max_num_queries, django_assert_num_queries
):
    """Issue 10: the week of a whole site, for a platform manager (every block in full)
    and an outsider (busy time only); bench/bench_planning.py times it."""

    def add(first: int, last: int) -> None:
        for n in range(first, last):
            item = equipment_create(
                actor=SYSTEM,
                code=f"WL-B-{n:02d}",
                name=f"Banc {n}",
                category=campus.chroma,
                site=campus.site,
                requires_check_in=n % 2 == 0,
            )
            for day in (WED, WED + timedelta(days=1)):
                for hour in (9, 13):
                    book(
                        campus.teacher,
                        campus.teaching,
                        item,
                        day,
                        f"{hour:02d}:00",
                        f"{hour + 2:02d}:00",
                    )
        closure_create(
            user=campus.admin,
            site=campus.site,
            start=at(WED + timedelta(days=3), "09:00"),
            end=at(WED + timedelta(days=3), "12:00"),
            reason=f"Coupure {last}",
            now=NOW,
        )

    add(0, 5)
    url = f"/planning/?site={campus.site.pk}&view=week&date={WED}"
    counts = {}
    for user in (campus.admin, campus.outsider):
        client.force_login(user)
        client.get(url)
        with django_assert_max_num_queries(12) as captured:
            page = client.get(url).content.decode()
        counts[user.pk] = len(captured.captured_queries)
        assert len(blocks(page)) == 5 * 4 + 6  # and the site's closure on the HPLC too
    add(5, 50)
    for user in (campus.admin, campus.outsider):
        client.force_login(user)
        with django_assert_num_queries(counts[user.pk]):
            page = client.get(url).content.decode()
        assert len(blocks(page)) == 50 * 4 + 51 * 2
        assert page.count('data-kind="reservation"') == 50 * 4


@pytest.mark.parametrize("language", ["fr", "en"])
def test_planning_blocks_are_written_as_the_block_template_draws_them(campus, language):
    """Block.across_html replaces an include of reservations/_block.html per block on the
    planning (for speed): both must give the same markup, escaping included."""
    tricky = '<b>Test & "quotes" l\'été</b>'
    cases = [
        Block(kind="reservation", start=NOW, end=NOW, priority="research", times="10:00–12:00"),
        Block(
            kind="reservation",
            start=NOW,
            end=NOW,
            priority="industrial",
            status="pending",
            times="09:00–11:00",
            full=True,
            reservation_id=1234,
            title=tricky,
            project="Projet <x>",
            partner="A & B",
            booked_by="O'Brien",
            offset=12.5,
            size=33.333,
        ),
        Block(kind="buffer", start=NOW, end=NOW, priority="pedagogical", times="12:00–12:30"),
        Block(kind="closure", start=NOW, end=NOW, reason=tricky, times="02/12/2026 00:00–…"),
    ]
    with translation.override(language):
        words = _block_words(language)
        for block in cases:
            expected = render_to_string(
                "reservations/_block.html", {"block": block, "vertical": False}
            )
            assert block.across_html(words) == expected
