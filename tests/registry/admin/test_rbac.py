"""Roles: an agency admin can neither read nor change another agency's APIs, plans or grants."""

from __future__ import annotations

from typing import Any

from tests.registry.admin.conftest import World

PROBLEM = "application/problem+json"


def _forbidden(response: Any) -> None:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 403


def test_no_or_bad_token_is_401_problem(world: World) -> None:
    c = world.client
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        response = c.get("/admin/agencies", headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"].startswith("Bearer")


def test_agency_admin_sees_only_its_own_agency(world: World) -> None:
    c = world.client
    assert [a["slug"] for a in c.get("/admin/agencies", headers=world.admin_a).json()] == ["cadastre"]
    assert [a["slug"] for a in c.get("/admin/apis", headers=world.admin_a).json()] == ["addresses"]
    assert c.get("/admin/agencies/cadastre", headers=world.admin_a).status_code == 200
    _forbidden(c.get("/admin/agencies/meteo", headers=world.admin_a))
    _forbidden(c.get("/admin/apis?agency=meteo", headers=world.admin_a))
    _forbidden(c.get("/admin/agencies/meteo/apis/warnings", headers=world.admin_a))
    _forbidden(c.get("/admin/agencies/meteo/apis/warnings/versions/1.0.0", headers=world.admin_a))
    _forbidden(c.get("/admin/agencies/meteo/apis/warnings/versions/1.0.0/spec", headers=world.admin_a))


def test_agency_admin_cannot_change_another_agencys_apis(world: World) -> None:
    c = world.client
    _forbidden(c.post("/admin/agencies/meteo/apis/warnings/versions/1.0.0/deprecate", headers=world.admin_a))
    _forbidden(c.post("/admin/agencies/meteo/apis/warnings/versions/1.0.0/retire", headers=world.admin_a))
    _forbidden(c.post("/admin/agencies/meteo/apis", headers=world.admin_a, json={"spec": "{}"}))
    # Its own: allowed.
    ok = c.post("/admin/agencies/cadastre/apis/addresses/versions/1.0.0/deprecate", headers=world.admin_a)
    assert ok.status_code == 200 and ok.json()["status"] == "deprecated"


def test_agency_admin_cannot_read_or_change_another_agencys_plans(world: World) -> None:
    c = world.client
    slugs = {p["slug"] for p in c.get("/admin/plans", headers=world.admin_a).json()}
    assert slugs == {"cadastre-gold", "free"}
    _forbidden(c.get("/admin/plans/meteo-gold", headers=world.admin_a))
    _forbidden(c.patch("/admin/plans/meteo-gold", headers=world.admin_a, json={"limits": {"second": 1}}))
    _forbidden(c.patch("/admin/plans/free", headers=world.admin_a, json={"limits": {"second": 1}}))
    new = {"slug": "x", "name": "X", "agency": "meteo", "limits": {"day": 5}}
    _forbidden(c.post("/admin/plans", headers=world.admin_a, json=new))
    _forbidden(c.post("/admin/plans", headers=world.admin_a, json={**new, "agency": None}))
    own = c.post("/admin/plans", headers=world.admin_a, json={**new, "agency": "cadastre"})
    assert own.status_code == 201 and own.json()["agency"] == "cadastre"
    changed = c.patch("/admin/plans/cadastre-gold", headers=world.admin_a, json={"limits": {"minute": 7}})
    assert changed.status_code == 200 and changed.json()["limits"]["minute"] == 7


def test_agency_admin_cannot_read_or_decide_another_agencys_grants(world: World) -> None:
    c = world.client
    grants = c.get("/admin/grants", headers=world.admin_a).json()
    assert [g["id"] for g in grants] == [world.grant_a]
    decision = {"state": "approved"}
    _forbidden(c.post(f"/admin/grants/{world.grant_b}/decision", headers=world.admin_a, json=decision))
    ok = c.post(f"/admin/grants/{world.grant_a}/decision", headers=world.admin_a, json=decision)
    assert ok.status_code == 200 and ok.json()["state"] == "approved"
    still = c.get("/admin/grants?state=pending", headers=world.platform).json()
    assert [g["id"] for g in still] == [world.grant_b]


def test_agency_admin_cannot_read_audit_or_config_of_others(world: World) -> None:
    c = world.client
    c.post("/admin/agencies/meteo/apis/warnings/versions/1.0.0/deprecate", headers=world.platform)
    targets = {e["target"] for e in c.get("/admin/audit", headers=world.admin_a).json()}
    assert targets and not any("meteo" in t for t in targets)
    _forbidden(c.get("/admin/config", headers=world.admin_a))


def test_ops_reads_everything_and_changes_nothing(world: World) -> None:
    c = world.client
    assert len(c.get("/admin/agencies", headers=world.ops).json()) == 2
    assert c.get("/admin/config", headers=world.ops).status_code == 200
    _forbidden(c.post("/admin/agencies", headers=world.ops, json={"slug": "x", "name": "X"}))
    _forbidden(c.post("/admin/agencies/meteo/apis/warnings/versions/1.0.0/retire", headers=world.ops))
    _forbidden(c.patch("/admin/plans/free", headers=world.ops, json={"name": "y"}))
    _forbidden(
        c.post(f"/admin/grants/{world.grant_a}/decision", headers=world.ops, json={"state": "approved"})
    )


def test_only_platform_admin_creates_agencies(world: World) -> None:
    c = world.client
    _forbidden(c.post("/admin/agencies", headers=world.admin_a, json={"slug": "x", "name": "X"}))
    created = c.post("/admin/agencies", headers=world.platform, json={"slug": "x", "name": "X"})
    assert created.status_code == 201
    assert c.get("/admin/whoami", headers=world.admin_a).json() == {
        "name": "admin-a",
        "role": "agency-admin",
        "agencies": ["cadastre"],
    }
