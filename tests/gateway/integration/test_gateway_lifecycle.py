"""Deprecated and retired versions, and sandbox answers, on the wire."""

from __future__ import annotations

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway, route, service, snapshot

pytestmark = pytest.mark.integration

EXAMPLE = {"id": "42", "street": "Rue de Rivoli"}


@pytest.fixture(scope="module")
def gateway(start_gateway: StartGateway, upstream: str) -> GatewayProcess:
    document = snapshot(
        [
            service(
                "gov.addr.v1",
                upstream + "/echo",
                [route("GET", "/items")],
                status="deprecated",
                sunset="2030-06-30T00:00:00Z",
                deprecated_at="2025-01-01T00:00:00Z",
                successor="gov.addr.v2",
                changelog="/gov/addr/changelog/",
            ),
            service("gov.addr.v2", upstream + "/echo", [route("GET", "/items")]),
            service(
                "gov.old.v1",
                upstream + "/echo",
                [route("GET", "/items")],
                status="retired",
                successor="gov.addr.v2",
            ),
            service(
                "gov.try.v1",
                None,
                [
                    route(
                        "GET",
                        "/addresses/{id}",
                        sandbox={"status": 200, "content_type": "application/json", "body": EXAMPLE},
                    ),
                    route(
                        "POST",
                        "/addresses",
                        sandbox={
                            "status": 201,
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "id": {"type": "string", "format": "uuid"},
                                    "count": {"type": "integer", "minimum": 1},
                                },
                            },
                        },
                    ),
                    route("DELETE", "/addresses/{id}"),
                ],
            ),
        ]
    )
    return start_gateway(document)


def test_deprecated_version_answers_with_deprecation_sunset_and_link(gateway: GatewayProcess) -> None:
    response = httpx.get(gateway.url + "/gov/addr/v1/items")
    assert response.status_code == 200
    assert response.headers["deprecation"] == "@1735689600"
    assert response.headers["sunset"] == "Sun, 30 Jun 2030 00:00:00 GMT"
    link = response.headers["link"]
    assert '</gov/addr/changelog/>; rel="deprecation"' in link
    assert '</gov/addr/v2>; rel="successor-version"' in link
    current = httpx.get(gateway.url + "/gov/addr/v2/items")
    assert "deprecation" not in current.headers and "sunset" not in current.headers


def test_retired_version_is_410_with_successor(gateway: GatewayProcess) -> None:
    for path in ("/gov/old/v1/items", "/gov/old/v1/anything"):
        response = httpx.get(gateway.url + path)
        assert response.status_code == 410
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["successor"] == "/gov/addr/v2"
        assert response.headers["link"] == '</gov/addr/v2>; rel="successor-version"'


def test_version_without_upstream_answers_from_examples(gateway: GatewayProcess) -> None:
    response = httpx.get(gateway.url + "/gov/try/v1/addresses/7")
    assert response.status_code == 200
    assert response.json() == EXAMPLE
    assert response.headers["x-agora-sandbox"] == "true"


def test_sandbox_generates_from_schema_or_says_it_cannot(gateway: GatewayProcess) -> None:
    created = httpx.post(gateway.url + "/gov/try/v1/addresses", json={})
    assert created.status_code == 201
    assert created.json() == {"id": "00000000-0000-4000-8000-000000000000", "count": 1}
    missing = httpx.delete(gateway.url + "/gov/try/v1/addresses/7")
    assert missing.status_code == 501
    assert missing.headers["content-type"] == "application/problem+json"
