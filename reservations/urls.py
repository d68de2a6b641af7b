"""Booking pages (SPEC §8): planning, booking form, my reservations, approvals.

Included by platform_booking.urls under the `web` namespace, together with the closures
pages of calendars.web_urls and the equipment page (reservations.web.equipment).
"""

from django.urls import path

from .web import approvals, audit, booking, calendar_feed, mine, planning

urlpatterns = [
    path("planning/", planning.planning, name="planning"),
    path("calendar/events/", calendar_feed.events, name="calendar_events"),
    path("book/", booking.book, name="book"),
    path("book/done/", booking.book_done, name="book_done"),
    path("book/free-time/", booking.free_time, name="book_free_time"),
    path("book/term-end/", booking.term_end, name="book_term_end"),
    path("my/", mine.my_reservations, name="my"),
    path("my/partner/", mine.partner_reservations, name="my_partner"),
    path("my/<int:pk>/cancel/", mine.cancel, name="cancel"),
    path("my/<int:pk>/move/", mine.move, name="move"),
    path("my/<int:pk>/check-in/", mine.check_in, name="check_in"),
    path("my/<int:pk>/check-out/", mine.check_out, name="check_out"),
    path("manage/approvals/", approvals.approvals, name="approvals"),
    path("manage/audit/", audit.audit_page, name="audit"),
    path(
        "manage/approvals/<int:pk>/approve/",
        approvals.decide,
        {"decision": "approve"},
        name="approve",
    ),
    path(
        "manage/approvals/<int:pk>/reject/",
        approvals.decide,
        {"decision": "reject"},
        name="reject",
    ),
]
