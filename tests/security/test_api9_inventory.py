"""API9:2023 Improper Inventory Management, at the gateway: only what is published and live is reachable.

A retired version answers 410 (pointing at its successor) on every path under its prefix, declared or
not, and its upstream is never called; an operation the spec does not declare is not forwarded (404,
or 405 with the declared methods) whatever the path looks like; a draft is not in the gateway's
snapshot at all, and neither is an unknown major version. (Retirement reaching every gateway within 2 s
is tests/integration/topology; the admin API's own inventory is test_api9_admin_document.py.)
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway, route, service, snapshot
from sqlalchemy.orm import Session, sessionmaker

from registry.compile.snapshot import compile_snapshot
from registry.services import apis
from registry.unit_of_work import change
from tests.registry import factories

SPEC = (
    '{"openapi": "3.0.3", "info": {"title": "Drafty", "version": "1.0.0"}, "paths": {"/x": {"get": '
    '{"operationId": "x", "responses": {"200": {"description": "ok"}}}}}}'
)


@pytest.fixture(scope="module")
def edge(start_gateway: StartGateway, upstream: str) -> Iterator[GatewayProcess]:
    items = [route("GET", "/items"), route("GET", "/items/{id}")]
    document = snapshot(
        [
            service("gov.inv.v1", upstream + "/echo", items, status="retired", successor="gov.inv.v2"),
            service("gov.inv.v2", upstream + "/echo", items),
        ]
    )
    yield start_gateway(document)


def _requests(upstream: str) -> int:
    count: int = httpx.get(upstream + "/stats", timeout=5).json()["requests"]
    return count


@pytest.mark.integration
def test_a_retired_version_is_gone_everywhere_under_its_prefix(edge: GatewayProcess, upstream: str) -> None:
    before = _requests(upstream)
    for method, path in [("GET", "/items"), ("GET", "/items/1"), ("POST", "/items"), ("GET", "/admin"),
                         ("DELETE", "/anything/at/all")]:  # fmt: skip
        response = httpx.request(method, f"{edge.url}/gov/inv/v1{path}", timeout=10)
        assert response.status_code == 410, (method, path, response.status_code)
        assert response.json()["successor"] == "/gov/inv/v2"
    assert _requests(upstream) == before, "a retired version's upstream is never called"


@pytest.mark.integration
def test_undeclared_operations_are_not_forwarded(edge: GatewayProcess, upstream: str) -> None:
    before = _requests(upstream)
    for method, path, status in [
        ("GET", "/gov/inv/v2/undeclared", 404),
        ("GET", "/gov/inv/v2/items/1/extra", 404),
        ("GET", "/gov/inv/v2", 404),
        ("DELETE", "/gov/inv/v2/items/1", 405),
        ("PUT", "/gov/inv/v2/items", 405),
        ("GET", "/gov/inv/v9/items", 404),  # no such major version
        ("GET", "/gov/inv/items", 404),
        ("GET", "/gov/other/v2/items", 404),
    ]:
        response = httpx.request(method, edge.url + path, timeout=10)
        assert response.status_code == status, (method, path, response.status_code)
        assert response.headers["content-type"] == "application/problem+json"
    assert _requests(upstream) == before, "nothing undeclared reached the upstream"
    assert httpx.get(edge.url + "/gov/inv/v2/items/1", timeout=10).status_code == 200


def test_a_draft_is_not_in_the_gateways_snapshot(sessions: sessionmaker[Session]) -> None:
    with change(sessions) as session:
        factories.agency(session, "drafts")
        apis.publish(session, agency_slug="drafts", spec=SPEC, upstream="https://api.example.gov",
                     api_slug="drafty", draft=True, actor="t")  # fmt: skip
    with sessions() as session:
        prefixes = [s["prefix"] for s in compile_snapshot(session)["services"]]
    assert not any(p.startswith("/drafts/") for p in prefixes)
