"""API3:2023 Broken Object Property Level Authorization (mass assignment, and properties shown).

Admin API: bodies are checked against the document's schema and every property it does not declare is
dropped (registry/admin/context.py `json_body`), so a caller cannot set ids, owners, states or dates by
adding them. Portal: forms read only their named fields. And no answer shows a secret's digest to a role
that has no use for it.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer
from registry.models import Agency, Application, Developer, Plan
from tests.devportal.helpers import PASSWORD, create_app, csrf, sign_up
from tests.registry.admin.conftest import World


def test_admin_bodies_ignore_properties_the_caller_may_not_set(
    world: World, sessions: sessionmaker[Session]
) -> None:
    c = world.client
    created = c.post(
        "/admin/agencies",
        headers=world.platform,
        json={"slug": "newcomer", "name": "Newcomer", "id": 1, "created_at": "2000-01-01T00:00:00Z",
              "members": ["intruder@example.org"], "admins": ["intruder"]},
    )  # fmt: skip
    assert created.status_code == 201
    body = created.json()
    assert "members" not in body and "admins" not in body and body.get("created_at") != "2000-01-01T00:00:00Z"
    # An agency admin renaming its plan cannot move it to another agency, rename its slug or widen its scope.
    patched = c.patch(
        "/admin/plans/cadastre-gold",
        headers=world.admin_a,
        json={"name": "Gold", "agency": "meteo", "slug": "stolen", "id": 1, "public": True},
    )
    assert patched.status_code == 200
    assert patched.json()["agency"] == "cadastre" and patched.json()["slug"] == "cadastre-gold"
    # A decision cannot switch the grant's plan or application.
    decided = c.post(
        f"/admin/grants/{world.grant_a}/decision",
        headers=world.admin_a,
        json={"state": "approved", "plan": "meteo-gold", "application": "else", "api": "meteo/warnings"},
    )
    assert decided.status_code == 200
    assert decided.json()["plan"] == "cadastre-gold" and decided.json()["api"] == "cadastre/addresses"
    with sessions() as session:
        plan = session.scalars(select(Plan).where(Plan.slug == "cadastre-gold")).one()
        cadastre = session.scalars(select(Agency).where(Agency.slug == "cadastre")).one()
        assert plan.agency_id == cadastre.id
        assert session.scalars(select(Plan).where(Plan.slug == "stolen")).first() is None


def test_the_agency_in_the_path_decides_not_the_body(world: World) -> None:
    spec = (
        '{"openapi": "3.0.3", "info": {"title": "Moved", "version": "1.0.0"}, "paths": {"/x": {"get": '
        '{"operationId": "x", "responses": {"200": {"description": "ok"}}}}}}'
    )
    response = world.client.post(
        "/admin/agencies/cadastre/apis",
        headers=world.admin_a,
        json={"spec": spec, "upstream": "https://api.example.gov", "api": "moved", "agency": "meteo",
              "status": "retired", "findings": []},
    )  # fmt: skip
    assert response.status_code == 201
    assert response.json()["api"]["agency"] == "cadastre"
    assert response.json()["version"]["status"] == "published"


def test_tokens_and_digests_are_never_shown_to_agency_admins(world: World) -> None:
    paths = (
        "/admin/whoami",
        "/admin/agencies",
        "/admin/apis",
        "/admin/plans",
        "/admin/grants",
        "/admin/audit",
    )
    for path in paths:
        text = world.client.get(path, headers=world.admin_a).text
        assert '"digest":' not in text, path
        assert "agoradm_" not in text, path


def _portal(sessions: sessionmaker[Session], settings: Settings, where: Path) -> TestClient:
    mailer = OutboxMailer(where / "outbox")
    return TestClient(create_portal_app(settings, sessions, site_dir=where / "site", mailer=mailer))


def test_portal_forms_ignore_fields_they_do_not_ask_for(
    sessions: sessionmaker[Session], settings: Settings, seeded: dict[str, str], tmp_path: Path
) -> None:
    portal = _portal(sessions, settings, tmp_path)
    # A sign-up that claims to be verified and an admin is neither.
    response = portal.post(
        "/account/signup",
        data={"csrf_token": csrf(portal), "email": "claims@example.org", "password": PASSWORD,
              "email_verified_at": "2020-01-01", "verified": "true", "is_admin": "true", "role": "admin"},
    )  # fmt: skip
    assert response.status_code == 200
    with sessions() as session:
        developer = session.scalars(select(Developer).where(Developer.email == "claims@example.org")).one()
        assert developer.email_verified_at is None
    form = {
        "csrf_token": csrf(portal, "/account/signin"),
        "email": "claims@example.org",
        "password": PASSWORD,
    }
    signin = portal.post("/account/signin", data=form)
    assert signin.url.path != "/account/", "an unverified account does not get in"

    sign_up(portal, tmp_path / "outbox", "chooser@example.org")
    app_id = create_app(portal, "chooser-app")
    extra = portal.post(
        "/account/apps",
        data={"csrf_token": csrf(portal, "/account/apps"), "name": "gold-app", "plan": "meteo-partners",
              "plan_id": "1", "developer_id": "1"},
    )  # fmt: skip
    assert extra.status_code == 200
    with sessions() as session:
        mine = session.get(Application, app_id)
        gold = session.scalars(select(Application).where(Application.name == "gold-app")).one()
        assert mine is not None and gold.plan_id == mine.plan_id, "the default plan, not the asked one"
        assert gold.developer_id == mine.developer_id, "owned by whoever is signed in"
