"""Applications and keys from the portal: create, rename, delete; issue, rotate with overlap, revoke."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.settings import Settings
from registry.models import Application, Credential
from registry.secrets import verify
from tests.devportal.helpers import create_app, csrf, issue_key, sign_up


def test_create_issue_key_shown_once_with_a_ready_first_call(
    client: TestClient, outbox: Path, sessions: sessionmaker[Session], settings: Settings
) -> None:
    sign_up(client, outbox, "dev@example.org")
    app_id = create_app(client, "weather-app")
    secret, curl = issue_key(client, app_id)
    with sessions() as session:
        stored = session.scalar(select(Credential).where(Credential.application_id == app_id))
        assert stored is not None and verify(settings.hmac_key, secret, stored.digest)
        assert session.get(Application, app_id) is not None
    # The first call to paste names the gateway, a data call of a key API (not its health check) and
    # the key itself.
    assert curl.startswith("curl -sS http://127.0.0.1:8000/commerce/companies/v1/companies")
    assert "/health" not in curl
    assert f"apikey: {secret}" in curl.replace("&#39;", "'")
    # Never shown again: the application page lists the prefix only.
    page = client.get(f"/account/apps/{app_id}").text
    assert stored.prefix in page and secret not in page


def test_rotate_keeps_the_old_key_for_the_overlap_then_revoke(
    client: TestClient, outbox: Path, sessions: sessionmaker[Session]
) -> None:
    sign_up(client, outbox, "dev@example.org")
    app_id = create_app(client)
    issue_key(client, app_id)
    with sessions() as session:
        old = session.scalar(select(Credential).where(Credential.application_id == app_id))
        assert old is not None
    token = csrf(client, "/account/apps")
    page = client.post(
        f"/account/keys/{old.id}/rotate", data={"csrf_token": token, "overlap_hours": "2"}
    ).text
    assert f"The previous key <code>{old.prefix}</code> keeps working until" in page
    with sessions() as session:
        rows = list(session.scalars(select(Credential).where(Credential.application_id == app_id)))
        before = {r.id: r for r in rows}
        assert before[old.id].expires_at is not None and len(rows) == 2
        new = next(r for r in rows if r.id != old.id)
        assert new.rotated_from_id == old.id
    response = client.post(f"/account/keys/{new.id}/revoke", data={"csrf_token": token})
    assert response.status_code == 200 and "Key revoked" in response.text
    with sessions() as session:
        revoked = session.get(Credential, new.id)
        assert revoked is not None and revoked.revoked_at is not None


def test_rename_and_delete(client: TestClient, outbox: Path, sessions: sessionmaker[Session]) -> None:
    sign_up(client, outbox, "dev@example.org")
    app_id = create_app(client, "first-name")
    token = csrf(client, "/account/apps")
    renamed = client.post(f"/account/apps/{app_id}/rename", data={"csrf_token": token, "name": "second-name"})
    assert "Application second-name" in renamed.text
    issue_key(client, app_id)
    deleted = client.post(f"/account/apps/{app_id}/delete", data={"csrf_token": token})
    assert deleted.url.path == "/account/apps" and "second-name" not in deleted.text.split("<main")[1]
    with sessions() as session:
        assert session.get(Application, app_id) is None
        assert session.scalar(select(Credential).where(Credential.application_id == app_id)) is None


def test_someone_elses_application_is_not_found(
    client: TestClient, outbox: Path, seeded: dict[str, str]
) -> None:
    sign_up(client, outbox, "dev@example.org")
    other = seeded["demo_application_id"]  # the demo developer's
    assert client.get(f"/account/apps/{other}").status_code == 404
    token = csrf(client, "/account/apps")
    assert client.post(f"/account/apps/{other}/delete", data={"csrf_token": token}).status_code == 404
    assert client.post(f"/account/apps/{other}/keys", data={"csrf_token": token}).status_code == 404


def test_application_names_are_escaped(client: TestClient, outbox: Path) -> None:
    sign_up(client, outbox, "dev@example.org")
    create_app(client, "<script>alert(1)</script>")
    page = client.get("/account/apps").text
    assert "<script>alert(1)</script>" not in page
    assert re.search(r"&lt;script&gt;alert\(1\)&lt;/script&gt;", page)
