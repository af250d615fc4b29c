"""Applications through the admin API (platform admins): created with the organisation they act for,
which an operator may correct; the grant JSON carries it to the agency."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from registry.models import Application
from tests.registry.admin.conftest import World

PROBLEM = "application/problem+json"


def test_create_and_patch_an_applications_organisation(world: World, sessions: sessionmaker[Session]) -> None:
    c = world.client
    body = {
        "developer": "dev@example.org",
        "name": "Housing checks",
        "plan": "free",
        "organisation": " Acme Ltd ",
    }
    created = c.post("/admin/applications", headers=world.platform, json=body)
    assert created.status_code == 201, created.text
    app = created.json()
    assert (app["name"], app["organisation"], app["developer"]) == (
        "Housing checks",
        "Acme Ltd",
        "dev@example.org",
    )
    patched = c.patch(
        f"/admin/applications/{app['id']}", headers=world.platform, json={"organisation": "Acme SA"}
    )
    assert patched.status_code == 200 and patched.json()["organisation"] == "Acme SA"
    renamed = c.patch(f"/admin/applications/{app['id']}", headers=world.platform, json={"name": "Checks"})
    assert renamed.json()["name"] == "Checks" and renamed.json()["organisation"] == "Acme SA"
    with sessions() as session:
        row = session.get(Application, app["id"])
        assert row is not None and row.organisation == "Acme SA"
    # The world's grants are the first application's; its organisation shows in them (empty: none).
    assert all(g["organisation"] == "" for g in c.get("/admin/grants", headers=world.platform).json())


def test_refusals_are_problems(world: World, sessions: sessionmaker[Session]) -> None:
    c = world.client
    long = c.post(
        "/admin/applications",
        headers=world.platform,
        json={"developer": "dev@example.org", "name": "x", "plan": "free", "organisation": "o" * 201},
    )
    assert long.status_code == 422 and long.headers["content-type"] == PROBLEM
    assert long.json()["detail"].startswith("request body at /organisation:")
    unknown = c.post(
        "/admin/applications",
        headers=world.platform,
        json={"developer": "nobody@example.org", "name": "x", "plan": "free"},
    )
    assert unknown.status_code == 404 and "nobody@example.org" in unknown.json()["detail"]
    missing = c.patch("/admin/applications/nope", headers=world.platform, json={"organisation": "x"})
    assert missing.status_code == 404 and missing.json()["detail"] == "application nope does not exist"
    with sessions() as session:
        app_id = session.scalars(select(Application.id)).one()
    for headers in (world.admin_a, world.ops):
        refused = c.patch(f"/admin/applications/{app_id}", headers=headers, json={"organisation": "Ministry"})
        assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    with sessions() as session:
        assert session.scalars(select(Application.organisation)).one() == ""
