"""Helpers of the booking page tests (tests/web/test_booking*.py): post the form, read the
confirmation, read the ticked equipment."""

from __future__ import annotations

import re
from datetime import date

from .conftest import local


def post(client, user, equipment, project, day: date, start: str, end: str, **extra):
    client.force_login(user)
    items = equipment if isinstance(equipment, list) else [equipment]
    data = {
        "equipment": [e.pk for e in items],
        "project": project.pk,
        "start": local(day, start),
        "end": local(day, end),
        "title": "Mesures de viscosité",
        "expected_participants": 2,
        "repeat_end": "until",
        **extra,
    }
    headers = {"HTTP_ACCEPT_LANGUAGE": extra.pop("language")} if "language" in extra else {}
    data.pop("language", None)
    return client.post("/book/", data, **headers)


def done(client, **headers) -> str:
    response = client.get("/book/done/", **headers)
    assert response.status_code == 200
    return response.content.decode()


def ticked(page: str) -> list[str]:
    """The equipment checkboxes ticked on the booking form."""
    return re.findall(r'name="equipment" value="(\d+)" id="id_equipment_\d+" checked>', page)
