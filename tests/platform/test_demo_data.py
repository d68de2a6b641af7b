"""The demo data command fills an empty database, and running it again changes nothing."""

import itertools
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command

from equipment.models import Category, Equipment, Qualification, Site
from notifications.models import Notification
from partners.models import Partner, Project, ProjectKind
from platform_booking.demo import DEMO_LOGINS

User = get_user_model()
MODELS = (Site, Category, Equipment, Partner, Project, User, Qualification)


def _run() -> str:
    out = StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


def _counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in MODELS}


@pytest.mark.django_db
def test_demo_data_is_idempotent():
    _run()
    first = _counts()
    _run()
    assert _counts() == first
    assert all(count > 0 for count in first.values())


@pytest.mark.django_db
def test_demo_data_content():
    output = _run()

    assert Site.objects.count() == 3
    assert 20 <= Equipment.objects.count() <= 30
    assert not Equipment.objects.filter(calendar__isnull=True).exists()
    kinds = set(Project.objects.values_list("kind", flat=True))
    assert kinds == {ProjectKind.PEDAGOGICAL, ProjectKind.RESEARCH, ProjectKind.INDUSTRIAL}
    industrial = Project.objects.filter(kind=ProjectKind.INDUSTRIAL)
    assert industrial.exists()
    assert all(project.confidential for project in industrial)
    assert Equipment.objects.filter(status=Equipment.Status.MAINTENANCE).exists()
    assert "3 sites" in output


@pytest.mark.django_db
def test_admin_logs_in_with_the_printed_default_password():
    output = _run()

    assert "demo-campus-2026" in output
    user = authenticate(username="admin", password="demo-campus-2026")
    assert user is not None
    assert user.is_superuser
    assert user.is_staff


@pytest.mark.django_db
def test_demo_reservations_cover_every_kind_and_never_overlap():
    from reservations.models import LIVE_STATUSES, Reservation

    call_command("demo_data", stdout=StringIO())
    kinds = set(Reservation.objects.values_list("priority", flat=True))
    assert kinds == {"pedagogical", "research", "industrial"}
    statuses = set(Reservation.objects.values_list("status", flat=True))
    assert {"confirmed", "pending", "cancelled"} <= statuses
    live = list(Reservation.objects.filter(status__in=LIVE_STATUSES).order_by("equipment", "start"))
    for previous, current in itertools.pairwise(live):
        if previous.equipment_id == current.equipment_id:
            assert previous.blocked_until <= current.start


# transaction=True: the loader's transaction really commits, so its emails really leave.
@pytest.mark.django_db(transaction=True)
def test_demo_data_prints_a_few_lines_ending_with_the_logins_and_no_email(settings, capsys):
    """`make run` loads the demo on the console email backend: the notifications its
    bookings cause are recorded but skipped, never printed (they once made 25,000 lines and
    hid the logins), and the worker that `make run` starts has nothing of them to send."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"

    call_command("demo_data")  # its own output and the console backend's share sys.stdout
    printed = capsys.readouterr()

    recorded = Notification.objects.values_list("status", flat=True)
    assert recorded, "the demo's bookings should still record their notifications"
    assert set(recorded) == {"skipped"}
    assert "Subject:" not in printed.out
    assert printed.err == ""
    lines = printed.out.splitlines()
    assert len(lines) == 2 + len(DEMO_LOGINS)
    assert "3 sites" in lines[0]
    assert "demo-campus-2026" in lines[1]
    assert [line.split()[0] for line in lines[2:]] == list(DEMO_LOGINS)
