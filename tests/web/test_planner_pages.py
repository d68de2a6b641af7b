"""The term planner's pages (SPEC §8, §11): the plans and a plan's page; classes entered
through the forms, solved by the worker (run at once, as the core's tests do), the plan on
its typical week with the displaced bookings and the unplaced reasons, the commit; who may
see what (404 for anyone else).

Time is frozen at Monday 2026-11-23 08:00 Europe/Paris; the term is 4–24 January 2027.
"""

from __future__ import annotations

import re
from datetime import date
from types import SimpleNamespace

import pytest

from core.roles import SYSTEM
from equipment.services import equipment_create
from planner.models import Plan, PlanRequest, PlanStatus
from planner.services import plan_create, plan_solve_start
from planner.solving import plan_solve
from reservations.models import Reservation, ReservationStatus
from reservations.services import reservation_create
from tests.conftest import reservation_row

from .conftest import NOW, at

pytestmark = pytest.mark.django_db

LIST = "/planner/"


@pytest.fixture
def stations(campus):
    return [
        equipment_create(
            actor=SYSTEM,
            code=f"WL-PC-{n:02d}",
            name=f"Poste {n}",
            category=campus.chroma,
            site=campus.site,
        )
        for n in (1, 2)
    ]


def class_form(campus, equipment, *, title="TP HPLC", slots=(("tue", "08:00", "10:00"),), **over):
    """The POST of the class form (prefix `class`)."""
    data = {
        "class-project": campus.teaching.pk,
        "class-title": title,
        "class-expected_participants": 12,
        "class-equipment_choices": [e.pk for e in equipment],
        "class-count": 1,
        "class-duration_minutes": 120,
        "class-sessions_per_week": 1,
        "class-same_slot_every_week": "on",
    }
    for n, (weekday, start, end) in enumerate(slots):
        data[f"class-slot_{n}_weekday"] = weekday
        data[f"class-slot_{n}_start"] = start
        data[f"class-slot_{n}_end"] = end
    data.update(over)
    return data


def new_plan(client) -> Plan:
    answer = client.post(
        LIST,
        {
            "name": "Semestre de printemps",
            "term_start": "2027-01-04",
            "term_end": "2027-01-24",
            "skip_school_holidays": "on",
        },
    )
    plan = Plan.objects.get()
    assert answer.status_code == 302 and answer["Location"] == f"/planner/{plan.pk}/"
    return plan


def solve(client, plan, django_capture_on_commit_callbacks, limit=5):
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(f"/planner/{plan.pk}/solve/", {"time_limit_seconds": limit})
    assert answer.status_code == 302 and answer["Location"] == f"/planner/{plan.pk}/#result"
    plan.refresh_from_db()
    return plan


def html_of(client, plan, status=200) -> str:
    answer = client.get(f"/planner/{plan.pk}/")
    assert answer.status_code == status
    return answer.content.decode()


def test_a_teacher_plans_solves_and_commits_a_term_through_the_pages(
    client, campus, stations, django_capture_on_commit_callbacks
):
    research = reservation_row(
        campus,
        at(date(2027, 1, 12), "08:00"),
        90,
        equipment=stations[0],
        project=campus.open_research,
        at=NOW,
    )
    client.force_login(campus.teacher)
    assert 'href="/planner/"' in client.get("/my/").content.decode()  # the menu's link
    plan = new_plan(client)
    assert plan.created_by == campus.teacher and plan.skip_school_holidays
    assert plan.status == PlanStatus.DRAFT

    # Three classes through the form; the HPLC needs a qualification the teacher lacks.
    added = client.post(f"/planner/{plan.pk}/classes/", class_form(campus, stations[:1]))
    assert added.status_code == 302 and added["Location"].endswith("#classes")
    client.post(
        f"/planner/{plan.pk}/classes/",
        class_form(campus, [campus.hplc], title="TP chromatographie"),
    )
    client.post(
        f"/planner/{plan.pk}/classes/",
        class_form(campus, stations[1:], title="À retirer", slots=(("wed", "14:00", "16:00"),)),
    )
    classes = list(PlanRequest.objects.filter(plan=plan).order_by("position"))
    assert [c.title for c in classes] == ["TP HPLC", "TP chromatographie", "À retirer"]
    assert classes[0].allowed_slots == [{"weekday": "tue", "start": "08:00", "end": "10:00"}]
    assert classes[0].equipment_choices == [stations[0].pk]
    html = html_of(client, plan)
    assert html.count('<tr id="class-') == 3 and "mardi 08:00–10:00" in html
    removed = client.post(f"/planner/{plan.pk}/classes/{classes[2].pk}/remove/")
    assert removed.status_code == 302
    assert PlanRequest.objects.filter(plan=plan).count() == 2

    plan = solve(client, plan, django_capture_on_commit_callbacks)
    assert plan.status == PlanStatus.SOLVED
    html = html_of(client, plan)
    # The typical week: one block, on Tuesday, naming the class and its equipment.
    blocks = re.findall(r'<div class="plan-block"[^>]*>(.*?)</div>', html)
    assert len(blocks) == 1 and "TP HPLC" in blocks[0] and "WL-PC-01" in blocks[0]
    assert 'data-weekday="tue"' in html
    # The displaced research booking, its partner and hours, and the total by partner.
    displaced = html.split('class="list compact plan-displaced"')[1].split("</table>")[0]
    assert f"#{research.pk}" in displaced and "Université d&#x27;Orléans" in displaced
    assert "1,5" in displaced  # French numbers
    assert "plan-partners" in html
    # The unplaced class with its reason in words, and the optimality said honestly.
    assert "TP chromatographie</strong>: " in html and "habilitation valide" in html
    assert "Optimalité prouvée" in html

    # The commit asks for a confirmation first.
    refused = client.post(f"/planner/{plan.pk}/commit/", {})
    assert refused.status_code == 400
    assert not Reservation.objects.filter(booked_by=campus.teacher).exists()
    with django_capture_on_commit_callbacks(execute=True):
        booked = client.post(f"/planner/{plan.pk}/commit/", {"confirm": "on"})
    assert booked.status_code == 302 and booked["Location"].endswith("#bookings")
    plan.refresh_from_db()
    assert plan.status == PlanStatus.COMMITTED
    made = Reservation.objects.filter(booked_by=campus.teacher, project=campus.teaching)
    assert made.count() == 3 and set(plan.reservations.all()) == set(made)
    research.refresh_from_db()
    assert research.status == ReservationStatus.DISPLACED
    html = html_of(client, plan)
    assert f'action="/planner/{plan.pk}/commit/"' not in html
    assert f'action="/planner/{plan.pk}/classes/"' not in html
    assert f'href="/equipment/{stations[0].pk}/?week=2027-01-05"' in html

    # A second commit (another tab) is refused with a message; nothing more is booked.
    again = client.post(f"/planner/{plan.pk}/commit/", {"confirm": "on"}, follow=True)
    assert "plan_committed" in again.content.decode()
    assert made.count() == 3


def test_a_commit_refused_lists_the_failing_occurrences_in_words(
    client, campus, stations, django_capture_on_commit_callbacks
):
    client.force_login(campus.teacher)
    plan = new_plan(client)
    client.post(
        f"/planner/{plan.pk}/classes/",
        class_form(campus, stations[1:], slots=(("wed", "14:00", "16:00"),)),
    )
    assert solve(client, plan, django_capture_on_commit_callbacks).status == PlanStatus.SOLVED
    # Another class takes Wednesday 13 January meanwhile.
    reservation_create(
        user=campus.teacher,
        project=campus.teaching,
        equipment=[stations[1]],
        start=at(date(2027, 1, 13), "14:00"),
        end=at(date(2027, 1, 13), "16:00"),
        title="Rattrapage",
        now=NOW,
    )
    answer = client.post(f"/planner/{plan.pk}/commit/", {"confirm": "on"})
    assert answer.status_code == 409
    html = answer.content.decode()
    assert 'id="refusal"' in html and "13/01/2027, 14:00–16:00" in html
    assert "déjà réservé" in html
    assert Reservation.objects.filter(title="TP HPLC").count() == 0


def test_the_page_follows_the_solver_while_it_works(client, campus, stations):
    plan = plan_create(
        user=campus.teacher,
        name="Semestre",
        term_start=date(2027, 1, 4),
        term_end=date(2027, 1, 24),
        requests=[],
        now=NOW,
    )
    client.force_login(campus.teacher)
    client.post(f"/planner/{plan.pk}/classes/", class_form(campus, stations))
    plan_solve_start(plan=plan, user=campus.teacher, now=NOW)  # the worker not run yet
    html = html_of(client, plan)
    assert f'data-plan-poll="/api/v1/plans/{plan.pk}/"' in html
    assert "/static/js/planner.js" in html and "<script>" not in html
    # No change while solving: the class form is gone, a post is refused.
    assert f'action="/planner/{plan.pk}/classes/"' not in html
    refused = client.post(f"/planner/{plan.pk}/classes/", class_form(campus, stations), follow=True)
    assert "plan_solving" in refused.content.decode()
    assert PlanRequest.objects.filter(plan=plan).count() == 1


def test_form_errors_are_shown_and_nothing_is_added(client, campus, stations):
    client.force_login(campus.teacher)
    plan = new_plan(client)
    answer = client.post(
        f"/planner/{plan.pk}/classes/",
        class_form(campus, stations, slots=(("tue", "10:00", "08:00"),)),
    )
    assert answer.status_code == 400
    assert "has-error" in answer.content.decode()
    research = class_form(campus, stations, **{"class-project": campus.research.pk})
    assert client.post(f"/planner/{plan.pk}/classes/", research).status_code == 400
    assert not PlanRequest.objects.exists()
    past = client.post(
        LIST, {"name": "Passé", "term_start": "2026-11-01", "term_end": "2026-12-01"}
    )
    assert past.status_code == 400 and Plan.objects.count() == 1


def test_who_sees_the_planner_and_its_plans(client, campus, stations, make_user):
    plan = plan_create(
        user=campus.teacher,
        name="Semestre de l'enseignant",
        term_start=date(2027, 1, 4),
        term_end=date(2027, 1, 24),
        requests=[
            {
                "project": campus.teaching,
                "title": "TP",
                "equipment_choices": [stations[0].pk],
                "duration_minutes": 60,
                "allowed_slots": [{"weekday": "mon", "start": "08:00", "end": "12:00"}],
            }
        ],
        now=NOW,
    )
    other = plan_create(
        user=campus.admin,
        name="Plan de la plateforme",
        term_start=date(2027, 1, 4),
        term_end=date(2027, 1, 24),
        requests=[],
        now=NOW,
    )
    for stranger in (campus.researcher, campus.referent, campus.outsider):
        client.force_login(stranger)
        assert client.get(LIST).status_code == 404
        assert client.get(f"/planner/{plan.pk}/").status_code == 404
        assert (
            client.post(f"/planner/{plan.pk}/solve/", {"time_limit_seconds": 5}).status_code == 404
        )
        assert client.post(f"/planner/{plan.pk}/commit/", {"confirm": "on"}).status_code == 404
        assert 'href="/planner/"' not in client.get("/my/").content.decode()
    client.force_login(campus.teacher)
    listed = client.get(LIST).content.decode()
    assert "Semestre de l&#x27;enseignant" in listed and "Plan de la plateforme" not in listed
    assert client.get(f"/planner/{other.pk}/").status_code == 404
    client.force_login(campus.admin)
    listed = client.get(LIST).content.decode()
    assert "Semestre de l&#x27;enseignant" in listed and "Plan de la plateforme" in listed
    assert client.get(f"/planner/{plan.pk}/").status_code == 200
    assert client.get(LIST, follow=False).status_code == 200
    client.logout()
    assert client.get(LIST).status_code == 302  # to the login page


def test_changing_a_solved_plan_sets_it_back_to_draft(
    client, campus, stations, django_capture_on_commit_callbacks
):
    client.force_login(campus.teacher)
    plan = new_plan(client)
    client.post(f"/planner/{plan.pk}/classes/", class_form(campus, stations[:1]))
    plan = solve(client, plan, django_capture_on_commit_callbacks)
    assert plan.status == PlanStatus.SOLVED and plan.objective["placed"] == 1
    client.post(
        f"/planner/{plan.pk}/classes/",
        class_form(campus, stations[1:], title="TP ajouté", slots=(("thu", "14:00", "16:00"),)),
    )
    plan.refresh_from_db()
    assert plan.status == PlanStatus.DRAFT and plan.objective == {} and plan.displaced == []
    assert not PlanRequest.objects.filter(plan=plan, assignment__isnull=False).exists()
    html = html_of(client, plan)
    assert 'class="plan-block"' not in html and f'action="/planner/{plan.pk}/commit/"' not in html
    assert "Résoudre le plan" in html


@pytest.mark.django_db(transaction=True)
def test_the_page_reloads_itself_when_the_worker_answers(
    new_page, live_server, campus, stations, monkeypatch
):
    """In a browser: while `solving`, planner.js asks the API; once the worker has stored
    its answer the page reloads and shows the week."""
    # The worker is late: nothing runs when the solve is asked for.
    monkeypatch.setattr("planner.services.solve_plan", SimpleNamespace(enqueue=lambda **kw: None))
    plan = plan_create(
        user=campus.teacher,
        name="Semestre",
        term_start=date(2027, 1, 4),
        term_end=date(2027, 1, 24),
        requests=[
            {
                "project": campus.teaching,
                "title": "TP HPLC",
                "equipment_choices": [stations[0].pk],
                "duration_minutes": 120,
                "allowed_slots": [{"weekday": "tue", "start": "08:00", "end": "10:00"}],
            }
        ],
        now=NOW,
    )
    plan_solve_start(plan=plan, user=campus.teacher, now=NOW, time_limit_seconds=5)
    page = new_page(campus.teacher)
    page.goto(f"{live_server.url}/planner/{plan.pk}/")
    assert page.locator("[data-plan-poll]").is_visible()
    assert page.locator(".plan-block").count() == 0
    plan_solve(plan_id=plan.pk, now=NOW, time_limit_seconds=5)  # the worker's job
    page.locator(".plan-block").first.wait_for(timeout=10_000)
    assert "TP HPLC" in page.locator(".plan-block").first.inner_text()
    assert page.locator("[data-plan-poll]").count() == 0
