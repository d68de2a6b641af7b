"""The planning's shortcuts (issue 12) give what the general code gives: wall-clock minutes
without a time zone conversion, blocks and cells built without __init__, rows written in
Python rather than by the template's loop, the calendar's JSON, one array of ids on
PostgreSQL, the menus read in one query, policies merged once per distinct overrides."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from django import forms
from django.forms.models import ModelChoiceIterator
from django.template import Context, Template
from django.utils import translation
from django.utils.html import json_script
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy

from core.roles import SYSTEM
from core.sql import Among
from equipment.forms import ListedChoiceIterator, SiteCategoryFilterForm
from equipment.models import Equipment, Site
from equipment.policy import effective_policy, overrides_key
from equipment.services import equipment_create
from reservations import planning as grid_module
from reservations.models import Closure, Reservation
from reservations.planning import (
    Block,
    WallClock,
    _day_bounds,
    _pieces,
    _reservation_block,
    build_grid,
    build_planning,
    clock,
)
from reservations.templatetags.calendar_json import calendar_json
from tests.conftest import reservation_row

from .conftest import NOW, PARIS, WED

# --- the wall clock ------------------------------------------------------------------------


def instants(first: date, days: int) -> list[datetime]:
    """Instants in and around `days` local days from `first`: bounds, seconds, odd minutes."""
    start = datetime.combine(first, datetime.min.time(), PARIS).astimezone(UTC)
    found = []
    for minutes in range(-24 * 60 - 7, (days + 1) * 24 * 60 + 9, 97):
        moment = start + timedelta(minutes=minutes)
        found += [moment, moment + timedelta(seconds=59, microseconds=1)]
    for n in range(days + 2):  # every local midnight, and a microsecond either side
        midnight = datetime.combine(first + timedelta(days=n), datetime.min.time(), PARIS)
        midnight = midnight.astimezone(UTC)
        found += [midnight, midnight - timedelta(microseconds=1), midnight + timedelta(0, 1)]
    return found


@pytest.mark.parametrize(
    ("first", "days"),
    [
        (date(2026, 12, 14), 7),  # an ordinary week: the shortcut
        (date(2026, 12, 16), 1),  # one day
        (date(2027, 3, 22), 14),  # 28 March 2027 lasts 23 hours: the general path
        (date(2026, 10, 25), 1),  # 25 October 2026 lasts 25 hours
    ],
)
def test_the_wall_clock_agrees_with_the_time_zone_conversion(first, days):
    bounds = _day_bounds([first + timedelta(days=n) for n in range(days)], PARIS)
    wall = WallClock(bounds, PARIS)
    assert wall.uniform == (first.month == 12)
    moments = instants(first, days)
    for moment in moments:
        assert wall.text(moment) == clock(moment, PARIS), moment
    for start in moments[::3]:
        for end in moments[::5]:
            if end > start:
                assert wall.pieces(start, end) == _pieces(start, end, bounds, PARIS)


@pytest.mark.django_db
def test_the_grid_is_the_same_without_the_wall_clock_shortcut(campus, monkeypatch):
    """Reservations within a day, across midnight, from before the week, beyond it, with
    buffers and seconds: the same pieces, times and markup as by conversions."""
    monday = date(2026, 12, 14)
    base = datetime.combine(monday, datetime.min.time(), PARIS)
    spans = [
        (timedelta(hours=9), timedelta(hours=10, minutes=30), timedelta(0)),
        (timedelta(hours=9, seconds=30), timedelta(hours=9, minutes=1), timedelta(minutes=15)),
        (timedelta(days=1, hours=22), timedelta(days=2, hours=2), timedelta(minutes=30)),
        (timedelta(days=-2), timedelta(days=1, hours=3), timedelta(0)),
        (timedelta(days=6, hours=20), timedelta(days=8), timedelta(0)),
        (timedelta(days=2, hours=14), timedelta(days=3), timedelta(hours=1)),
        (timedelta(days=4, hours=23, minutes=59, seconds=59), timedelta(days=5), timedelta(0)),
        (timedelta(days=3, hours=8), timedelta(days=3, hours=8, minutes=45), timedelta(0)),
    ]
    for n, (start, end, buffer) in enumerate(spans):
        reservation_row(
            campus,
            base + start,
            0,
            end=base + end,
            blocked_until=base + end + buffer,
            at=NOW,
            title=f"Essai <{n}> & co",
            equipment=equipment_create(
                actor=SYSTEM,
                code=f"WC-{n}",
                name=f"Banc {n}",
                category=campus.rheo,
                site=campus.site,
            ),
        )

    def grid():
        equipment = list(Equipment.objects.order_by("code"))
        return build_grid(equipment=equipment, first_day=monday, days=7, user=campus.admin, now=NOW)

    def facts(found):
        return [
            (c.day, {k: v for k, v in vars(b).items()}) for r in found.rows for c in r.cells
            for b in c.blocks
        ]  # fmt: skip

    fast = grid()
    original = WallClock.__init__

    def general(self, *args, **kwargs):
        original(self, *args, **kwargs)
        self.uniform = False

    monkeypatch.setattr(WallClock, "__init__", general)
    slow = grid()
    assert len(facts(fast)) >= len(spans)
    assert facts(fast) == facts(slow)
    assert fast.rows_across == slow.rows_across
    assert (fast.first_minute, fast.last_minute) == (slow.first_minute, slow.last_minute)


# --- the planning's rows written straight from the database's rows ------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_planning_markup_is_the_grid_rows(campus, language):
    """build_planning writes what build_grid's rows write: every reader (in full or not),
    buffers, pending and cancelled bookings, closures of an equipment, a site and every
    site, bookings across midnight and beyond the window, a week with a clock change."""
    Equipment.objects.filter(pk=campus.hplc.pk).update(
        status=Equipment.Status.MAINTENANCE, name='Chaîne <"A&P"> l\'été', code="WL&<1>"
    )
    hours = {day: [["07:15", "12:00"], ["13:30", "21:45"]] for day in ("mon", "tue", "wed")}
    hours.update({day: [] for day in ("thu", "fri", "sat", "sun")})
    Equipment.objects.filter(pk=campus.rheometer.pk).update(
        policy_overrides={"opening_hours": hours}
    )
    others = [
        equipment_create(
            actor=SYSTEM, code=f"MK-{n}", name=f"Banc {n}", category=campus.rheo, site=campus.site
        )
        for n in range(3)
    ]
    spans = [
        (timedelta(hours=9), timedelta(hours=10, minutes=30), timedelta(0)),
        (timedelta(hours=6, seconds=30), timedelta(hours=6, minutes=1), timedelta(minutes=15)),
        (timedelta(days=1, hours=22), timedelta(days=2, hours=2), timedelta(minutes=30)),
        (timedelta(days=-2), timedelta(days=1, hours=3), timedelta(0)),
        (timedelta(days=6, hours=20), timedelta(days=8), timedelta(0)),
        (timedelta(days=2, hours=14), timedelta(days=3), timedelta(hours=1)),
        (timedelta(days=2, hours=14), timedelta(days=2, hours=16), timedelta(hours=1)),
        (timedelta(days=3, hours=8), timedelta(days=3, hours=20, minutes=45), timedelta(0)),
    ]
    owners = [
        (campus.research, campus.researcher, "research"),
        (campus.teaching, campus.teacher, "pedagogical"),
        (campus.confidential, campus.industrial, "industrial"),
    ]
    weeks = [(date(2026, 12, 14), 7), (date(2026, 12, 16), 1), (date(2027, 3, 22), 7)]
    for monday, _days in weeks[::2]:
        base = datetime.combine(monday, datetime.min.time(), PARIS)
        for n, (start, end, buffer) in enumerate(spans):
            project, person, priority = owners[n % 3]
            reservation_row(
                campus,
                base + start,
                0,
                end=base + end,
                blocked_until=base + end + buffer,
                at=NOW,
                title=f'Essai <{n}> & "co"',
                project=project,
                booked_by=person,
                priority=priority,
                status=["confirmed", "pending", "completed", "cancelled"][n % 4],
                equipment=[campus.hplc, campus.rheometer, *others][n % 5],
            )
        Closure.objects.create(
            equipment=others[0], start=base + timedelta(hours=10), end=base + timedelta(hours=12),
            reason="panne <x>",
        )  # fmt: skip
        Closure.objects.create(
            site=campus.site, start=base + timedelta(days=2, hours=18),
            end=base + timedelta(days=3, hours=9), reason="alarme",
        )  # fmt: skip
        Closure.objects.create(
            start=base + timedelta(days=4), end=base + timedelta(days=5), reason="férié & co"
        )
    readers = [campus.admin, campus.researcher, campus.teacher, campus.eq_manager]
    equipment = list(Equipment.objects.order_by("site__name", "code"))
    with translation.override(language):
        for first_day, days in weeks:
            for user in readers:
                for items in (equipment, equipment[:1], []):
                    found = {"equipment": items, "first_day": first_day, "days": days}
                    found.update(user=user, now=NOW)
                    fast, slow = build_planning(**found), build_grid(**found)
                    assert fast.rows_across == slow.rows_across
                    assert fast.shown == slow.shown == bool(items)
                    assert (fast.first_minute, fast.last_minute, fast.days, fast.today) == (
                        slow.first_minute, slow.last_minute, slow.days, slow.today,
                    )  # fmt: skip
                    assert fast.ticks == slow.ticks and fast.holidays == slow.holidays
            page = build_planning(
                equipment=equipment, first_day=weeks[0][0], days=7, user=campus.admin, now=NOW
            ).rows_across
    assert page.count("block-buffer") >= 3 and page.count("block-closure") >= 6
    assert "WL&amp;&lt;1&gt;" in page and "Essai &lt;0&gt; &amp; &quot;co&quot;" in page


# --- blocks, cells and rows written without a template ----------------------------------------


@pytest.mark.parametrize("full", [True, False])
def test_reservation_blocks_are_those_of_the_dataclass(full):
    row = (7, 3, NOW, NOW + timedelta(hours=1), NOW, "research", "pending", full,
           "Titre", "Projet", "Labo", "", "", "jdoe")  # fmt: skip
    made = _reservation_block(row, times="08:00–09:00")
    expected = Block(
        kind="reservation",
        start=NOW,
        end=NOW + timedelta(hours=1),
        priority="research",
        status="pending",
        times="08:00–09:00",
    )
    if full:
        expected.full, expected.reservation_id, expected.title = True, 7, "Titre"
        expected.project, expected.partner, expected.booked_by = "Projet", "Labo", "jdoe"
    assert made == expected
    assert vars(made) == vars(expected)


# The loop over the rows as reservations/_grid.html wrote it before Grid.rows_across.
TEMPLATE_LOOP = """{% for row in grid.rows %}
    <tr data-equipment="{{ row.equipment.pk }}">
      <th scope="row" class="eq">
        <a href="{% url 'equipment:detail' row.equipment.pk %}">{{ row.equipment.code }}</a>
        <small>{{ row.equipment.name }}</small>
        {% if row.equipment.status != "active" %}<span class="status status-{{ row.equipment.status }}">{{ row.equipment.get_status_display }}</span>{% endif %}
      </th>
      {{ row.cells_across }}{# each day's <td> #}
    </tr>
  {% endfor %}"""  # noqa: E501


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en"])
def test_rows_are_written_as_the_template_loop_wrote_them(campus, language):
    Equipment.objects.filter(pk=campus.rheometer.pk).update(
        status=Equipment.Status.MAINTENANCE, name='Rhéomètre <"A&P"> l\'été', code="TO&<1>"
    )
    reservation_row(campus, datetime.combine(WED, datetime.min.time(), PARIS), 90, at=NOW)
    reservation_row(
        campus, datetime.combine(WED, datetime.min.time(), PARIS), 60, at=NOW, equipment=campus.hplc
    )
    equipment = list(Equipment.objects.order_by("code"))
    with translation.override(language):
        grid = build_grid(equipment=equipment, first_day=WED, days=7, user=campus.admin, now=NOW)
        expected = Template(TEMPLATE_LOOP).render(Context({"grid": grid}))
        assert grid.rows_across == expected
    assert "status-maintenance" in expected and "TO&amp;&lt;1&gt;" in expected


def test_the_calendar_json_is_json_script():
    value = {
        "title": "Rhéomètre <script>\"x\" & 'y'</script> · été",
        "lazy": gettext_lazy("Today"),
        "when": date(2026, 12, 14),
        "nested": [{"a": "</b>&<i>"}, 3, None, True],
    }
    with translation.override("fr"):
        assert calendar_json(value, "calendar-config") == json_script(value, "calendar-config")


# --- queries ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_among_is_in(campus):
    everything = list(Equipment.objects.order_by("pk").values_list("pk", flat=True))
    for ids in ([], [everything[0]], everything, [*everything, 10**9], {everything[-1]}):
        among = Equipment.objects.filter(Among("id", ids)).order_by("pk")
        assert list(among) == list(Equipment.objects.filter(pk__in=ids).order_by("pk"))
    either = Equipment.objects.filter(Among("id", []) | Among("site_id", [campus.site.pk]))
    assert list(either) == list(Equipment.objects.filter(site=campus.site))
    assert Reservation.objects.filter(Among("equipment_id", everything)).count() == 0


@pytest.mark.django_db
def test_the_menus_list_the_model_choices(campus):
    form = SiteCategoryFilterForm()
    for name in ("site", "category"):
        field = form.fields[name]
        assert isinstance(field.iterator(field), ListedChoiceIterator)
        listed = [(str(value), str(label)) for value, label in field.iterator(field)]
        plain = [(str(value), str(label)) for value, label in ModelChoiceIterator(field)]
        assert listed == plain and len(listed) == 3

    class Plain(forms.Form):
        site = forms.ModelChoiceField(
            queryset=Site.objects.all(),
            required=False,
            empty_label=form.fields["site"].empty_label,
            widget=forms.Select(attrs={"aria-label": "Site"}),
        )

    with translation.override("fr"):
        assert str(SiteCategoryFilterForm({"site": campus.site.pk})["site"]) == str(
            Plain({"site": campus.site.pk})["site"]
        )


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_menus_written_in_python_are_those_of_the_templates(campus, language):
    from equipment.forms import ListedSelect
    from equipment.models import Category

    odd = Site.objects.create(name='Lab <"A&B"> l\'été', city="Tours")
    Category.objects.create(name="Rhéo & <co>")
    form = SiteCategoryFilterForm()

    class Plain(forms.Form):
        site = forms.ModelChoiceField(
            queryset=Site.objects.all(),
            required=False,
            empty_label=form.fields["site"].empty_label,
            widget=forms.Select(
                attrs={"aria-label": form.fields["site"].widget.attrs["aria-label"]}
            ),
        )
        category = forms.ModelChoiceField(
            queryset=Category.objects.all(),
            required=False,
            empty_label=form.fields["category"].empty_label,
            widget=forms.Select(
                attrs={"aria-label": form.fields["category"].widget.attrs["aria-label"]}
            ),
        )

    with translation.override(language):
        for data in (None, {}, {"site": odd.pk}, {"site": "999", "category": "x"}):
            for name in ("site", "category"):
                listed = str(SiteCategoryFilterForm(data)[name])
                assert listed == str(Plain(data)[name])
        assert "selected>Lab &lt;&quot;A&amp;B&quot;&gt; l&#x27;été</option>" in str(
            SiteCategoryFilterForm({"site": odd.pk})["site"]
        )
    # Grouped choices, a required menu, a safe label: as forms.Select writes them.
    choices = [("", mark_safe("<b>—</b>")), ("Group <1>", [("a", "A & a"), ("b", "B")]), ("c", "C")]
    for widget_attrs in ({"required": True, "data-x": False}, {}):
        ours = ListedSelect(attrs=widget_attrs, choices=choices).render("m<", "a")
        assert ours == forms.Select(attrs=widget_attrs, choices=choices).render("m<", "a")
    flat = [("", mark_safe("<b>—</b>")), ("a", "A & a")]
    ours = ListedSelect(attrs={"required": True, "data-x": False}, choices=flat)
    assert ours.render("m", ["a"]) == forms.Select(
        attrs={"required": True, "data-x": False}, choices=flat
    ).render("m", ["a"])


@pytest.mark.django_db
def test_policies_are_merged_once_per_distinct_overrides(campus):
    for n, overrides in enumerate([{}, {"buffer_minutes": 15}, {"buffer_minutes": 15}, {}]):
        item = equipment_create(
            actor=SYSTEM, code=f"POL-{n}", name=f"Pol {n}", category=campus.rheo, site=campus.site
        )
        Equipment.objects.filter(pk=item.pk).update(policy_overrides=overrides)
    equipment = list(Equipment.objects.order_by("code"))
    Equipment.load_policies(equipment)
    for item in equipment:
        assert item.policy == effective_policy(item.policy_overrides)
    by_code = {e.code: e for e in equipment}
    assert by_code["POL-1"].policy is by_code["POL-2"].policy
    assert by_code["POL-0"].policy is by_code["POL-3"].policy
    assert by_code["POL-0"].policy is not by_code["POL-1"].policy
    for overrides in (None, {}, {"b": 1, "a": [2]}):
        assert overrides_key(overrides) == json.dumps(overrides, sort_keys=True, default=str)


@pytest.mark.django_db
def test_a_busy_campus_week_costs_fixed_queries_for_a_platform_manager(
    client, campus, book, django_assert_num_queries
):
    """Session, user, equipment, the no-show probe, reservations, closures and the two
    menus (sites, categories, each one query); whatever the number of equipment and
    bookings, and the columns of the equipment the page does not read are never asked."""
    for n in range(6):
        item = equipment_create(
            actor=SYSTEM,
            code=f"QC-{n}",
            name=f"Banc {n}",
            category=campus.chroma,
            site=campus.site,
            requires_check_in=n % 2 == 0,
        )
        for hour in (9, 13):
            book(campus.teacher, campus.teaching, item, WED, f"{hour:02d}:00", f"{hour + 2:02d}:00")
    client.force_login(campus.admin)
    with django_assert_num_queries(PLANNING_QUERIES):
        page = client.get(f"/planning/?date={WED}").content.decode()
    assert page.count('data-kind="reservation"') == 12
    assert grid_module.CLOCK_TEXTS[9 * 60] == "09:00"


PLANNING_QUERIES = 8


@pytest.mark.django_db
def test_the_process_objects_leave_the_collector_after_the_first_request(client, monkeypatch):
    import gc

    from platform_booking import collector

    client.get("/accounts/login/")
    assert collector._done.is_set()
    assert gc.get_freeze_count() > 0
    calls = []
    monkeypatch.setattr(collector.gc, "freeze", lambda: calls.append(1))
    client.get("/accounts/login/")
    assert calls == []  # once per process
