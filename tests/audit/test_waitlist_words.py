"""The audit page speaks of waitlist entries in words, not in codes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.utils import translation

from core.models import AuditEntry, AuditObject
from reservations.audit_text import describe

pytestmark = pytest.mark.django_db


def test_a_waitlist_entry_booked_and_one_expired_read_in_french():
    at = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    booked = AuditEntry.objects.create(
        at=at,
        object_type=AuditObject.WAITLIST_ENTRY,
        object_id=1,
        action="book",
        changes={"status": ["waiting", "booked"], "reservation": [None, 12]},
    )
    expired = AuditEntry.objects.create(
        at=at,
        object_type=AuditObject.WAITLIST_ENTRY,
        object_id=2,
        action="expire",
        changes={"status": ["waiting", "expired"], "priority": [None, "research"]},
    )
    with translation.override("fr"):
        first, second = describe([booked, expired])
        assert first.action == "réservation depuis la file d'attente"
        status = first.changes[0]
        assert (status.label, status.before, status.after) == ("statut", "en attente", "réservée")
        assert first.changes[1].label == "réservation"
        assert second.action == "expiration"
        assert [c.after for c in second.changes] == ["expirée", "recherche"]
