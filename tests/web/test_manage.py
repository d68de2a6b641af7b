"""Managers' pages: the approvals queue and the closures page (create, delete, .ics import,
public holidays), with 403 for non-managers and 404 for what a manager does not manage."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from calendars.web import period_label
from reservations.models import Closure, Reservation
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
    for hours in (("14:00", "15:00"), ("16:00", "17:00")):
        book(campus.industrial, campus.confidential, campus.hplc, WED, *hours)
    page = client.get("/manage/approvals/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "3 requests await your decision." in page
    page = client.get("/manage/approvals/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "(s)" not in page
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
    entry = pending.audit.get(action="approve")
    assert (entry.by, entry.reason) == (campus.eq_manager, "OK")
    assert entry.changes == {"status": ["pending", "confirmed"]}
    page = client.get("/manage/approvals/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Approved: Validation lot 42." in page and "No request awaits approval." in page


def _row(page: str, pk: int) -> str:
    """The HTML of one request's row in the queue."""
    start = page.index(f'data-reservation="{pk}"')
    return page[start : page.index("</tr>", start)]


def test_reject_needs_a_reason(client, campus, pending, book):
    other = book(
        campus.industrial, campus.confidential, campus.hplc, WED, "14:00", "16:00"
    ).reservations[0]
    client.force_login(campus.eq_manager)
    response = client.post(
        f"/manage/approvals/{pending.pk}/reject/", {"reason": "  "}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 302
    assert response["Location"] == f"/manage/approvals/#request-{pending.pk}"
    pending.refresh_from_db()
    assert pending.status == "pending"
    page = client.get("/manage/approvals/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The error stands next to its row, not at the top of the page nor on the other row.
    refused = 'Give the requester a reason for the rejection. <code class="code">required</code>'
    assert refused in _row(page, pending.pk)
    assert 'role="alert"' in _row(page, pending.pk)
    assert f'id="request-{pending.pk}"' in page
    assert "Give the requester" not in _row(page, other.pk)
    assert page.count("Give the requester a reason") == 1
    assert '<ul class="messages">' not in page
    # Shown once.
    page = client.get("/manage/approvals/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Give the requester a reason" not in page
    client.post(
        f"/manage/approvals/{pending.pk}/reject/", {"reason": "Créneau réservé à la maintenance"}
    )
    pending.refresh_from_db()
    assert pending.status == "rejected"
    entry = pending.audit.get(action="reject")
    assert entry.reason == "Créneau réservé à la maintenance"
    assert entry.changes == {"status": ["pending", "rejected"]}


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
    assert (
        "1 reservation was cancelled because the equipment is closed; its owner was notified:"
        in page
    )
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
    assert "Imported 1 closure." in page
    assert "1 reservation was cancelled because the equipment is closed" in page


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
    assert "Public holidays of 2027: 11 closures created." in page
    # Again: nothing new.
    client.post(
        "/manage/closures/holidays/",
        {
            "holidays-target": f"site:{campus.other_site.pk}",
            "holidays-year": 2027,
        },
        HTTP_ACCEPT_LANGUAGE="en",  # the message is worded when the import runs
    )
    assert Closure.objects.count() == 11
    page = closure_page(client, campus.admin, HTTP_ACCEPT_LANGUAGE="en")
    assert "Public holidays of 2027: 0 closures created. 11 were already there." in page


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


def test_the_field_of_what_to_close_says_so(client, campus):
    page = closure_page(client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="en")
    assert '<label for="id_target">What to close</label>' in page
    assert '<label for="id_ics-target">What to close</label>' in page
    assert "What is closed" in page  # the list's column
    assert ">Closes<" not in page
    page = closure_page(client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="fr")
    assert ">Ferme<" not in page and "Ferme</label>" not in page


def test_whole_days_are_listed_as_dates_and_times_otherwise(client, campus):
    days = [
        closure_create(
            user=campus.admin,
            equipment=campus.hplc,
            start=at(first, "00:00"),
            end=at(after, "00:00"),
            reason=reason,
            now=NOW,
        )[0]
        for first, after, reason in [
            (date(2026, 12, 24), date(2026, 12, 27), "Fermeture de Noël"),
            (date(2027, 1, 1), date(2027, 1, 2), "Jour de l'an"),
        ]
    ]
    hours, _ = closure_create(
        user=campus.admin,
        equipment=campus.hplc,
        start=at(WED, "08:00"),
        end=at(WED, "12:00"),
        reason="Vidange",
        now=NOW,
    )
    page = closure_page(client, campus.admin, HTTP_ACCEPT_LANGUAGE="fr")
    assert "00:00" not in page
    assert "24/12/2026 → 26/12/2026" in page
    assert "1 janvier 2027" in page
    assert "2 décembre 2026, 08:00–12:00" in page
    assert len(days) == 2 and f'data-closure="{hours.pk}"' in page
    page = closure_page(client, campus.admin, HTTP_ACCEPT_LANGUAGE="en")
    assert "Jan. 1, 2027" in page and "12/24/2026 → 12/26/2026" in page


def test_a_closure_across_days_keeps_its_times(client, campus):
    closure_create(
        user=campus.admin,
        equipment=campus.hplc,
        start=at(WED, "18:00"),
        end=at(WED + timedelta(days=2), "09:30"),
        reason="Déménagement",
        now=NOW,
    )
    page = closure_page(client, campus.admin, HTTP_ACCEPT_LANGUAGE="fr")
    assert "02/12/2026 18:00 → 04/12/2026 09:30" in page


def test_the_list_names_the_source_not_the_ics_uid(client, campus):
    client.force_login(campus.eq_manager)
    upload = SimpleUploadedFile("calendrier.ics", ICS, content_type="text/calendar")
    client.post(
        "/manage/closures/import/",
        {"ics-target": f"equipment:{campus.hplc.pk}", "ics-file": upload},
    )
    closure_create(
        user=campus.eq_manager,
        equipment=campus.hplc,
        start=at(WED + timedelta(days=1), "08:00"),
        end=at(WED + timedelta(days=1), "12:00"),
        reason="Vidange",
        now=NOW,
    )
    client.force_login(campus.admin)
    client.post(
        "/manage/closures/holidays/",
        {"holidays-target": f"site:{campus.site.pk}", "holidays-year": 2027},
    )
    assert Closure.objects.filter(source__startswith="ics:").exists()
    page = closure_page(client, campus.admin, HTTP_ACCEPT_LANGUAGE="en")
    assert "maintenance-2026@campus.test" not in page and "ics:" not in page
    assert "holiday:2027" not in page
    assert "Imported (.ics)" in page and "Public holiday" in page and "Entered by hand" in page


def test_a_file_that_is_not_a_calendar_is_refused_in_the_readers_words(client, campus):
    client.force_login(campus.eq_manager)
    upload = SimpleUploadedFile(
        "notes.txt", b"Liste de courses\nlait, oeufs\n", content_type="text/plain"
    )
    client.post(
        "/manage/closures/import/",
        {"ics-target": f"equipment:{campus.hplc.pk}", "ics-file": upload},
        HTTP_ACCEPT_LANGUAGE="fr",
    )
    assert not Closure.objects.exists()
    page = closure_page(client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="fr")
    assert "Ce n&#x27;est pas un fichier iCalendar : aucun VCALENDAR trouvé. [invalid_ics]" in page
    # Nothing of the parser's own English words.
    assert "parent component" not in page and "Content line" not in page


def test_closures_page_says_cancelled_as_the_emails_do(
    client, campus, qualified, book, django_capture_on_commit_callbacks
):
    campus.researcher.email = "chercheur@campus.test"
    campus.researcher.save()
    book(campus.researcher, campus.research, campus.hplc, WED, "10:00", "12:00")
    page = closure_page(client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="en")
    assert "cancelled because the equipment is closed" in page
    assert "are displaced" not in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/manage/closures/",
            {
                "target": f"equipment:{campus.hplc.pk}",
                "start": local(WED, "08:00"),
                "end": local(WED, "19:00"),
                "reason": "Panne",
                "kind": "maintenance",
            },
        )
    page = closure_page(client, campus.eq_manager, HTTP_ACCEPT_LANGUAGE="en")
    assert "1 reservation was cancelled because the equipment is closed" in page
    assert "was displaced" not in page
    # The booker is told the same (in their language, French by default).
    (email,) = [m for m in mail.outbox if m.to == ["chercheur@campus.test"]]
    assert "Réservation annulée : l'équipement est fermé" in email.subject


@pytest.mark.parametrize(
    ("first", "after", "label"),
    [
        # Whole local days across the daylight-saving changes (23 and 25 hour days).
        (date(2027, 3, 28), date(2027, 3, 29), "28 mars 2027"),
        (date(2027, 3, 27), date(2027, 3, 30), "27/03/2027 → 29/03/2027"),
        (date(2026, 10, 25), date(2026, 10, 26), "25 octobre 2026"),
    ],
)
def test_whole_days_read_as_dates_across_daylight_saving(first, after, label):
    with translation.override("fr"):
        assert period_label(at(first, "00:00"), at(after, "00:00")) == label
