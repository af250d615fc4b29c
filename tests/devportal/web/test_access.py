"""Access: key APIs at once, restricted APIs through the agency console (decision audited, emailed)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from examples.portal_seed import DEMO_AGENCY_ADMIN
from registry.models import AccessGrant, AuditEvent, GrantState
from tests.devportal.helpers import create_app, csrf, mails, sign_in, sign_up

JUSTIFICATION = "Flood alerts for the municipal emergency service"


def _request(client: TestClient, app_id: str, api: str, plan: str, justification: str = "") -> str:
    data = {"csrf_token": csrf(client, "/account/access"), "application": app_id, "api": api, "plan": plan}
    response = client.post("/account/access", data={**data, "justification": justification})
    return response.text


def test_key_api_subscription_is_approved_at_once(
    client: TestClient, outbox: Path, sessions: sessionmaker[Session]
) -> None:
    sign_up(client, outbox, "dev@example.org")
    app_id = create_app(client)
    page = _request(client, app_id, "commerce/companies", "free")
    assert "Access to commerce/companies granted" in page
    with sessions() as session:
        grant = session.scalar(select(AccessGrant).where(AccessGrant.application_id == app_id))
        assert grant is not None and grant.state is GrantState.APPROVED


def test_restricted_request_needs_a_justification(client: TestClient, outbox: Path) -> None:
    sign_up(client, outbox, "dev@example.org")
    app_id = create_app(client)
    page = _request(client, app_id, "meteo/warnings", "meteo-partners", "x")
    assert "10 characters or more" in page


def test_agency_admin_approves_and_the_developer_is_emailed(
    client: TestClient, outbox: Path, sessions: sessionmaker[Session], seeded: dict[str, str]
) -> None:
    sign_up(client, outbox, "dev@example.org")
    app_id = create_app(client, "flood-alerts")
    page = _request(client, app_id, "meteo/warnings", "meteo-partners", JUSTIFICATION)
    assert "requested" in page and "pending" in page

    client.post("/account/signout", data={"csrf_token": csrf(client, "/account/apps")})
    sign_in(client, DEMO_AGENCY_ADMIN, seeded["meteo_admin_portal_password"])
    console = client.get("/agency-console/")
    assert console.url.path == "/agency-console/meteo/"
    assert JUSTIFICATION in console.text and "flood-alerts" in console.text
    with sessions() as session:
        grant = session.scalar(select(AccessGrant).where(AccessGrant.application_id == app_id))
        assert grant is not None
        grant_id = grant.id

    token = csrf(client, "/agency-console/meteo/")
    refused = client.post(
        f"/agency-console/grants/{grant_id}", data={"csrf_token": token, "decision": "refuse"}
    )
    assert refused.status_code == 422 and "reason is required" in refused.text
    approved = client.post(
        f"/agency-console/grants/{grant_id}",
        data={"csrf_token": token, "decision": "approve", "reason": "welcome"},
    )
    assert "approved; the developer has been emailed" in approved.text
    message = mails(outbox)[-1]
    assert message["To"] == "dev@example.org" and "approved" in str(message["Subject"])
    with sessions() as session:
        grant = session.get(AccessGrant, grant_id)
        assert grant is not None and grant.state is GrantState.APPROVED
        assert grant.decided_by == f"portal:{DEMO_AGENCY_ADMIN}"
        actions = session.scalars(select(AuditEvent.action).where(AuditEvent.actor == grant.decided_by))
        assert "grant.approved" in set(actions)


def test_console_is_for_admins_of_that_agency_only(client: TestClient, outbox: Path) -> None:
    sign_up(client, outbox, "dev@example.org")
    assert client.get("/agency-console/").status_code == 403
    assert client.get("/agency-console/meteo/").status_code == 403
    token = csrf(client, "/account/apps")
    assert (
        client.post("/agency-console/grants/1", data={"csrf_token": token, "decision": "approve"}).status_code
        == 403
    )
