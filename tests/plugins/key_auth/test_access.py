"""key-auth through a running gateway, against the real echo upstream (which shows what it received)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway

from tests.plugins.helpers import consumer, credential, platform_env, route, service, snapshot

pytestmark = pytest.mark.integration

KEYS: dict[str, str] = {}
EXAMPLE = {"status": 200, "content_type": "application/json", "body": {"sandbox": True}}


@pytest.fixture(scope="module")
def gateway(
    start_gateway: StartGateway, upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    KEYS["acme"], acme = credential("cred-acme")
    KEYS["rotated"], rotated = credential("cred-rotated", expires_in=timedelta(hours=1))
    KEYS["expired"], expired = credential("cred-expired", expires_in=timedelta(seconds=-1))
    KEYS["sandbox"], sandbox = credential("cred-sandbox", sandbox=True)
    items = [route("GET", "/items", sandbox=EXAMPLE), route("OPTIONS", "/items")]

    def keyed(name: str, **config: Any) -> dict[str, Any]:
        return service(
            name, upstream + "/echo", items, access="key", plugins=[{"name": "key-auth", "config": config}]
        )

    document = snapshot(
        [
            keyed("gov.hidden.v1", key_names=["apikey"], hide_credentials=True),  # what the registry emits
            keyed("gov.visible.v1", key_names=["apikey", "X-Api-Key"]),
            keyed("gov.anon.v1", anonymous="guest"),
            keyed("gov.headeronly.v1", key_in_query=False, realm="gov"),
            keyed("gov.preflight.v1", run_on_preflight=False),
        ]
    )
    document["consumers"] = [
        consumer("app-acme", "acme", [acme, rotated, expired, sandbox]),
        consumer("app-guest", "guest", []),
    ]
    state = tmp_path_factory.mktemp("state")
    return start_gateway(document, env=platform_env(state))


def get(gateway: GatewayProcess, path: str, **kwargs: Any) -> httpx.Response:
    return httpx.get(gateway.url + path, timeout=10, **kwargs)


def upstream_saw(response: httpx.Response) -> tuple[dict[str, str], str]:
    body = response.json()  # raw_path: the path and query exactly as the gateway sent them
    return {k.lower(): v for k, v in body["headers"]}, body["raw_path"].partition("?")[2]


def test_no_key_is_a_401_problem_with_a_challenge(gateway: GatewayProcess) -> None:
    response = get(gateway, "/gov/hidden/v1/items")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Key realm="agora"'
    assert response.json()["detail"] == "No API key found in request"
    assert response.json()["status"] == 401


@pytest.mark.parametrize("key", ["agora_00000000_" + "x" * 43, "garbage", "wrong-secret"])
def test_unknown_or_wrong_keys_are_unauthorized(gateway: GatewayProcess, key: str) -> None:
    if key == "wrong-secret":
        key = KEYS["acme"][: len("agora_12345678_")] + "y" * 43
    response = get(gateway, "/gov/hidden/v1/items", headers={"apikey": key})
    assert response.status_code == 401
    assert response.json()["detail"] == "Unauthorized"
    assert response.headers["www-authenticate"] == 'Key realm="agora"'


def test_valid_header_key_reaches_the_upstream_identified_and_hidden(gateway: GatewayProcess) -> None:
    spoofed = {"X-Consumer-ID": "admin", "X-Anonymous-Consumer": "true", "X-Consumer-Custom-ID": "x"}
    response = get(gateway, "/gov/hidden/v1/items", headers={"apikey": KEYS["acme"], **spoofed})
    assert response.status_code == 200
    headers, _ = upstream_saw(response)
    assert headers["x-consumer-id"] == "app-acme"
    assert headers["x-consumer-username"] == "acme"
    assert headers["x-credential-identifier"] == "cred-acme"
    for gone in ("apikey", "x-anonymous-consumer", "x-consumer-custom-id"):
        assert gone not in headers


def test_query_key_is_removed_other_parameters_kept_as_sent(gateway: GatewayProcess) -> None:
    response = get(gateway, f"/gov/hidden/v1/items?q=a%20b&apikey={KEYS['acme']}&page=2")
    assert response.status_code == 200
    _, query = upstream_saw(response)
    assert query == "q=a%20b&page=2"


def test_without_hide_credentials_the_key_goes_upstream(gateway: GatewayProcess) -> None:
    response = get(gateway, "/gov/visible/v1/items", headers={"X-Api-Key": KEYS["acme"]})  # second name
    assert response.status_code == 200
    headers, _ = upstream_saw(response)
    assert headers["x-api-key"] == KEYS["acme"] and headers["x-consumer-id"] == "app-acme"
    response = get(gateway, f"/gov/visible/v1/items?apikey={KEYS['acme']}")
    assert upstream_saw(response)[1] == f"apikey={KEYS['acme']}"


def test_a_key_sent_twice_is_refused(gateway: GatewayProcess) -> None:
    url = f"/gov/hidden/v1/items?apikey={KEYS['acme']}&apikey={KEYS['acme']}"
    response = get(gateway, url)
    assert response.status_code == 401 and response.json()["detail"] == "Duplicate API key found"


def test_expired_key_refused_rotated_key_works_in_its_overlap(gateway: GatewayProcess) -> None:
    expired = get(gateway, "/gov/hidden/v1/items", headers={"apikey": KEYS["expired"]})
    assert expired.status_code == 401 and expired.json()["detail"] == "API key has expired"
    rotated = get(gateway, "/gov/hidden/v1/items", headers={"apikey": KEYS["rotated"]})
    assert rotated.status_code == 200
    assert upstream_saw(rotated)[0]["x-credential-identifier"] == "cred-rotated"


def test_sandbox_key_is_answered_from_the_example(gateway: GatewayProcess) -> None:
    response = get(gateway, "/gov/hidden/v1/items", headers={"apikey": KEYS["sandbox"]})
    assert response.status_code == 200
    assert response.json() == {"sandbox": True} and response.headers["x-agora-sandbox"] == "true"


def test_anonymous_consumer_when_no_valid_key(gateway: GatewayProcess) -> None:
    for headers in ({}, {"apikey": "garbage"}):
        response = get(gateway, "/gov/anon/v1/items", headers={**headers, "X-Credential-Identifier": "spoof"})
        assert response.status_code == 200
        seen, _ = upstream_saw(response)
        assert seen["x-consumer-id"] == "app-guest" and seen["x-anonymous-consumer"] == "true"
        assert "x-credential-identifier" not in seen
    named = get(gateway, "/gov/anon/v1/items", headers={"apikey": KEYS["acme"]})
    assert upstream_saw(named)[0]["x-consumer-id"] == "app-acme"


def test_key_in_query_can_be_switched_off(gateway: GatewayProcess) -> None:
    response = get(gateway, f"/gov/headeronly/v1/items?apikey={KEYS['acme']}")
    assert response.status_code == 401 and response.headers["www-authenticate"] == 'Key realm="gov"'
    assert get(gateway, "/gov/headeronly/v1/items", headers={"apikey": KEYS["acme"]}).status_code == 200


def test_preflight_needs_a_key_unless_switched_off(gateway: GatewayProcess) -> None:
    assert httpx.options(gateway.url + "/gov/hidden/v1/items", timeout=10).status_code == 401
    assert httpx.options(gateway.url + "/gov/preflight/v1/items", timeout=10).status_code == 200
    assert get(gateway, "/gov/preflight/v1/items").status_code == 401


def test_a_key_remembered_as_valid_is_still_refused_once_it_expires(
    start_gateway: StartGateway, upstream: str, tmp_path: Path
) -> None:
    # key-auth remembers keys it found valid (no HMAC on a caller's next calls); expiry is not remembered.
    key, soon = credential("cred-soon", expires_in=timedelta(seconds=6))
    items = [route("GET", "/items")]
    plugins = [{"name": "key-auth", "config": {"key_names": ["apikey"]}}]
    document = snapshot([service("gov.soon.v1", upstream + "/echo", items, access="key", plugins=plugins)])
    document["consumers"] = [consumer("app-acme", "acme", [soon])]
    gateway = start_gateway(document, env=platform_env(tmp_path))
    ends = datetime.fromisoformat(str(soon["expires_at"]))
    for _ in range(3):
        assert get(gateway, "/gov/soon/v1/items", headers={"apikey": key}).status_code == 200
    time.sleep(max(0.0, (ends - datetime.now(UTC)).total_seconds()) + 0.2)
    expired = get(gateway, "/gov/soon/v1/items", headers={"apikey": key})
    assert expired.status_code == 401 and expired.json()["detail"] == "API key has expired"
