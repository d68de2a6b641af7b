"""Sites, categories, partners and equipment through the API, with SPEC §6 permissions."""

from __future__ import annotations

import pytest

from equipment.models import Equipment

pytestmark = pytest.mark.django_db


def test_everyone_logged_in_reads_the_inventory(client_for, campus):
    response = client_for(campus.outsider).get("/api/v1/equipment/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert {"count", "next", "previous", "results"} <= set(body)
    hplc = next(e for e in body["results"] if e["code"] == "WL-HPLC-01")
    assert set(hplc) >= {
        "id",
        "code",
        "name",
        "category",
        "site",
        "room",
        "description",
        "status",
        "owner_partner",
        "requires_qualification",
        "requires_check_in",
        "managers",
        "rates",
        "policy",
    }
    assert hplc["managers"] == [campus.eq_manager.pk]
    assert hplc["rates"] == {"teaching": 5.0, "academic": 30.0, "industrial": 120.0}
    assert hplc["policy"]["granularity_minutes"] == 15
    assert hplc["policy"]["horizon_days"] == {"pedagogical": 365, "research": 60, "industrial": 30}


@pytest.mark.parametrize(
    ("query", "codes"),
    [
        ("q=rhéomètre", ["TO-RHEO-01"]),
        ("q=hplc", ["WL-HPLC-01"]),
        ("q=crèmes", ["TO-RHEO-01"]),
        ("q=nothing-like-this", []),
    ],
)
def test_equipment_search(client_for, campus, query, codes):
    response = client_for(campus.teacher).get(f"/api/v1/equipment/?{query}")
    assert [e["code"] for e in response.json()["results"]] == codes


def test_equipment_filters_by_site_and_category(client_for, campus):
    client = client_for(campus.teacher)
    by_site = client.get(f"/api/v1/equipment/?site={campus.other_site.pk}").json()
    assert [e["code"] for e in by_site["results"]] == ["TO-RHEO-01"]
    by_category = client.get(f"/api/v1/equipment/?category={campus.chroma.pk}").json()
    assert [e["code"] for e in by_category["results"]] == ["WL-HPLC-01"]
    bad = client.get("/api/v1/equipment/?site=abc")
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"


def test_platform_manager_creates_equipment_with_calendar_rates_and_policy(client_for, campus):
    response = client_for(campus.admin).post(
        "/api/v1/equipment/",
        {
            "code": "WL-LYO-01",
            "name": "Lyophilisateur",
            "category": campus.chroma.pk,
            "site": campus.site.pk,
            "rates": {"academic": "42.50"},
            "policy": {"buffer_minutes": 30, "horizon_days": {"research": 90}},
            "managers": [campus.eq_manager.pk],
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["rates"] == {"teaching": 0.0, "academic": 42.5, "industrial": 0.0}
    assert body["policy"]["buffer_minutes"] == 30
    assert body["policy"]["horizon_days"] == {"pedagogical": 365, "research": 90, "industrial": 30}
    equipment = Equipment.objects.get(code="WL-LYO-01")
    assert equipment.calendar is not None
    assert equipment.calendar.slug.startswith("wl-lyo-01")


def test_duplicate_code_is_refused(client_for, campus):
    response = client_for(campus.admin).post(
        "/api/v1/equipment/",
        {
            "code": "WL-HPLC-01",
            "name": "Doublon",
            "category": campus.chroma.pk,
            "site": campus.site.pk,
        },
        format="json",
    )
    assert response.status_code == 400
    assert "code" in response.json()["fields"]


def test_non_manager_cannot_write_inventory(client_for, campus):
    client = client_for(campus.researcher)
    assert (
        client.post("/api/v1/sites/", {"name": "X", "city": "Y"}, format="json").status_code == 403
    )
    assert client.post("/api/v1/categories/", {"name": "X"}, format="json").status_code == 403
    assert (
        client.post(
            "/api/v1/partners/",
            {"name": "X", "kind": "company", "rate_category": "industrial"},
            format="json",
        ).status_code
        == 403
    )
    response = client.post(
        "/api/v1/equipment/",
        {"code": "X-1", "name": "X", "category": campus.chroma.pk, "site": campus.site.pk},
        format="json",
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    patch = client.patch(f"/api/v1/equipment/{campus.hplc.pk}/", {"name": "Renamed"}, format="json")
    assert patch.status_code == 403
    assert Equipment.objects.get(pk=campus.hplc.pk).name == "Chaîne HPLC Agilent 1260"


def test_equipment_manager_edits_policy_of_their_equipment_only(client_for, campus):
    client = client_for(campus.eq_manager)
    response = client.patch(
        f"/api/v1/equipment/{campus.hplc.pk}/",
        {"policy": {"buffer_minutes": 15}, "status": "maintenance"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["policy"]["buffer_minutes"] == 15
    assert response.json()["status"] == "maintenance"
    other = client.patch(
        f"/api/v1/equipment/{campus.rheometer.pk}/",
        {"policy": {"buffer_minutes": 15}},
        format="json",
    )
    assert other.status_code == 403
    managers = client.patch(
        f"/api/v1/equipment/{campus.hplc.pk}/", {"managers": [campus.outsider.pk]}, format="json"
    )
    assert managers.status_code == 403


def test_policy_partial_update_keeps_other_overrides_and_null_resets(client_for, campus):
    client = client_for(campus.admin)
    url = f"/api/v1/equipment/{campus.hplc.pk}/"
    client.patch(url, {"policy": {"buffer_minutes": 15, "min_notice_minutes": 120}}, format="json")
    client.patch(url, {"policy": {"weekly_quota_hours": {"industrial": 10}}}, format="json")
    policy = client.get(url).json()["policy"]
    assert (policy["buffer_minutes"], policy["min_notice_minutes"]) == (15, 120)
    assert policy["weekly_quota_hours"] == {"research": None, "industrial": 10}
    client.patch(url, {"policy": {"buffer_minutes": None}}, format="json")
    policy = client.get(url).json()["policy"]
    assert (policy["buffer_minutes"], policy["min_notice_minutes"]) == (0, 120)


def test_invalid_policy_is_a_400_naming_the_setting_and_writes_nothing(client_for, campus):
    url = f"/api/v1/equipment/{campus.hplc.pk}/"
    response = client_for(campus.admin).patch(
        url, {"name": "Renamed", "policy": {"granularity_minutes": 7}}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert "policy.granularity_minutes" in response.json()["fields"]
    campus.hplc.refresh_from_db()
    assert campus.hplc.name == "Chaîne HPLC Agilent 1260"
    assert campus.hplc.policy_overrides == {}


def test_opening_hours_with_24_00_end(client_for, campus):
    response = client_for(campus.admin).patch(
        f"/api/v1/equipment/{campus.hplc.pk}/",
        {"policy": {"opening_hours": {"sat": [["00:00", "24:00"]]}}},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["policy"]["opening_hours"]["sat"] == [["00:00", "24:00"]]


def test_negative_rate_is_refused(client_for, campus):
    response = client_for(campus.admin).patch(
        f"/api/v1/equipment/{campus.hplc.pk}/", {"rates": {"industrial": -3}}, format="json"
    )
    assert response.status_code == 400
    assert "rates.industrial" in response.json()["fields"]


def test_platform_manager_writes_partner_with_referents(client_for, campus):
    client = client_for(campus.admin)
    response = client.post(
        "/api/v1/partners/",
        {
            "name": "L'Oréal",
            "kind": "company",
            "rate_category": "industrial",
            "referents": [campus.industrial.pk],
        },
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["referents"] == [campus.industrial.pk]
    partner_id = response.json()["id"]
    response = client.patch(f"/api/v1/partners/{partner_id}/", {"referents": []}, format="json")
    assert response.json()["referents"] == []


def test_delete_is_not_offered(client_for, campus):
    response = client_for(campus.admin).delete(f"/api/v1/sites/{campus.site.pk}/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


def test_who_may_not_write_gets_403_before_the_body_or_id_is_read(client_for, campus):
    client = client_for(campus.eq_manager)
    refusals = [
        client.post("/api/v1/sites/", {}, format="json"),
        client.patch("/api/v1/sites/999999/", {"city": "Blois"}, format="json"),
        client.post("/api/v1/categories/", {}, format="json"),
        client.patch("/api/v1/categories/999999/", {"name": "X"}, format="json"),
        client.post("/api/v1/partners/", {"kind": "nope"}, format="json"),
        client.patch("/api/v1/partners/999999/", {"name": "X"}, format="json"),
        client.post("/api/v1/equipment/", {"code": ""}, format="json"),
        client.patch(
            f"/api/v1/equipment/{campus.rheometer.pk}/", ["not", "an", "object"], format="json"
        ),
        client.patch(f"/api/v1/equipment/{campus.hplc.pk}/", {"managers": [999999]}, format="json"),
    ]
    assert [(r.status_code, r.json()["code"]) for r in refusals] == [
        (403, "permission_denied")
    ] * len(refusals)
