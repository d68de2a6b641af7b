"""The error catalogue: every code has a status and words, in French and English."""

import pytest
from django.utils import translation

from core.errors import CATALOGUE, DomainError, code_of, words
from reservations.rules import ORDER


def test_every_rule_of_spec_section_3_has_an_entry():
    assert set(ORDER) <= set(CATALOGUE)


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_every_entry_has_a_status_and_translated_words(key):
    entry = CATALOGUE[key]
    assert entry.status in (400, 401, 403, 404, 405, 409, 413, 429, 500, 503)
    params = {"n": 30, "days": 14, "q": "10", "first": 1900, "last": 2200, "size": 2}
    params |= {"years": "2031", "choices": "partner", "count": 2, "max": 5000, "error": "x"}
    params |= {"time": "2027-03-28T02:30:00", "tz": "Europe/Paris", "day": "31 August 2028"}
    params |= {"ids": "12, 13", "extensions": ".pdf, .docx"}
    with translation.override("en"):
        english = words(key, params)
    with translation.override("fr"):
        french = words(key, params)
    assert english and french
    assert french != english, f"{key} has no French words"


def test_a_key_names_its_code_status_and_words():
    with translation.override("en"):
        error = DomainError("permission_denied.cancel")
    assert (error.code, error.status) == ("permission_denied", 403)
    assert error.message == "You may not cancel this reservation."
    assert error.body() == {"code": "permission_denied", "detail": error.message}


def test_parameters_and_extra_fields_reach_the_body():
    with translation.override("en"):
        error = DomainError("too_short", params={"n": 45}, fields={"end": ["x"]})
    assert error.body() == {
        "code": "too_short",
        "detail": "A reservation lasts at least 45 minutes.",
        "fields": {"end": ["x"]},
    }


def test_conflicts_answer_409_and_rules_400():
    assert DomainError("conflict").status == 409
    assert DomainError("conflict.series").code == "conflict"
    assert DomainError("too_late", params={"n": 60}).status == 400


def test_an_unknown_key_is_a_programming_error():
    with pytest.raises(KeyError):
        DomainError("no_such_code")
    assert code_of("invalid_ics.no_event") == "invalid_ics"
