"""API1:2023 Broken Object Level Authorization.

Developers: developer A, signed in to the portal, cannot see, rename, name the organisation of, delete,
issue keys for, rotate or revoke developer B's applications and keys, read B's usage, or subscribe B's
application to an API, whatever ids A tries; every attempt is answered as if the object did not exist
(404), and B's objects are unchanged afterwards.

Agencies: an agency admin cannot touch another agency's APIs, versions, plans or grants. The effects are
tests/registry/admin/test_rbac.py; here every admin route that names an agency's object is tried with
another agency's object (ids taken from the admin API's own document), as an agency admin: always 403.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer
from registry.admin.context import openapi_document
from registry.models import Application, Credential
from tests.devportal.helpers import create_app, csrf, issue_key, sign_up
from tests.registry.admin.conftest import World


def _portal(sessions: sessionmaker[Session], settings: Settings, where: Path, address: str) -> TestClient:
    app = create_portal_app(
        settings, sessions, site_dir=where / "site", mailer=OutboxMailer(where / "outbox")
    )
    return TestClient(app, base_url="http://127.0.0.1:8002", client=(address, 40000))


def test_a_developer_cannot_reach_another_developers_objects(
    sessions: sessionmaker[Session], settings: Settings, seeded: dict[str, str], tmp_path: Path
) -> None:
    outbox = tmp_path / "outbox"
    bob = _portal(sessions, settings, tmp_path, "198.51.100.1")
    sign_up(bob, outbox, "bob@example.org")
    bob_app = create_app(bob, "bobs-app")
    bob_key, _ = issue_key(bob, bob_app)
    with sessions() as session:
        bob_credential = session.scalars(select(Credential).where(Credential.application_id == bob_app)).one()
        bob_key_id = str(bob_credential.id)

    alice = _portal(sessions, settings, tmp_path, "198.51.100.2")
    sign_up(alice, outbox, "alice@example.org")
    alice_app = create_app(alice, "alices-app")
    token = csrf(alice, "/account/apps")

    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", f"/account/apps/{bob_app}", {}),
        ("POST", f"/account/apps/{bob_app}/rename", {"name": "pwned"}),
        ("POST", f"/account/apps/{bob_app}/organisation", {"organisation": "Ministry of pwn"}),
        ("POST", f"/account/apps/{bob_app}/keys", {}),
        ("POST", f"/account/keys/{bob_key_id}/rotate", {"overlap_hours": "0"}),
        ("POST", f"/account/keys/{bob_key_id}/revoke", {}),
        ("POST", f"/account/apps/{bob_app}/delete", {}),
    ]
    for method, path, form in attempts:
        response = alice.request(
            method, path, data={"csrf_token": token, **form} if method == "POST" else None
        )
        assert response.status_code == 404, f"{method} {path}: {response.status_code}"
        assert bob_key not in response.text and "bobs-app" not in response.text

    subscribe = alice.post(
        "/account/access",
        data={
            "csrf_token": csrf(alice, "/account/access"),
            "application": bob_app,
            "api": "commerce/companies",
        },
    )
    assert subscribe.status_code == 404
    usage = alice.get("/account/api/usage", headers={"accept": "application/json"}).json()
    assert all(row["application"] != "bobs-app" for row in usage["rows"])
    listed = alice.get("/account/apps").text
    assert "alices-app" in listed and "bobs-app" not in listed and bob_app not in listed

    with sessions() as session:  # nothing of Bob's changed
        app = session.get(Application, bob_app)
        assert app is not None and app.name == "bobs-app" and app.organisation == ""
        keys = session.scalars(select(Credential).where(Credential.application_id == bob_app)).all()
        assert len(keys) == 1 and keys[0].revoked_at is None and keys[0].expires_at is None
    assert re.fullmatch(r"[0-9a-f-]+", alice_app)


def test_an_agency_admin_cannot_reach_another_agencys_objects(world: World) -> None:
    """Every documented route with an agency-owned object in its path, on the other agency's object."""
    other = {"{agency}": "meteo", "{api}": "warnings", "{version}": "1.0.0", "{plan}": "meteo-gold",
             "{grant_id}": str(world.grant_b)}  # fmt: skip
    bodies = {"post": {"state": "approved", "spec": "{}", "name": "x"}, "patch": {"name": "Renamed"}}
    tried = 0
    for path, item in openapi_document()["paths"].items():
        if not any(name in path for name in other):
            continue
        for method in ("get", "post", "patch"):
            if method not in item:
                continue
            url = path
            for name, value in other.items():
                url = url.replace(name, value)
            response = world.client.request(
                method.upper(), url, headers=world.admin_a, json=bodies.get(method)
            )
            assert response.status_code == 403, f"{method.upper()} {url}: {response.status_code}"
            tried += 1
    assert tried >= 10
    still = world.client.get("/admin/agencies/meteo/apis/warnings", headers=world.platform).json()
    assert [v["status"] for v in still["versions"]] == ["published"]
    assert world.client.get("/admin/plans/meteo-gold", headers=world.platform).json()["name"] != "Renamed"
