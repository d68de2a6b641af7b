"""Load the demo data of data.py (SPEC §9).

`load_demo_data()` fills an empty database and is idempotent: every object is
looked up by its natural key first (site, category, partner and project names,
equipment code, username, user + equipment for a qualification) and only
created, through the services, when it is missing. Existing objects are never
modified, so running it twice creates nothing new.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Iterator
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.test.utils import override_settings
from django.utils import timezone

from core.roles import SYSTEM
from core.timezones import local_tz
from equipment.models import Category, Equipment, Qualification, Site
from equipment.services import category_create, equipment_create, qualification_grant, site_create
from partners.models import Partner, Project
from partners.services import partner_create, project_create
from reservations.exceptions import BookingError
from reservations.models import Reservation
from reservations.services import reservation_approve, reservation_cancel, reservation_create

from .data import (
    CANCEL_REASON,
    CATEGORIES,
    DEMO_EQUIPMENT,
    DEMO_SLOTS,
    DEMO_TITLES,
    EMAIL_DOMAIN,
    EQUIPMENT,
    EXTRA_MANAGERS,
    MANAGERS_BY_SITE,
    PARTNER_REFERENTS,
    PARTNERS,
    PROJECTS,
    QUALIFICATIONS,
    SITES,
    USERS,
)

User = get_user_model()
SILENT_EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"


def _one_year_after(day: datetime.date) -> datetime.date:
    try:
        return day.replace(year=day.year + 1)
    except ValueError:  # 29 February
        return day + datetime.timedelta(days=365)


def _users(password: str) -> dict[str, Any]:
    users = {}
    for username, first_name, last_name, is_staff, is_superuser in USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User.objects.create_user(
                username=username,
                email=f"{username}@{EMAIL_DOMAIN}",
                password=password,
                first_name=first_name,
                last_name=last_name,
                is_staff=is_staff,
                is_superuser=is_superuser,
            )
        users[username] = user
    return users


def _sites() -> dict[str, Site]:
    sites = {}
    for name, city, address in SITES:
        site = Site.objects.filter(name=name).first()
        sites[name] = site or site_create(actor=SYSTEM, name=name, city=city, address=address)
    return sites


def _categories() -> dict[str, Category]:
    categories = {}
    for name, description in CATEGORIES:
        category = Category.objects.filter(name=name).first()
        categories[name] = category or category_create(
            actor=SYSTEM, name=name, description=description
        )
    return categories


def _partners(users: dict[str, Any]) -> dict[str, Partner]:
    partners = {}
    for name, kind, rate_category in PARTNERS:
        partner = Partner.objects.filter(name=name).first()
        if partner is None:
            partner = partner_create(
                actor=SYSTEM,
                name=name,
                kind=kind,
                rate_category=rate_category,
                referents=[users[u] for u in PARTNER_REFERENTS.get(name, ())],
            )
        partners[name] = partner
    return partners


def _equipment(
    users: dict[str, Any],
    sites: dict[str, Site],
    categories: dict[str, Category],
    partners: dict[str, Partner],
) -> dict[str, Equipment]:
    equipment = {}
    for item in EQUIPMENT:
        existing = Equipment.objects.filter(code=item["code"]).first()
        if existing is not None:
            equipment[item["code"]] = existing
            continue
        teaching, academic, industrial = item["rates"]
        managers = (*MANAGERS_BY_SITE[item["site"]], *EXTRA_MANAGERS.get(item["code"], ()))
        owner = item.get("owner")
        equipment[item["code"]] = equipment_create(
            actor=SYSTEM,
            managers=[users[u] for u in managers],
            rates={"teaching": teaching, "academic": academic, "industrial": industrial},
            policy=item.get("policy"),
            code=item["code"],
            name=item["name"],
            category=categories[item["category"]],
            site=sites[item["site"]],
            room=item["room"],
            description=item["description"],
            status=item.get("status", Equipment.Status.ACTIVE),
            owner_partner=partners[owner] if owner else None,
            requires_qualification=item.get("requires_qualification", False),
            requires_check_in=item.get("requires_check_in", False),
        )
    return equipment


def _projects(
    users: dict[str, Any], partners: dict[str, Partner], today: datetime.date
) -> dict[str, Project]:
    periods = {
        "current": (today - datetime.timedelta(days=90), _one_year_after(today)),
        "ended": (today - datetime.timedelta(days=400), today - datetime.timedelta(days=30)),
    }
    projects = {}
    for name, kind, partner, leader, members, description, period in PROJECTS:
        project = Project.objects.filter(name=name).first()
        if project is None:
            active_from, active_until = periods[period]
            project = project_create(
                actor=SYSTEM,
                members=[users[u] for u in members],
                name=name,
                kind=kind,
                partner=partners[partner],
                leader=users[leader],
                description=description,
                active_from=active_from,
                active_until=active_until,
                confidential=kind == "industrial",
            )
        projects[name] = project
    return projects


def _qualifications(
    users: dict[str, Any], equipment: dict[str, Equipment], today: datetime.date
) -> None:
    granted_by = users["manager"]
    for username, codes, expired in QUALIFICATIONS:
        valid_until = today - datetime.timedelta(days=30) if expired else _one_year_after(today)
        for code in codes:
            user, item = users[username], equipment[code]
            if Qualification.objects.filter(user=user, equipment=item).exists():
                continue
            qualification_grant(
                actor=SYSTEM,
                user=user,
                equipment=item,
                valid_until=valid_until,
                granted_by=granted_by,
            )


def _reservations(
    users: dict[str, Any],
    projects: dict[str, Project],
    equipment: dict[str, Equipment],
    now: datetime.datetime,
) -> None:
    """About three months of bookings around `now`, of every kind and several statuses.

    Made through the booking service, as users would: each one is checked against the
    rules with `now` set a few days before it starts (past ones were booked back then).
    """
    if Reservation.objects.exists():
        return
    rng = random.Random(2026)  # noqa: S311 - demo data, not secrets
    tz = local_tz()
    today = now.astimezone(tz).date()
    qualified = set(
        Qualification.objects.filter(valid_until__gte=today).values_list(
            "user__username", "equipment__code"
        )
    )
    current = [p for p in projects.values() if p.active_until is None or p.active_until >= today]
    # One seeded sequence of draws makes the demo: _slots is lazy, so each booking's own
    # draws (its project, its fate) still come before the next slot's.
    for code, item, start, end in _slots(equipment, today, tz, rng):
        candidates = [
            p
            for p in current
            if not item.requires_qualification or (p.leader.username, code) in qualified
        ]
        if not candidates:
            continue
        project = rng.choice(candidates)
        booked_at = min(now, start - datetime.timedelta(days=3))
        reservation = _book(project, item, start, end, booked_at)
        if reservation is None:
            continue
        _follow_up(
            reservation,
            leader=project.leader,
            manager=users["manager"],
            roll=rng.random(),
            booked_at=booked_at,
            started=start < now,
        )


def _slots(
    equipment: dict[str, Equipment],
    today: datetime.date,
    tz: datetime.tzinfo,
    rng: random.Random,
) -> Iterator[tuple[str, Equipment, datetime.datetime, datetime.datetime]]:
    """Yield a slot on about half of the demo equipment, each weekday from 60 days before
    `today` to 30 days after."""
    for offset in range(-60, 31):
        day = today + datetime.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for code in DEMO_EQUIPMENT:
            item = equipment.get(code)
            if item is None or rng.random() < 0.45:
                continue
            first, last = rng.choice(DEMO_SLOTS)
            start = datetime.datetime.combine(day, datetime.time(first), tzinfo=tz)
            end = datetime.datetime.combine(day, datetime.time(last), tzinfo=tz)
            yield code, item, start, end


def _book(
    project: Project,
    item: Equipment,
    start: datetime.datetime,
    end: datetime.datetime,
    booked_at: datetime.datetime,
) -> Reservation | None:
    """Book as the project's leader would have at `booked_at`; None when the rules refuse."""
    try:
        outcome = reservation_create(
            user=project.leader,
            project=project,
            equipment=[item],
            start=start,
            end=end,
            title=_demo_title(project),
            expected_participants=12 if project.kind == "pedagogical" else 1,
            now=booked_at,
        )
    except BookingError:
        return None
    return outcome.reservations[0]


def _follow_up(
    reservation: Reservation,
    *,
    leader: Any,
    manager: Any,
    roll: float,
    booked_at: datetime.datetime,
    started: bool,
) -> None:
    """Cancel about one booking in twelve; approve the pending ones that have started and
    about half of the others."""
    if roll < 0.08:
        reservation_cancel(
            reservation=reservation,
            user=leader,
            now=booked_at + datetime.timedelta(days=1),
            reason=CANCEL_REASON,
        )
    elif reservation.status == "pending" and (started or roll < 0.5):
        reservation_approve(
            reservation=reservation,
            user=manager,
            now=booked_at + datetime.timedelta(hours=2),
        )


def _demo_title(project: Project) -> str:
    return f"{DEMO_TITLES[project.kind]} – {project.name.split(' – ')[0]}"


def load_demo_data(*, now: datetime.datetime, password: str) -> dict[str, int]:
    """Create whatever demo data is missing; return how many of each object now exist.

    The demo's bookings are made through the services, so they announce themselves like
    real ones, but their emails go nowhere: the demo users' addresses are made up and the
    bookings are backdated, and on the console backend of `make run` the emails of one
    load ran to 25,000 lines. They are still built, so loading does the work of real
    bookings. Emails leave after the commit, hence the swap around the whole transaction
    (inside a caller's own transaction they would wait for its commit, after the swap).
    """
    with override_settings(EMAIL_BACKEND=SILENT_EMAIL_BACKEND):
        return _load(now=now, password=password)


@transaction.atomic
def _load(*, now: datetime.datetime, password: str) -> dict[str, int]:
    today = timezone.localdate(now)
    users = _users(password)
    sites = _sites()
    categories = _categories()
    partners = _partners(users)
    equipment = _equipment(users, sites, categories, partners)
    projects = _projects(users, partners, today)
    _qualifications(users, equipment, today)
    _reservations(users, projects, equipment, now)
    return {
        "sites": Site.objects.count(),
        "categories": Category.objects.count(),
        "equipment": Equipment.objects.count(),
        "partners": Partner.objects.count(),
        "projects": Project.objects.count(),
        "users": User.objects.count(),
        "qualifications": Qualification.objects.count(),
        "reservations": Reservation.objects.count(),
    }
