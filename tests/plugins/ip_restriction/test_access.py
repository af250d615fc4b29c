"""ip-restriction through running gateways against the real echo upstream. The client address is the
gateway's: X-Forwarded-For counts only from a trusted proxy (the first gateway trusts 127.0.0.1, the
second trusts nobody), for IPv4 and IPv6 clients alike."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway

from tests.plugins.helpers import platform_env, route, service, snapshot

pytestmark = pytest.mark.integration

KEY_AUTH = {"name": "key-auth", "config": {"key_names": ["apikey"], "hide_credentials": True}}


def document(upstream: str) -> dict[str, Any]:
    def api(name: str, *plugins: dict[str, Any]) -> dict[str, Any]:
        return service(name, upstream + "/echo", [route("GET", "/items")], plugins=list(plugins))

    allow = {"name": "ip-restriction", "config": {"allow": ["198.51.100.0/24", "2001:db8::/32"]}}
    deny = {
        "name": "ip-restriction",
        "config": {"deny": ["203.0.113.0/24"], "status": 451, "message": "Blocked"},
    }
    return snapshot([api("gov.allow.v1", allow), api("gov.deny.v1", deny, KEY_AUTH)])


@pytest.fixture(scope="module")
def behind_proxy(
    start_gateway: StartGateway, upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    env = platform_env(tmp_path_factory.mktemp("state"), AGORA_GATEWAY_TRUSTED_PROXIES="127.0.0.1/32")
    return start_gateway(document(upstream), env=env)


@pytest.fixture(scope="module")
def exposed(
    start_gateway: StartGateway, upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    return start_gateway(document(upstream), env=platform_env(tmp_path_factory.mktemp("state")))


def get(gateway: GatewayProcess, api: str, forwarded_for: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return httpx.get(f"{gateway.url}/gov/{api}/v1/items", headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("client", "status"),
    [("198.51.100.23", 200), ("2001:db8:5::1", 200), ("192.0.2.1", 403), ("2001:db9::1", 403), (None, 403)],
)
def test_allow_list_behind_a_trusted_proxy(
    behind_proxy: GatewayProcess, client: str | None, status: int
) -> None:
    answer = get(behind_proxy, "allow", client)
    assert answer.status_code == status
    if status == 403:
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["detail"] == "Your IP address is not allowed"


def test_the_hop_before_the_trusted_proxy_is_the_client(behind_proxy: GatewayProcess) -> None:
    # The left-most entry is the client's own claim; the proxy appended the address it saw.
    assert get(behind_proxy, "allow", "198.51.100.1, 192.0.2.9").status_code == 403
    assert get(behind_proxy, "allow", "192.0.2.9, 198.51.100.1").status_code == 200


def test_deny_list_runs_before_authentication(behind_proxy: GatewayProcess) -> None:
    denied = get(behind_proxy, "deny", "203.0.113.50")
    assert denied.status_code == 451 and denied.json()["detail"] == "Blocked"
    assert get(behind_proxy, "deny", "198.51.100.50").status_code == 401  # on to key-auth


def test_a_forwarded_for_header_from_anyone_else_is_ignored(exposed: GatewayProcess) -> None:
    assert get(exposed, "allow", "198.51.100.23").status_code == 403  # judged as 127.0.0.1
    assert get(exposed, "deny", "203.0.113.50").status_code == 401
