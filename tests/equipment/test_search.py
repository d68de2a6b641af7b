"""The folding behind the catalogue's search (accents and case ignored), and the API's `q`."""

from __future__ import annotations

import pytest

from core.roles import SYSTEM
from equipment.models import Equipment
from equipment.selectors import equipment_list, search_key
from equipment.services import equipment_update


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Rhéomètre", "rheometre"),
        ("RHÉOMÈTRE", "rheometre"),
        ("Chaîne HPLC", "chaine hplc"),
        ("Œuf Cœur Æther", "oeuf coeur aether"),
        ("Straße", "strasse"),
        ("Ångström çà", "angstrom ca"),
        ("ﬁltre", "filtre"),  # a typographic ligature
        ("100 % _x_", "100 % _x_"),
        ("", ""),
    ],
)
def test_search_key_folds_accents_case_and_ligatures(text, folded):
    assert search_key(text) == folded


@pytest.mark.django_db
def test_search_reads_the_rows_as_they_are_now(campus):
    """Nothing derived is stored: a write that skips save() is found all the same."""
    Equipment.objects.filter(pk=campus.hplc.pk).update(name="Détecteur à barrette")
    assert list(equipment_list(q="DETECTEUR").values_list("code", flat=True)) == ["WL-HPLC-01"]


@pytest.mark.django_db
def test_search_keeps_the_site_and_category_filters(campus):
    assert list(equipment_list(q="rheo", site=campus.site.pk)) == []
    assert list(equipment_list(q="rheo", category=campus.rheo.pk)) == [campus.rheometer]
    assert list(equipment_list(q="   ")) == list(equipment_list())


@pytest.mark.django_db
def test_the_api_search_ignores_accents_too(client_for, campus):
    equipment_update(actor=SYSTEM, equipment=campus.hplc, description="Colonne très sèche")
    client = client_for(campus.teacher)
    for query in ("rheometre", "RHÉOMÈTRE"):
        body = client.get("/api/v1/equipment/", {"q": query}).json()
        results = body["results"] if isinstance(body, dict) else body
        assert [e["code"] for e in results] == ["TO-RHEO-01"]
    body = client.get("/api/v1/equipment/", {"q": "tres seche"}).json()
    results = body["results"] if isinstance(body, dict) else body
    assert [e["code"] for e in results] == ["WL-HPLC-01"]
