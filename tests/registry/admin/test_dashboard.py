"""The ops dashboard: sign-in with a token and CSRF, the session keeps no secret, pages carry a strict
CSP, the data endpoint shows the analytics API's figures, scoped like it; revoking the token ends it."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from registry.models import AdminToken, utcnow
from tests.registry.admin.conftest import World
from tests.registry.admin.test_analytics import traffic  # noqa: F401  (fixture)


def _csrf(client: TestClient) -> str:
    page = client.get("/admin/ui/signin")
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def _sign_in(client: TestClient, headers: dict[str, str]) -> None:
    token = headers["Authorization"].split(" ", 1)[1]
    response = client.post(
        "/admin/ui/signin", data={"csrf_token": _csrf(client), "token": token}, follow_redirects=False
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin/ui/"
    assert token not in response.headers["set-cookie"]


def test_sign_in_needs_csrf_and_a_valid_token(world: World) -> None:
    client = world.client
    assert client.get("/admin/ui/", follow_redirects=False).headers["location"] == "/admin/ui/signin"
    token = world.ops["Authorization"].split(" ", 1)[1]
    forged = client.post("/admin/ui/signin", data={"csrf_token": "x", "token": token}, follow_redirects=False)
    assert forged.status_code == 403
    wrong = client.post("/admin/ui/signin", data={"csrf_token": _csrf(client), "token": "agoradm_deadbeef_x"})
    assert wrong.status_code == 401 and "invalid or revoked" in wrong.text
    assert client.get("/admin/ui/data/overview").status_code == 401


def test_overview_page_and_data_match_the_api(traffic: World) -> None:  # noqa: F811
    client = traffic.client
    _sign_in(client, traffic.ops)
    page = client.get("/admin/ui/")
    assert page.status_code == 200 and "Traffic and health" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert "<script>" not in page.text  # no inline script: the CSP would refuse it
    data = client.get("/admin/ui/data/overview?window=15m").json()
    api = client.get("/admin/analytics/usage?group_by=agency,api&granularity=minute", headers=traffic.ops)
    by_api = {(r["agency"], r["api"]): r for r in api.json()["rows"]}
    for row in data["apis"]:
        same = by_api[(row["agency"], row["api"])]
        assert (row["calls"], row["errors"], row["latency_p95_ms"]) == (
            same["calls"], same["errors"], same["latency_p95_ms"],
        )  # fmt: skip
    assert data["totals"]["calls"] == 45 and sum(r["calls"] for r in data["series"]) == 45
    assert [s["service"] for s in data["health"]["services"]] == ["meteo.warnings.v1"]
    assert client.get("/admin/ui/data/overview?window=2y").status_code == 422
    assert client.get("/admin/ui/static/dashboard.js").status_code == 200


def test_agency_admin_sees_its_agencies_only(traffic: World) -> None:  # noqa: F811
    _sign_in(traffic.client, traffic.admin_b)
    data = traffic.client.get("/admin/ui/data/overview").json()
    assert {(r["agency"], r["calls"]) for r in data["apis"]} == {("meteo", 3)}
    assert data["totals"]["calls"] == 3


def test_sign_out_and_revocation_end_the_session(world: World, sessions: sessionmaker[Session]) -> None:
    client = world.client
    _sign_in(client, world.platform)
    assert client.get("/admin/ui/", follow_redirects=False).status_code == 200
    page = client.get("/admin/ui/")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert csrf is not None
    client.post("/admin/ui/signout", data={"csrf_token": csrf.group(1)}, follow_redirects=False)
    assert client.get("/admin/ui/", follow_redirects=False).status_code == 303
    _sign_in(client, world.ops)
    with sessions.begin() as session:
        for token in session.scalars(select(AdminToken).where(AdminToken.name == "ops")):
            token.revoked_at = utcnow()
    assert client.get("/admin/ui/", follow_redirects=False).status_code == 303
