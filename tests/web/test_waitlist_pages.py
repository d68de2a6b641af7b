"""The waitlist's pages (SPEC §8, §10): "join the waitlist" beside a conflict on the booking
form, the entries with their position on "my reservations" and leaving after a
confirmation, the managers' waitlist of their equipment in promotion order."""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

import pytest

from reservations.models import Reservation
from reservations.services import reservation_cancel
from waitlist.models import EntryStatus, WaitlistEntry
from waitlist.services import waitlist_join

from .conftest import NOW, WED, at
from .helpers import post

pytestmark = pytest.mark.django_db


HIDDEN = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)">')


def hidden_fields(page: str) -> list[tuple[str, str]]:
    """The hidden inputs of the "join the waitlist" form of a refusal."""
    offer = page[page.index('id="waitlist-offer"') :]
    offer = offer[: offer.index("</form>")]
    return [
        (html.unescape(name), html.unescape(value))
        for name, value in HIDDEN.findall(offer)
        if name != "csrfmiddlewaretoken"
    ]


def join(client, fields: list[tuple[str, str]]):
    """Press "join the waitlist": its hidden fields, repeated names (weekdays) kept."""
    return client.post(
        "/waitlist/join/", urlencode(fields), content_type="application/x-www-form-urlencoded"
    )


def queue(user, project, equipment, start="14:00", end="16:00", title="En attente"):
    joined = waitlist_join(
        user=user,
        project=project,
        equipment_ids=[equipment.pk],
        start=at(WED, start),
        end=at(WED, end),
        title=title,
        now=NOW,
    )
    (entry,) = joined.entries
    return entry


@pytest.fixture
def taken(qualified, book):
    """The HPLC taken on Wednesday 14:00–16:00 by the researcher."""
    book(qualified.researcher, qualified.research, qualified.hplc, WED, "14:00", "16:00")
    return qualified


def refused(client, campus, user=None, project=None, **extra):
    response = post(
        client,
        user or campus.industrial,
        campus.hplc,
        project or campus.confidential,
        WED,
        "14:30",
        "15:30",
        **extra,
    )
    assert response.status_code == 409
    return response.content.decode()


def test_a_conflict_offers_to_join_and_joining_shows_the_position(client, taken):
    page = refused(client, taken)
    assert "Rejoindre la file d'attente" in page
    fields = dict(hidden_fields(page))
    assert fields["equipment"] == str(taken.hplc.pk)
    assert fields["start"] == "2026-12-02T14:30" and fields["title"] == "Mesures de viscosité"
    response = join(client, hidden_fields(page))
    assert response.status_code == 302 and response["Location"] == "/waitlist/joined/"
    (entry,) = WaitlistEntry.objects.all()
    assert (entry.booked_by, entry.project, entry.equipment) == (
        taken.industrial,
        taken.confidential,
        taken.hplc,
    )
    assert (entry.start, entry.end) == (at(WED, "14:30"), at(WED, "15:30"))
    assert (entry.title, entry.expected_participants) == ("Mesures de viscosité", 2)
    assert entry.status == EntryStatus.WAITING
    assert Reservation.objects.count() == 1  # nothing booked
    done = client.get("/waitlist/joined/").content.decode()
    assert f'data-entry="{entry.pk}"' in done
    assert "mercredi 2 décembre 2026, 14:30–15:30" in done
    assert "rang 1 dans la file" in done
    # A teaching project comes before it: the teacher is first, the industrial second.
    page = refused(client, taken, user=taken.teacher, project=taken.teaching)
    join(client, hidden_fields(page))
    assert "rang 1 dans la file" in client.get("/waitlist/joined/").content.decode()
    client.force_login(taken.industrial)
    mine = client.get("/my/").content.decode()
    assert f'data-entry="{entry.pk}"' in mine and "n° 2" in mine


def test_no_offer_for_other_refusals(client, taken):
    response = post(client, taken.industrial, taken.hplc, taken.confidential, WED, "07:00", "08:00")
    assert response.status_code == 400 or response.status_code == 422
    assert 'id="waitlist-offer"' not in response.content.decode()


def test_a_session_in_conflict_offers_to_join_as_one_group(client, taken):
    session = post(
        client,
        taken.industrial,
        [taken.hplc, taken.rheometer],
        taken.confidential,
        WED,
        "14:30",
        "15:30",
    )
    assert session.status_code == 409
    page = session.content.decode()
    assert 'id="waitlist-offer"' in page
    assert "chacun de ses équipements" in page  # booked only all together
    fields = hidden_fields(page)
    assert sorted(v for k, v in fields if k == "equipment") == sorted(
        [str(taken.hplc.pk), str(taken.rheometer.pk)]
    )
    response = join(client, fields)
    assert response.status_code == 302 and response["Location"] == "/waitlist/joined/"
    entries = list(WaitlistEntry.objects.order_by("pk"))
    assert {e.equipment for e in entries} == {taken.hplc, taken.rheometer}
    assert len({e.group for e in entries}) == 1 and entries[0].group is not None
    assert Reservation.objects.count() == 1  # nothing booked
    group = str(entries[0].group)
    assert client.get("/waitlist/joined/").content.decode().count(f'data-group="{group}"') == 2
    mine = client.get("/my/").content.decode()
    assert mine.count(f'data-group="{group}"') == 2 and ">séance<" in mine
    # Its managers see the entry of their equipment marked as a session.
    client.force_login(taken.eq_manager)
    managed = client.get("/manage/waitlist/").content.decode()
    assert f'data-entry="{entries[0].pk}"' in managed or f'data-entry="{entries[1].pk}"' in managed
    assert f'data-group="{group}"' in managed
    # Leaving from one entry says so, and cancels both.
    client.force_login(taken.industrial)
    confirm = client.get(f"/waitlist/{entries[0].pk}/cancel/").content.decode()
    assert "chaque équipement de la séance" in confirm
    client.post(f"/waitlist/{entries[0].pk}/cancel/", {"reason": ""})
    assert set(WaitlistEntry.objects.values_list("status", flat=True)) == {EntryStatus.CANCELLED}


def test_joining_when_the_time_freed_meanwhile_books_it(client, taken):
    page = refused(client, taken)
    reservation_cancel(
        reservation=Reservation.objects.get(), user=taken.researcher, now=NOW, scope="this"
    )
    response = join(client, hidden_fields(page))
    assert response.status_code == 302 and response["Location"] == "/book/done/"
    assert not WaitlistEntry.objects.exists()
    booked = Reservation.objects.exclude(status="cancelled").get()
    assert booked.booked_by == taken.industrial and booked.start == at(WED, "14:30")


def test_a_series_books_its_free_dates_and_queues_the_taken_one(client, taken):
    page = refused(
        client, taken, frequency="weekly", repeat_end="count", count=3, expected_participants=1
    )
    response = join(client, hidden_fields(page))
    assert response["Location"] == "/waitlist/joined/"
    (entry,) = WaitlistEntry.objects.all()
    assert entry.start == at(WED, "14:30")
    assert Reservation.objects.filter(booked_by=taken.industrial).count() == 2
    done = client.get("/waitlist/joined/").content.decode()
    assert "2 dates étaient libres et sont réservées." in done


def test_a_tampered_join_is_refused_back_to_the_form(client, taken):
    page = refused(client, taken)
    fields = [(k, v) for k, v in hidden_fields(page) if k != "project"]
    response = join(client, fields)
    assert response.status_code == 302 and response["Location"].startswith("/book/?")
    assert not WaitlistEntry.objects.exists()


def test_my_page_lists_the_entry_and_cancels_it_after_a_confirmation(client, taken):
    entry = queue(taken.industrial, taken.confidential, taken.hplc)
    client.force_login(taken.industrial)
    page = client.get("/my/").content.decode()
    section = page[page.index('id="waitlist"') :]
    assert f'data-entry="{entry.pk}"' in section
    assert "mer 2 décembre 2026" in section and "14:00–16:00" in section
    assert "n° 1" in section and "En attente" in section
    assert f"/waitlist/{entry.pk}/cancel/?next=/my/%23waitlist" in section
    confirm = client.get(f"/waitlist/{entry.pk}/cancel/?next=/my/%23waitlist")
    assert confirm.status_code == 200
    text = confirm.content.decode()
    assert "Confirmer : quitter la file d'attente" in text
    assert 'name="csrfmiddlewaretoken"' in text
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WAITING  # the GET only asks
    response = client.post(
        f"/waitlist/{entry.pk}/cancel/", {"next": "/my/#waitlist", "reason": "Plus besoin"}
    )
    assert response.status_code == 302 and response["Location"] == "/my/#waitlist"
    entry.refresh_from_db()
    assert entry.status == EntryStatus.CANCELLED
    page = client.get("/my/").content.decode()
    assert "Vous n'attendez aucun créneau." in page
    assert 'id="waitlist-recent"' in page and "Annulé" in page


def test_someone_else_cannot_see_nor_cancel_an_entry(client, taken):
    entry = queue(taken.industrial, taken.confidential, taken.hplc)
    client.force_login(taken.researcher)
    assert client.get(f"/waitlist/{entry.pk}/cancel/").status_code == 404
    assert client.post(f"/waitlist/{entry.pk}/cancel/").status_code == 404
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WAITING
    assert f'data-entry="{entry.pk}"' not in client.get("/my/").content.decode()


def test_managers_page_lists_the_entries_in_promotion_order(client, taken):
    industrial = queue(taken.industrial, taken.confidential, taken.hplc, title="Lot 42")
    teaching = queue(taken.teacher, taken.teaching, taken.hplc, "15:00", "17:00", title="TP")
    client.force_login(taken.eq_manager)
    for path in ("/manage/waitlist/", f"/manage/waitlist/?equipment={taken.hplc.pk}"):
        response = client.get(path)
        assert response.status_code == 200
        page = response.content.decode()
        rows = re.findall(r'<tr data-entry="(\d+)"', page)
        assert rows == [str(teaching.pk), str(industrial.pk)]
        assert "2 demandes en attente." in page
    assert "Pédagogique" in page and "Industriel" in page
    positions = re.findall(r'class="position">(\d+)<', page)
    assert positions == ["1", "2"]
    assert 'href="/manage/waitlist/" aria-current="page"' in page  # in the managers' menu


def test_managers_page_is_for_the_managers_of_the_equipment(client, taken):
    queue(taken.industrial, taken.confidential, taken.hplc)
    client.force_login(taken.eq_manager)
    # Not an equipment they manage: 404, as an object they may not see.
    assert client.get(f"/manage/waitlist/?equipment={taken.rheometer.pk}").status_code == 404
    assert client.get("/manage/waitlist/?equipment=abc").status_code == 404
    client.force_login(taken.researcher)
    assert client.get("/manage/waitlist/").status_code == 403
    client.force_login(taken.admin)  # a platform manager: every equipment
    page = client.get(f"/manage/waitlist/?equipment={taken.rheometer.pk}").content.decode()
    assert "Personne n'attend" in page


def test_a_manager_cancels_an_entry_of_their_equipment(client, taken):
    entry = queue(taken.industrial, taken.confidential, taken.hplc)
    client.force_login(taken.eq_manager)
    confirm = client.get(f"/waitlist/{entry.pk}/cancel/?next=/manage/waitlist/")
    assert confirm.status_code == 200
    response = client.post(f"/waitlist/{entry.pk}/cancel/", {"next": "/manage/waitlist/"})
    assert response["Location"] == "/manage/waitlist/"
    entry.refresh_from_db()
    assert entry.status == EntryStatus.CANCELLED
    assert f'data-entry="{entry.pk}"' not in client.get("/manage/waitlist/").content.decode()


def test_the_join_button_in_english(client, taken):
    page = refused(client, taken, language="en")
    assert "Join the waitlist" in page and "Wait for this time" in page


def test_the_pages_ask_to_log_in(client, taken):
    entry = queue(taken.industrial, taken.confidential, taken.hplc)
    for path in ("/manage/waitlist/", "/waitlist/joined/", f"/waitlist/{entry.pk}/cancel/"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post("/waitlist/join/")["Location"].startswith("/accounts/login/")
    assert client.post(f"/waitlist/{entry.pk}/cancel/")["Location"].startswith("/accounts/")
    entry.refresh_from_db()
    assert entry.status == EntryStatus.WAITING


def test_the_managers_page_costs_the_same_queries_for_many_entries(
    client, taken, django_assert_num_queries
):
    queue(taken.industrial, taken.confidential, taken.hplc)
    client.force_login(taken.eq_manager)
    client.get("/manage/waitlist/")
    # 6 for the page, 1 for the menu's planner link (a teacher or not).
    with django_assert_num_queries(7) as few:
        client.get("/manage/waitlist/")
    for hour in ("09:00", "10:00", "11:00"):
        queue(taken.industrial, taken.confidential, taken.hplc, hour, "16:00", title=hour)
    with django_assert_num_queries(len(few.captured_queries)):
        page = client.get("/manage/waitlist/").content.decode()
    assert page.count("<tr data-entry=") == 4
