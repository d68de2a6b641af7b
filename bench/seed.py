"""Seed a benchmark database: the inventory through the services, the reservations in SQL.

Both sizes hold the same inventory (200 equipment on 4 sites, 40 partners with 3 projects
each, 400 users) and the same "current" reservations, which every timed request reads:

- the report month (the calendar month before the bench week, all in the past): one
  reservation of 2 h per equipment per weekday, ended (completed, no-show, cancelled),
  with check-in records on the equipment that requires check-in;
- the bench week (the Monday after today, all in the future): two reservations per
  equipment per weekday, confirmed (pending for industrial projects, which need approval);
  a site closure on the Saturday and one equipment's closure on the Wednesday.

Only the history differs: `history` reservations of 1.5 h, 8 a day on every equipment,
going back day by day from 130 days before the bench week (before the feeds' 90-day
window and the report month), so that no request's answer changes with it. Their
statuses are terminal, so nothing is overdue: no request writes.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any

EQUIPMENT = 200
PARTNERS = 40
USERS = 400
HISTORY_GAP_DAYS = 130  # the history ends this long before the bench week


def month_before(week: date) -> tuple[date, date]:
    """The calendar month before the one holding `week`: [first day, first day after)."""
    first_of_week_month = week.replace(day=1)
    last = first_of_week_month - timedelta(days=1)
    return last.replace(day=1), first_of_week_month


def weekdays(first: date, after: date) -> list[date]:
    days = [first + timedelta(days=n) for n in range((after - first).days)]
    return [d for d in days if d.weekday() < 5]


def current_count(week: date) -> int:
    """How many reservations the month and week sets hold (the same at every size)."""
    first, after = month_before(week)
    return EQUIPMENT * len(weekdays(first, after)) + EQUIPMENT * 5 * 2


def seed(*, week: date, history: int) -> dict[str, Any]:
    """Fill the (migrated, empty) database of the current Django connection."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from core.roles import SYSTEM
    from core.timezones import local_tz
    from equipment.models import Qualification
    from equipment.services import category_create, equipment_create, site_create
    from partners.services import partner_create, project_create
    from reservations.models import Closure

    began = time.perf_counter()
    tz = local_tz()
    User = get_user_model()
    manager = User.objects.create_user("manager", password="x", is_staff=True)
    booker = User.objects.create_user(
        "booker", password="x", first_name="Ada", last_name="Bench", email="ada@example.org"
    )
    users = User.objects.bulk_create(
        [
            User(username=f"user{n:03}", first_name=f"Prénom{n}", last_name=f"Nom{n}")
            for n in range(USERS)
        ]
    )
    sites = [site_create(actor=SYSTEM, name=f"Site {n}", city="Orléans") for n in range(4)]
    categories = [category_create(actor=SYSTEM, name=f"Catégorie {n}") for n in range(10)]
    kinds = ["pedagogical", "research", "industrial"]
    for n in range(PARTNERS):
        partner = partner_create(
            actor=SYSTEM,
            name=f"Partenaire {n:02}",
            kind="company" if n % 4 == 0 else "university",
            rate_category="industrial" if n % 4 == 0 else "academic",
        )
        for k in range(3):
            project_create(
                actor=SYSTEM,
                name=f"Projet {n:02}-{k}",
                kind=kinds[k],
                partner=partner,
                leader=users[(n * 3 + k) % USERS],
                # The booker works on the research project of partner 1 (an academic one).
                members=[booker] if (n, k) == (1, 1) else [],
                active_from=date(2020, 1, 1),
                confidential=k != 0,
            )
    equipment = [
        equipment_create(
            actor=SYSTEM,
            code=f"EQ-{n:03}",
            name=f"Équipement {n}",
            category=categories[n % 10],
            site=sites[n % 4],
            requires_check_in=n % 3 == 0,
            requires_qualification=n % 4 == 1,
            rates={"teaching": 5, "academic": 30 + n % 7, "industrial": 120 + n % 11},
            policy={"late_cancellation_hours": 48} if n % 5 == 0 else None,
        )
        for n in range(EQUIPMENT)
    ]
    Qualification.objects.bulk_create(
        [
            Qualification(user=booker, equipment=e, valid_until=date(2099, 1, 1))
            for e in equipment
            if e.requires_qualification
        ]
    )
    inventory = time.perf_counter() - began

    month_first, month_after = month_before(week)
    history_end = week - timedelta(days=HISTORY_GAP_DAYS)
    params = {
        "eq": EQUIPMENT,
        "projects": PARTNERS * 3,
        "users": USERS,
        "history": history,
        "history_end": history_end,
        "month_days": weekdays(month_first, month_after),
        "week_days": weekdays(week, week + timedelta(days=5)),
    }
    # Shared pieces: equipment, projects and users numbered from 0 in id order.
    numbered = """
        eq AS (SELECT id, requires_check_in,
                      row_number() OVER (ORDER BY id) - 1 AS n FROM equipment_equipment),
        pr AS (SELECT id, kind, row_number() OVER (ORDER BY id) - 1 AS n
               FROM reservations_project),
        us AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n
               FROM auth_user WHERE username LIKE 'user%%')
    """
    columns = """
        (equipment_id, project_id, booked_by_id, start, "end", blocked_until, title,
         expected_participants, status, priority, revision, status_changed_at, created_at,
         updated_at)
    """
    began = time.perf_counter()
    with connection.cursor() as cursor:
        # History: reservation s is on equipment s % 200, slot s // 200 counted back from
        # the history's end, 8 slots of 1.5 h a day from 07:00: no two of one equipment
        # overlap, so the exclusion constraint holds (their statuses are not live anyway).
        cursor.execute(
            f"""
            WITH {numbered},
                 g AS (SELECT s,
                              ((%(history_end)s::date - 1 - (s / %(eq)s / 8)::int)::timestamp
                               + time '07:00' + ((s / %(eq)s) %% 8) * interval '90 min')
                              AT TIME ZONE 'Europe/Paris' AS start
                       FROM generate_series(0::bigint, %(history)s - 1) AS s)
            INSERT INTO reservations_reservation {columns}
            SELECT eq.id, pr.id, us.id, g.start, g.start + interval '90 min',
                   g.start + interval '90 min', 'Historique ' || g.s, 1 + g.s %% 5,
                   CASE WHEN g.s %% 100 < 8 THEN 'cancelled'
                        WHEN g.s %% 100 < 10 THEN 'displaced'
                        WHEN g.s %% 100 < 11 THEN 'rejected'
                        WHEN g.s %% 100 < 16 THEN 'no_show'
                        ELSE 'completed' END,
                   pr.kind, 0, g.start - (g.s %% 72) * interval '1 hour',
                   g.start - interval '20 days', g.start - interval '20 days'
            FROM g
            JOIN eq ON eq.n = g.s %% %(eq)s
            JOIN pr ON pr.n = (g.s * 7919) %% %(projects)s
            JOIN us ON us.n = (g.s * 104729) %% %(users)s
            """,
            params,
        )
        # The report month: one reservation of 2 h per equipment per weekday, ended.
        cursor.execute(
            f"""
            WITH {numbered},
                 d AS (SELECT day, ordinality - 1 AS k
                       FROM unnest(%(month_days)s::date[]) WITH ORDINALITY AS day),
                 g AS (SELECT eq.n AS e, d.k,
                              (d.day + time '08:00' + ((eq.n + d.k) %% 5) * interval '2 hours')
                              AT TIME ZONE 'Europe/Paris' AS start
                       FROM eq CROSS JOIN d)
            INSERT INTO reservations_reservation {columns}
            SELECT eq.id, pr.id, us.id, g.start, g.start + interval '2 hours',
                   g.start + interval '2 hours', 'Mesures ' || g.e || '-' || g.k,
                   1 + (g.e + g.k) %% 4,
                   CASE WHEN (g.e * 31 + g.k) %% 20 < 2 THEN 'cancelled'
                        WHEN (g.e * 31 + g.k) %% 20 < 3 THEN 'no_show'
                        ELSE 'completed' END,
                   pr.kind, 1, g.start - ((g.e + g.k) %% 96) * interval '1 hour',
                   g.start - interval '15 days', g.start - interval '1 day'
            FROM g
            JOIN eq ON eq.n = g.e
            JOIN pr ON pr.n = (g.e * 7 + g.k) %% %(projects)s
            JOIN us ON us.n = (g.e * 13 + g.k) %% %(users)s
            """,
            params,
        )
        # The bench week: 09:00–11:00 (or 10:00–12:00) and 14:00–16:30 (or 15:00–17:30).
        cursor.execute(
            f"""
            WITH {numbered},
                 d AS (SELECT day, ordinality - 1 AS k
                       FROM unnest(%(week_days)s::date[]) WITH ORDINALITY AS day),
                 h AS (SELECT * FROM (VALUES (0, time '09:00', interval '2 hours'),
                                             (1, time '14:00', interval '150 min'))
                                 AS h(i, at, len)),
                 g AS (SELECT eq.n AS e, d.k, h.i, h.len,
                              (d.day + h.at + (eq.n %% 2) * interval '1 hour')
                              AT TIME ZONE 'Europe/Paris' AS start
                       FROM eq CROSS JOIN d CROSS JOIN h)
            INSERT INTO reservations_reservation {columns}
            SELECT eq.id, pr.id, us.id, g.start, g.start + g.len, g.start + g.len,
                   'Semaine ' || g.e || '-' || g.k || '-' || g.i, 1 + g.e %% 3,
                   CASE WHEN pr.kind = 'industrial' THEN 'pending' ELSE 'confirmed' END,
                   pr.kind, 0, g.start - interval '10 days',
                   g.start - interval '10 days', g.start - interval '10 days'
            FROM g
            JOIN eq ON eq.n = g.e
            JOIN pr ON pr.n = (g.e * 5 + g.k * 2 + g.i) %% %(projects)s
            JOIN us ON us.n = (g.e * 17 + g.k * 3 + g.i) %% %(users)s
            """,
            params,
        )
        # Check-in records of the completed reservations on check-in equipment.
        cursor.execute(
            """
            INSERT INTO reservations_usagerecord
                (reservation_id, checked_in_at, checked_in_by_id, checked_out_at,
                 checked_out_by_id)
            SELECT r.id, r.start + (r.id % 4) * interval '5 min', r.booked_by_id,
                   r."end" - (r.id % 3) * interval '10 min', r.booked_by_id
            FROM reservations_reservation r
            JOIN equipment_equipment e ON e.id = r.equipment_id
            WHERE e.requires_check_in AND r.status = 'completed'
            """
        )
        cursor.execute("SELECT count(*) FROM reservations_reservation")
        total = cursor.fetchone()[0]
    saturday = week + timedelta(days=5)
    wednesday = week + timedelta(days=2)
    Closure.objects.create(
        site=sites[0],
        start=datetime.combine(saturday, datetime.min.time(), tz).replace(hour=9),
        end=datetime.combine(saturday, datetime.min.time(), tz).replace(hour=12),
        reason="Maintenance électrique",
    )
    Closure.objects.create(
        equipment=equipment[2],
        start=datetime.combine(wednesday, datetime.min.time(), tz).replace(hour=12),
        end=datetime.combine(wednesday, datetime.min.time(), tz).replace(hour=14),
        reason="Étalonnage",
    )
    reservations = time.perf_counter() - began
    del manager
    return {"reservations": total, "inventory_s": inventory, "reservations_s": reservations}
