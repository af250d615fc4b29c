"""Access requests through the admin API (platform admins, on an application's behalf): for an API with
personal data, a purpose and a declared legal basis or a 422 problem naming what is missing; the agency
sees both in the grants it decides on."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from agora.settings import Settings
from registry.models import AccessGrant, Application, Role
from registry.services import tokens
from registry.unit_of_work import change
from tests.registry import factories
from tests.registry.admin.conftest import World

PROBLEM = "application/problem+json"
PURPOSE = "Checking a tenant's family situation for the housing benefit"


def _family(sessions: sessionmaker[Session], settings: Settings) -> tuple[str, dict[str, str]]:
    """The civil agency's API with personal data, the world's application (acting for an organisation),
    and a token for the civil agency's admin."""
    with change(sessions) as session:
        civil = factories.agency(session, "civil")
        factories.personal_data_api(session, "civil")
        app = session.scalars(select(Application)).one()
        app.organisation = "Acme Housing Ltd"
        _, secret = tokens.create_token(
            session,
            name="civil",
            role=Role.AGENCY_ADMIN,
            agencies=[civil],
            hmac_key=settings.hmac_key,
            actor="t",
        )
        return app.id, {"Authorization": f"Bearer {secret}"}


def _problem(response: Any, status: int = 422) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    detail: str = body["detail"]
    return detail


def _count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(AccessGrant)) or 0)


def test_a_request_for_personal_data_states_a_purpose_and_a_declared_legal_basis(
    world: World, sessions: sessionmaker[Session], settings: Settings
) -> None:
    app_id, civil_admin = _family(sessions, settings)
    c = world.client
    ask = {"application": app_id, "api": "civil/family", "plan": "free", "justification": "Housing benefit"}
    before = _count(sessions)

    detail = _problem(c.post("/admin/grants", headers=world.platform, json=ask))
    assert detail == (
        "Family records returns personal data: say for what purpose your application reads it; "
        "choose the legal basis of the access to Family records: one of public-task, legal-obligation"
    )
    detail = _problem(
        c.post(
            "/admin/grants",
            headers=world.platform,
            json={**ask, "purpose": PURPOSE, "legal_basis": "consent"},
        )
    )
    assert (
        detail
        == "Family records declares no legal basis 'consent': choose one of public-task, legal-obligation"
    )
    detail = _problem(
        c.post(
            "/admin/grants",
            headers=world.platform,
            json={**ask, "purpose": "x" * 2001, "legal_basis": "public-task"},
        )
    )
    assert detail == "the purpose has 2000 characters at most (2001 given)"
    detail = _problem(c.post("/admin/grants", headers=world.platform, json={**ask, "legal_basis": 7}))
    assert detail.startswith("request body at /legal_basis:")
    assert _count(sessions) == before  # a refused request leaves the database as it was

    created = c.post(
        "/admin/grants",
        headers=world.platform,
        json={**ask, "purpose": PURPOSE, "legal_basis": "public-task"},
    )
    assert created.status_code == 201, created.text
    grant = created.json()
    assert grant["state"] == "pending" and grant["api"] == "civil/family"
    assert (grant["purpose"], grant["legal_basis"], grant["organisation"]) == (
        PURPOSE,
        "public-task",
        "Acme Housing Ltd",
    )
    # The agency sees what it decides on.
    (listed,) = c.get("/admin/grants?state=pending", headers=civil_admin).json()
    assert listed == grant
    decided = c.post(f"/admin/grants/{grant['id']}/decision", headers=civil_admin, json={"state": "approved"})
    assert decided.status_code == 200 and decided.json()["purpose"] == PURPOSE


def test_an_api_without_personal_data_takes_no_legal_basis(
    world: World, sessions: sessionmaker[Session], settings: Settings
) -> None:
    app_id, _ = _family(sessions, settings)
    c = world.client
    ask = {"application": app_id, "api": "meteo/warnings", "plan": "free", "legal_basis": "public-task"}
    detail = _problem(c.post("/admin/grants", headers=world.platform, json=ask))
    assert detail.endswith("returns no personal data: a legal basis is only chosen for an API that does")
    # world's grant on meteo/warnings is pending: asking again is no move the state machine allows
    refused = c.post("/admin/grants", headers=world.platform, json={**ask, "legal_basis": None})
    assert _problem(refused, 409).startswith("access grant is pending")


def test_unknown_objects_are_404_and_only_platform_admins_may_ask(
    world: World, sessions: sessionmaker[Session], settings: Settings
) -> None:
    app_id, civil_admin = _family(sessions, settings)
    c = world.client
    ask = {
        "application": app_id,
        "api": "civil/family",
        "plan": "free",
        "purpose": PURPOSE,
        "legal_basis": "public-task",
    }
    assert "does not exist" in _problem(
        c.post("/admin/grants", headers=world.platform, json={**ask, "application": "nope"}), 404
    )
    assert "does not exist" in _problem(
        c.post("/admin/grants", headers=world.platform, json={**ask, "api": "civil/none"}), 404
    )
    assert "does not exist" in _problem(
        c.post("/admin/grants", headers=world.platform, json={**ask, "plan": "none"}), 404
    )
    for headers in (civil_admin, world.ops):
        assert "platform admin" in _problem(c.post("/admin/grants", headers=headers, json=ask), 403)
