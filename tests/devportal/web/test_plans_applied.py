"""A subscription's plan is the plan the gateway applies: a developer subscribes a key API under a plan
that needs the agency's approval; until the agency approves, the application's own plan governs
(`RateLimit-Limit: 5`, Free); once approved, the recompiled snapshot makes the real gateway apply the
subscription's plan (`RateLimit-Limit: 50`, Standard). The application page says the same."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.settings import Settings
from examples.portal_seed import DEMO_AGENCY_ADMINS
from registry.compile.snapshot import compile_snapshot
from registry.models import AccessGrant, GrantState
from tests.devportal.helpers import create_app, csrf, issue_key, sign_in, sign_up
from tests.gateway.integration.conftest import start_gateway, upstream
from tests.gateway.integration.gateway_harness import StartGateway, write_snapshot

__all__ = ["start_gateway", "upstream"]

pytestmark = pytest.mark.integration

JUSTIFICATION = "Due diligence on suppliers, a few thousand lookups a day"


def _snapshot(sessions: sessionmaker[Session], upstream: str) -> dict[str, Any]:
    """The registry's snapshot, the example upstreams replaced by the test's echo server."""
    with sessions() as session:
        document = compile_snapshot(session)
    for service in document["services"]:
        service["upstream"] = upstream + "/echo"
        service.pop("health_path", None)
    return document


def _limit(url: str, key: str) -> str:
    answer = httpx.get(url, headers={"apikey": key}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.headers["ratelimit-limit"]


def test_the_gateway_applies_the_subscription_s_plan_once_approved(
    client: TestClient,
    outbox: Path,
    sessions: sessionmaker[Session],
    settings: Settings,
    seeded: dict[str, str],
    start_gateway: StartGateway,
    upstream: str,
    tmp_path: Path,
) -> None:
    sign_up(client, outbox, "buyer@example.org")
    app_id = create_app(client, "supplier-checks")
    key, _ = issue_key(client, app_id)
    token = csrf(client, "/account/access")
    form = {"csrf_token": token, "application": app_id, "api": "commerce/companies", "plan": "standard"}
    answer = client.post("/account/access", data={**form, "justification": JUSTIFICATION})
    assert "requested" in answer.text
    page = client.get(f"/account/apps/{app_id}").text
    assert "waiting" in page or "until the agency approves the Standard plan" in page

    snapshot_file = tmp_path / "snapshot.json"
    gateway = start_gateway(
        _snapshot(sessions, upstream),
        snapshot_file=snapshot_file,
        env={"AGORA_HMAC_KEY": settings.hmac_key.hex(), "AGORA_STATE_DIR": str(tmp_path / "gw")},
    )
    url = f"{gateway.url}/commerce/companies/v1/companies"
    assert _limit(url, key) == "5"  # the application's own plan, Free, while the agency decides

    client.post("/account/signout", data={"csrf_token": csrf(client, "/account/apps")})
    sign_in(client, DEMO_AGENCY_ADMINS["commerce"], seeded["commerce_admin_portal_password"])
    with sessions() as session:
        grant = session.scalar(select(AccessGrant).where(AccessGrant.application_id == app_id))
        assert grant is not None and grant.state is GrantState.PENDING
        grant_id = grant.id
    decided = client.post(
        f"/agency-console/grants/{grant_id}",
        data={"csrf_token": csrf(client, "/agency-console/commerce/"), "decision": "approve", "reason": "ok"},
    )
    assert decided.status_code == 200, decided.text

    write_snapshot(snapshot_file, _snapshot(sessions, upstream))
    deadline = time.monotonic() + 15
    while _limit(url, key) != "50":
        assert time.monotonic() < deadline, "the gateway never applied the Standard plan"
        time.sleep(0.3)

    client.post("/account/signout", data={"csrf_token": csrf(client, "/account/apps")})
    sign_in(client, "buyer@example.org")
    page = client.get(f"/account/apps/{app_id}").text
    row = re.search(r"Company register.*?</tr>", page, re.S)
    assert row and "Standard" in row.group(0) and "50 per second" in row.group(0), page
