"""Managers' pages: the approvals queue and the closures page (create, delete, .ics import,
public holidays), with 403 for non-managers and 404 for what a manager does not manage."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from reservations.models import AuditEntry, Closure, Reservation
from reservations.services import closure_create

from .conftest import NOW, WED, at, local

pytestmark = pytest.mark.django_db

ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Campus//Test//FR\r
BEGIN:VEVENT\r
UID:maintenance-2026@campus.test\r
DTSTAMP:20261101T000000Z\r
DTSTART;TZID=Europe/Paris:20261202T080000\r
DTEND;TZID=Europe/Paris:20261202T190000\r
SUMMARY:Maintenance annuelle\r
END:VEVENT\r
END:VCALENDAR\r
"""
BAD_ICS = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Campus//Test//FR\r
BEGIN:VEVENT\r
UID:broken@campus.test\r
SUMMARY:Sans date\r
END:VEVENT\r
END:VCALENDAR\r
"""


@pytest.fixture
def pending(qualified, book):
    """An industrial request on the HPLC (managed by eq_manager), awaiting approval."""
    return book(
        qualified.industrial,
        qualified.confidential,
        qualified.hplc,
        WED,
        "10:00",
        "12:00",
        title="Validation lot 42",
    ).reservations[0]


@pytest.mark.parametrize("url", ["/manage/approvals/", "/manage/closures/"])
def test_manager_pages_are_forbidden_to_others(client, campus, url):
    client.force_login(campus.researcher)
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403


@pytest.mark.parametrize(
    "url",
    [
        "/manage/approvals/1/approve/",
        "/manage/approvals/1/reject/",
        "/manage/closures/1/delete/",
        "/manage/closures/import/",
        "/manage/closures/holidays/",
    ],
)
def test_manager_actions_are_forbidden_to_others(client, campus, url):
    client.force_login(campus.teacher)
    assert client.post(url).status_code == 403


def test_navigation_shows_manager_links_to_managers_only(client, campus):
    client.force_login(campus.researcher)
    page = client.get("/planning/").content.decode()
    assert 'href="/my/"' in page and 'href="/book/"' in page and 'href="/planning/"' in page
    assert 'href="/manage/approvals/"' not in page and 'href="/reports/"' not in page
    for manager in (campus.eq_manager, campus.admin):
        client.force_login(manager)
        page = client.get("/planning/").content.decode()
        assert 'href="/manage/approvals/"' in page and 'href="/manage/closures/"' in page
        assert 'href="/reports/"' in page


def test_queue_lists_pending_requests_of_managed_equipment(client, campus, pending, book):
    other = book(
        campus.industrial, campus.confidential, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    client.force_login(campus.eq_manager)
    page = client.get("/manage/approvals/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'data-reservation="{pending.pk}"' in page and "Validation lot 42" in page
    assert "Servier – validation HPLC" in page and "Wed 2 December 2026" in page
    assert f'data-reservation="{other.pk}"' not in page
    assert "1 request awaits your decision." in page
    # The platform manager sees both.
    client.force_login(campus.admin)
    page = client.get("/manage/approvals/").content.decode()
    assert f'data-reservation="{other.pk}"' in page and f'data-reservation="{pending.pk}"' in page


def test_approve(client, campus, pending):
    client.force_login(campus.eq_manager)
    response = client.post(
        f"/manage/approvals/{pending.pk}/approve/", {"reason": "OK"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302 and response["Location"] == "/manage/approvals/"
    pending.refresh_from_db()
    assert pending.status == "confirmed"
    entry = AuditEntry.objects.get(reservation=pending, action="approve")
    assert (entry.by, entry.reason) == (campus.eq_manager, "OK")
    page = client.get("/manage/approvals/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Approved: Validation lot 42." in page and "No request awaits approval." in page


def test_reject_needs_a_reason(client, campus, pending):
    client.force_login(campus.eq_manager)
    client.post(
        f"/manage/approvals/{pending.pk}/reject/", {"reason": "  "}, HTTP_ACCEPT_LANGUAGE="en"
    )
    pending.refresh_from_db()
    assert pending.status == "pending"
    page = client.get("/manage/approvals/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Give the requester a reason for the rejection. [required]" in page
    client.post(
        f"/manage/approvals/{pending.pk}/reject/", {"reason": "Créneau réservé à la maintenance"}
    )
    pending.refresh_from_db()
    assert pending.status == "rejected"
    assert AuditEntry.objects.get(reservation=pending, action="reject").reason == (
        "Créneau réservé à la maintenance"
    )


def test_deciding_on_equipment_one_does_not_manage_is_404(client, campus, book):
    other = book(
        campus.industrial, campus.confidential, campus.rheometer, WED, "10:00", "12:00"
    ).reservations[0]
    client.force_login(campus.eq_manager)
    assert client.post(f"/manage/approvals/{other.pk}/approve/").status_code == 404
    other.refresh_from_db()
    assert other.status == "pending"


def test_deciding_twice_is_404_once_no_longer_pending(client, campus, pending):
    client.force_login(campus.eq_manager)
    client.post(f"/manage/approvals/{pending.pk}/approve/")
    assert (
        client.post(f"/manage/approvals/{pending.pk}/reject/", {"reason": "x"}).status_code == 404
    )


# --- closures ------------------------------------------------------------------------------


def closure_page(client, user, **headers) -> str:
    client.force_login(user)
    response = client.get("/manage/closures/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def test_equipment_manager_closes_only_their_equipment(client, campus):
    page = closure_page(client, campus.eq_manager)
    assert f'value="equipment:{campus.hplc.pk}"' in page
    assert f'value="equipment:{campus.rheometer.pk}"' not in page
    assert 'value="all"' not in page and f'value="site:{campus.site.pk}"' not in page
    page = closure_page(client, campus.admin)
    assert 'value="all"' in page and f'value="site:{campus.site.pk}"' in page
    assert f'value="equipment:{campus.rheometer.pk}"' in page


def test_create_closure_displaces_and_lists_covered_bookings(client, campus, qualified, book):
    covered = book(
        campus.researcher,
        campus.research,
        campus.hplc,
        WED,
        "10:00",
        "12:00",
        title="Dosage couvert",
    ).reservations[0]
    client.force_login(campus.eq_manager)
    response = client.post(
        "/manage/closures/",
        {
            "target": f"equipment:{campus.hplc.pk}",
            "start": local(WED, "08:00"),
            "end": local(WED, "19:00"),
            "reason": "Changement de pompe",
            "kind": "maintenance",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    (closure,) = Closure.objects.all()
    assert (closure.equipment, closure.site, closure.start, closure.end) == (
        campus.hplc,
        None,
        at(WED, "08:00"),
        at(WED, "19:00"),
    )
    covered.refresh_from_db()
    assert covered.status == "displaced"
    page = closure_page(client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="en")
    assert "1 closure created." in page
    assert "1 reservation was displaced; its owner was notified:" in page
    assert "Dosage couvert" in page
    assert f'data-closure="{closure.pk}"' in page and "Changement de pompe" in page
    # Shown once only.
    assert "1 closure created." not in closure_page(
        client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="en"
    )


def test_closure_errors_are_shown_with_codes(client, campus):
    client.force_login(campus.eq_manager)
    response = client.post(
        "/manage/closures/",
        {
            "target": f"equipment:{campus.hplc.pk}",
            "start": local(WED, "19:00"),
            "end": local(WED, "08:00"),
            "reason": "À l'envers",
            "kind": "maintenance",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "The reservation must end after it starts. [invalid]" in response.content.decode()
    # A target the manager may not choose is a form error.
    response = client.post(
        "/manage/closures/",
        {
            "target": f"equipment:{campus.rheometer.pk}",
            "start": local(WED, "08:00"),
            "end": local(WED, "19:00"),
            "reason": "Pas à moi",
            "kind": "maintenance",
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert '<code class="code">invalid_choice</code>' in response.content.decode()
    assert not Closure.objects.exists()


def test_delete_closure(client, campus):
    closure, _ = closure_create(
        user=campus.eq_manager,
        equipment=campus.hplc,
        start=at(WED, "08:00"),
        end=at(WED, "12:00"),
        reason="Vidange",
        now=NOW,
    )
    client.force_login(campus.eq_manager)
    response = client.post(f"/manage/closures/{closure.pk}/delete/")
    assert response.status_code == 302
    assert not Closure.objects.exists()


def test_site_closures_are_listed_but_not_removable_by_equipment_managers(client, campus):
    closure, _ = closure_create(
        user=campus.admin,
        site=campus.site,
        start=at(WED, "08:00"),
        end=at(WED, "12:00"),
        reason="Coupure électrique",
        now=NOW,
    )
    page = closure_page(client, campus.eq_manager)
    assert "Coupure électrique" in page
    assert f'action="/manage/closures/{closure.pk}/delete/"' not in page
    client.post(f"/manage/closures/{closure.pk}/delete/", HTTP_ACCEPT_LANGUAGE="en")
    assert Closure.objects.filter(pk=closure.pk).exists()
    page = closure_page(client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="en")
    assert "You may not remove this closure. [permission_denied]" in page


def test_closures_of_other_sites_are_404_to_an_equipment_manager(client, campus):
    closure, _ = closure_create(
        user=campus.admin,
        equipment=campus.rheometer,
        start=at(WED, "08:00"),
        end=at(WED, "12:00"),
        reason="Autre",
        now=NOW,
    )
    assert "Autre" not in closure_page(client, campus.eq_manager)
    assert client.post(f"/manage/closures/{closure.pk}/delete/").status_code == 404


def test_ics_import_creates_closures_and_displaces(client, campus, qualified, book):
    covered = book(
        campus.researcher, campus.research, campus.hplc, WED, "10:00", "12:00"
    ).reservations[0]
    client.force_login(campus.eq_manager)
    upload = SimpleUploadedFile("calendrier.ics", ICS, content_type="text/calendar")
    response = client.post(
        "/manage/closures/import/",
        {
            "ics-target": f"equipment:{campus.hplc.pk}",
            "ics-file": upload,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    (closure,) = Closure.objects.all()
    assert (closure.reason, closure.equipment) == ("Maintenance annuelle", campus.hplc)
    assert (closure.start, closure.end) == (at(WED, "08:00"), at(WED, "19:00"))
    covered.refresh_from_db()
    assert covered.status == "displaced"
    page = closure_page(client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="en")
    assert "Imported 1 closure(s); 0 event(s) skipped." in page
    assert "1 reservation was displaced" in page


def test_bad_ics_file_lists_its_bad_entries_and_writes_nothing(client, campus):
    client.force_login(campus.eq_manager)
    upload = SimpleUploadedFile("cassé.ics", BAD_ICS, content_type="text/calendar")
    client.post(
        "/manage/closures/import/",
        {
            "ics-target": f"equipment:{campus.hplc.pk}",
            "ics-file": upload,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert not Closure.objects.exists()
    page = closure_page(client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="en")
    assert "[invalid_ics]" in page
    assert "broken@campus.test" in page


def test_ics_import_without_a_file_says_so(client, campus):
    client.force_login(campus.eq_manager)
    client.post(
        "/manage/closures/import/",
        {"ics-target": f"equipment:{campus.hplc.pk}"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = closure_page(client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="en")
    assert "Calendar file (.ics): This field is required. [required]" in page


def test_public_holidays_of_a_year(client, campus):
    client.force_login(campus.admin)
    response = client.post(
        "/manage/closures/holidays/",
        {
            "holidays-target": f"site:{campus.other_site.pk}",
            "holidays-year": 2027,
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 302
    closures = list(Closure.objects.order_by("start"))
    assert len(closures) == 11
    assert {c.site for c in closures} == {campus.other_site}
    assert closures[0].reason == "Jour de l'an" and closures[0].kind == "holiday"
    page = closure_page(client, campus.admin, HTTP_ACCEPT_LANGUAGE="en")
    assert "Public holidays of 2027: 11 closure(s) created, 0 already there." in page
    # Again: nothing new.
    client.post(
        "/manage/closures/holidays/",
        {
            "holidays-target": f"site:{campus.other_site.pk}",
            "holidays-year": 2027,
        },
    )
    assert Closure.objects.count() == 11


def test_public_holidays_with_a_bad_year(client, campus):
    client.force_login(campus.admin)
    client.post(
        "/manage/closures/holidays/",
        {"holidays-target": "all", "holidays-year": "x"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    page = closure_page(client, campus.admin, HTTP_ACCEPT_LANGUAGE="en")
    assert "Year: Enter a whole number. [invalid]" in page
    assert not Closure.objects.exists()


def test_past_closures_are_not_listed(client, campus):
    closure_create(
        user=campus.admin,
        equipment=campus.hplc,
        start=NOW - timedelta(days=3),
        end=NOW - timedelta(days=2),
        reason="Ancienne",
        now=NOW - timedelta(days=4),
    )
    assert "Ancienne" not in closure_page(client, campus.admin)
    assert not Reservation.objects.exists()


def test_an_ics_file_over_the_limit_is_refused_by_the_service(client, campus):
    client.force_login(campus.eq_manager)
    big = ICS.replace(b"END:VCALENDAR", b"X-PAD:" + b"x" * (2 * 1024 * 1024) + b"\r\nEND:VCALENDAR")
    client.post(
        "/manage/closures/import/",
        {
            "ics-target": f"equipment:{campus.hplc.pk}",
            "ics-file": SimpleUploadedFile("gros.ics", big, content_type="text/calendar"),
        },
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert not Closure.objects.exists()
    page = closure_page(client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="en")
    assert "The file is larger than 2 MB. [file_too_large]" in page


def test_manager_pages_cost_a_fixed_number_of_queries(
    client, campus, pending, book, django_assert_num_queries
):
    """However many requests wait, and with no query spent on whether a platform manager
    manages something (they manage everything)."""
    client.force_login(campus.admin)
    client.get("/manage/approvals/")  # session and language warmed up
    with django_assert_num_queries(3) as one:
        assert client.get("/manage/approvals/").status_code == 200
    book(campus.industrial, campus.confidential, campus.rheometer, WED, "14:00", "16:00")
    with django_assert_num_queries(len(one.captured_queries)):
        assert client.get("/manage/approvals/").status_code == 200
