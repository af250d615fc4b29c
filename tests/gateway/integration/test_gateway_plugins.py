"""Plugins in a real gateway: priority order, access exit, response headers, log after the response,
sandbox credentials."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway, route, service, snapshot

pytestmark = pytest.mark.integration


def consumer(username: str, key: str, *, sandbox: bool = False) -> dict[str, Any]:
    return {
        "id": f"app-{username}",
        "username": username,
        "developer": f"{username}@example.org",
        "plan": "free",
        "credentials": [
            {"id": f"cred-{key}", "prefix": key, "digest": "", "expires_at": None, "sandbox": sandbox}
        ],
        "grants": [],
    }


@pytest.fixture(scope="module")
def log_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("plugins") / "log.jsonl"


@pytest.fixture(scope="module")
def gateway(start_gateway: StartGateway, upstream: str, log_file: Path) -> GatewayProcess:
    plugins = [
        {"name": "tagger", "config": {"tag": "t1", "log_file": str(log_file), "log_delay": 1.0}},
        {"name": "demo-key", "config": {}},
    ]
    example = {"status": 200, "content_type": "application/json", "body": {"sandbox": True}}
    document = snapshot(
        [
            service(
                "gov.keyed.v1", upstream + "/echo", [route("GET", "/items", sandbox=example)], plugins=plugins
            )
        ]
    )
    document["consumers"] = [consumer("acme", "agora_aaaa"), consumer("tryout", "agora_sbox", sandbox=True)]
    return start_gateway(document)


def test_access_phase_can_refuse(gateway: GatewayProcess) -> None:
    response = httpx.get(gateway.url + "/gov/keyed/v1/items")
    assert response.status_code == 401
    assert response.json() == {"message": "missing or unknown key"}
    # The response phase ran on the exit answer too, and the access-phase header of tagger was not
    # set: demo-key (priority 1000) ran first and stopped the chain.
    assert response.headers["x-consumer"] == "anonymous"
    assert "x-tag" not in response.headers


def test_phases_in_priority_order_and_upstream_headers(gateway: GatewayProcess) -> None:
    started = time.monotonic()
    response = httpx.get(gateway.url + "/gov/keyed/v1/items", headers={"X-Key": "agora_aaaa"})
    assert time.monotonic() - started < 0.9  # the 1 s log phase runs after the response is sent
    assert response.status_code == 200
    assert response.headers["x-tag"] == "t1"
    assert response.headers["x-consumer"] == "acme"
    assert response.headers["x-upstream-status"] == "200"
    sent = {k.lower(): v for k, v in response.json()["headers"]}
    assert sent["x-consumer-username"] == "acme"


def test_log_phase_sees_request_facts(gateway: GatewayProcess, log_file: Path) -> None:
    response = httpx.get(
        gateway.url + "/gov/keyed/v1/items", headers={"X-Key": "agora_aaaa", "X-Request-ID": "r-1"}
    )
    assert response.status_code == 200
    deadline = time.monotonic() + 5
    facts: dict[str, Any] = {}
    while time.monotonic() < deadline and not facts:
        lines = log_file.read_text().splitlines() if log_file.exists() else []
        facts = next((json.loads(line) for line in lines if '"r-1"' in line), {})
        time.sleep(0.05)
    assert facts["status"] == 200
    assert facts["service"] == "gov.keyed.v1" and facts["route"] == "get/items"
    assert facts["consumer"] == "app-acme" and facts["credential"] == "cred-agora_aaaa"
    assert facts["bytes_out"] == len(response.content)
    assert facts["latency_upstream_ms"] is not None
    assert facts["latency_total_ms"] >= facts["latency_upstream_ms"]


def test_sandbox_credential_is_answered_from_examples(gateway: GatewayProcess) -> None:
    response = httpx.get(gateway.url + "/gov/keyed/v1/items", headers={"X-Key": "agora_sbox"})
    assert response.status_code == 200
    assert response.json() == {"sandbox": True}
    assert response.headers["x-agora-sandbox"] == "true"
