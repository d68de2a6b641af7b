"""Benchmark: the term planner on a realistic term (SPEC §11, issue 15).

60 class requests over a 14-week term, 50 equipment of which 30 are workstations, and
2,000 existing reservations (research, industrial and other classes), on PostgreSQL.
Run: `.venv/bin/python bench/bench_planner.py` (BENCH_DATABASE_URL to change the
database, which is dropped and recreated; BENCH_TIME_LIMIT, default 60 s; BENCH_SEED).
Prints the fraction of requests placed, the displaced hours, whether optimality was
proven, the time to read the facts and judge every candidate, the solver's time, and
the commit time (every booking through the booking service, in one transaction).
"""

from __future__ import annotations

import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import recreate_database

os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ["DATABASE_URL"] = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/pb_bench_planner"
)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "platform_booking.settings")
os.environ.setdefault("EMAIL_URL", "locmem://")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("TASKS_BACKEND", "immediate")
os.environ["DEBUG"] = "false"

import warnings

import django

warnings.filterwarnings("ignore", message="No directory at")

TIME_LIMIT = float(os.environ.get("BENCH_TIME_LIMIT", "60"))
SEED = int(os.environ.get("BENCH_SEED", "15"))
TERM_START = date(2027, 1, 4)  # a Monday, after the Christmas holidays
WEEKS = 14
EXISTING = 2000


def main() -> None:
    recreate_database()
    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from core.roles import SYSTEM
    from core.timezones import local_tz
    from equipment.models import Qualification
    from equipment.services import category_create, equipment_create, site_create
    from partners.models import ProjectKind
    from partners.services import partner_create, project_create
    from planner import solver
    from planner.build import build_problem
    from planner.models import Plan, PlanRequest
    from planner.services import plan_commit
    from planner.solving import plan_solve
    from reservations.models import Reservation, ReservationStatus

    call_command("migrate", verbosity=0)
    rng = random.Random(SEED)
    tz = local_tz()
    now = datetime.combine(TERM_START - timedelta(days=10), datetime.min.time(), tzinfo=tz)
    users = get_user_model().objects
    teacher = users.create_user("teacher", password="x")
    researcher = users.create_user("researcher", password="x")
    school = partner_create(actor=SYSTEM, name="IUT", kind="university", rate_category="academic")
    lab = partner_create(actor=SYSTEM, name="Lab", kind="research_lab", rate_category="academic")
    firm = partner_create(actor=SYSTEM, name="Firm", kind="company", rate_category="industrial")
    start = date(2026, 1, 1)
    classes = [
        project_create(
            actor=SYSTEM,
            name=f"TP {n}",
            kind=ProjectKind.PEDAGOGICAL,
            partner=school,
            leader=teacher,
            active_from=start,
        )
        for n in range(10)
    ]
    others = {
        "research": project_create(
            actor=SYSTEM,
            name="Thèse",
            kind="research",
            partner=lab,
            leader=researcher,
            active_from=start,
        ),
        "industrial": project_create(
            actor=SYSTEM,
            name="Contrat",
            kind="industrial",
            partner=firm,
            leader=researcher,
            active_from=start,
        ),
        "pedagogical": project_create(
            actor=SYSTEM,
            name="Autre TP",
            kind="pedagogical",
            partner=school,
            leader=researcher,
            active_from=start,
        ),
    }
    site = site_create(actor=SYSTEM, name="We Lab", city="Orléans")
    stations_cat = category_create(actor=SYSTEM, name="Postes")
    instruments_cat = category_create(actor=SYSTEM, name="Instruments")
    stations = [
        equipment_create(
            actor=SYSTEM, code=f"PC-{n:02d}", name=f"Poste {n}", category=stations_cat, site=site
        )
        for n in range(30)
    ]
    instruments = [
        equipment_create(
            actor=SYSTEM,
            code=f"INS-{n:02d}",
            name=f"Instrument {n}",
            category=instruments_cat,
            site=site,
            requires_qualification=n % 2 == 0,
        )
        for n in range(20)
    ]
    Qualification.objects.bulk_create(
        Qualification(user=teacher, equipment=e, valid_until=date(2028, 1, 1)) for e in instruments
    )

    # 2,000 existing reservations over the term, none overlapping on one equipment: other
    # teachers' classes already booked as weekly series (20 series of 14 weeks), and
    # research and industrial bookings scattered over the weeks.
    everything = stations + instruments
    taken: dict[int, list[tuple[datetime, datetime]]] = {e.pk: [] for e in everything}
    rows = []

    def add(item, begin: datetime, end: datetime, kind: str) -> bool:
        if any(a < end and begin < b for a, b in taken[item.pk]):
            return False
        taken[item.pk].append((begin, end))
        rows.append(
            Reservation(
                equipment=item,
                project=others[kind],
                booked_by=researcher,
                start=begin,
                end=end,
                blocked_until=end,
                title="Existing",
                status=ReservationStatus.CONFIRMED,
                priority=kind,
                status_changed_at=now,
                created_at=now,
                updated_at=now,
            )
        )
        return True

    def local(day: date, minute: int) -> datetime:
        return datetime.combine(day, datetime.min.time(), tzinfo=tz) + timedelta(minutes=minute)

    series = 0
    while series < 20:
        item = rng.choice(everything)
        weekday, minute = rng.randrange(5), rng.choice([8 * 60, 13 * 60 + 30])
        if any(
            local(TERM_START + timedelta(weeks=0, days=weekday), minute) == a
            for a, _b in taken[item.pk]
        ):
            continue
        series += 1
        for week in range(WEEKS):
            day = TERM_START + timedelta(weeks=week, days=weekday)
            add(item, local(day, minute), local(day, minute + 240), "pedagogical")
    while len(rows) < EXISTING:
        item = rng.choice(everything)
        day = TERM_START + timedelta(weeks=rng.randrange(WEEKS), days=rng.randrange(5))
        minute = rng.randrange(8 * 60, 17 * 60, 30)
        length = rng.choice([60, 90, 120, 180])
        if minute + length <= 19 * 60:
            add(
                item,
                local(day, minute),
                local(day, minute + length),
                rng.choice(["research", "research", "research", "industrial"]),
            )
    Reservation.objects.bulk_create(rows)

    plan = Plan.objects.create(
        name="Semestre",
        term_start=TERM_START,
        term_end=TERM_START + timedelta(weeks=WEEKS, days=-1),
        created_by=teacher,
        solved_by=teacher,
        created_at=now,
        skip_school_holidays=True,
    )
    halves = [("08:00", "12:00"), ("13:30", "17:30")]
    days = ["mon", "tue", "wed", "thu", "fri"]
    requests = []
    for n in range(60):
        windows = [
            {"weekday": d, "start": a, "end": b}
            for d, (a, b) in rng.sample([(d, h) for d in days for h in halves], rng.randint(2, 4))
        ]
        if n < 40:
            choices = [e.pk for e in stations]
            count = rng.choice([4, 6, 8])
            duration = rng.choice([180, 210, 240])
        else:
            choices = [e.pk for e in rng.sample(instruments, rng.randint(2, 4))]
            count = 1
            duration = rng.choice([120, 180])
        requests.append(
            PlanRequest(
                plan=plan,
                position=n,
                project=classes[n % len(classes)],
                title=f"Class {n}",
                expected_participants=count * 2,
                equipment_choices=choices,
                count=count,
                duration_minutes=duration,
                allowed_slots=windows,
            )
        )
    PlanRequest.objects.bulk_create(requests)

    began = time.monotonic()
    problem = build_problem(plan, user=teacher, now=now)
    read = time.monotonic() - began
    print(
        f"facts read: {read:.2f} s ({len(problem.requests)} requests, "
        f"{len(problem.equipment)} equipment, {len(problem.mondays())} weeks)"
    )
    began = time.monotonic()
    plan = plan_solve(plan_id=plan.pk, now=now, time_limit_seconds=TIME_LIMIT)
    total = time.monotonic() - began
    objective = plan.objective
    print(f"status: {plan.status}; error: {plan.error or '-'}")
    print(
        f"placed: {objective['placed']}/{objective['requests']} "
        f"({objective['placed'] / objective['requests']:.0%}); "
        f"displaced: {objective['displaced_hours']} h in {objective['displaced_reservations']} "
        f"reservations; optimal: {plan.optimal} ({objective['solver_status']}; at most "
        f"{objective['placed_bound']:.0f} placeable; displacement cost {objective['value']} "
        f"quarter hours, bound {objective['bound']})"
    )
    print(
        f"solve (judging candidates + CP-SAT + re-check): {plan.solve_seconds:.1f} s; "
        f"with storing: {total:.1f} s; time limit {TIME_LIMIT:.0f} s "
        f"(at most {solver.MAX_TIME_LIMIT:.0f})"
    )
    reasons: dict[str, int] = {}
    for request in PlanRequest.objects.filter(plan=plan, assignment__isnull=True):
        code = (request.unplaced or {}).get("code", "?")
        reasons[code] = reasons.get(code, 0) + 1
    print(
        f"judging the candidates: {objective['judge_seconds']} s; "
        f"CP-SAT: {objective['cp_sat_seconds']} s"
    )
    print(f"unplaced reasons: {reasons or '-'}")
    if plan.status != "solved" or os.environ.get("BENCH_COMMIT", "1") == "0":
        return
    before = Reservation.objects.count()
    began = time.monotonic()
    plan, created = plan_commit(plan=plan, user=teacher, now=now)
    committed = time.monotonic() - began
    displaced = Reservation.objects.filter(status=ReservationStatus.DISPLACED).count()
    print(
        f"commit: {committed:.1f} s, {len(created)} reservations booked "
        f"({Reservation.objects.count() - before} new rows), {displaced} displaced"
    )


if __name__ == "__main__":
    main()
