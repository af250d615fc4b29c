"""access-control through a running gateway behind key-auth, against the real echo upstream."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway

from tests.plugins.helpers import consumer, credential, platform_env, route, service, snapshot

pytestmark = pytest.mark.integration

KEYS: dict[str, str] = {}
PORTAL = "https://portal.example.gov"
EXAMPLE = {"status": 200, "content_type": "application/json", "body": {"sandbox": True}}
KEY_AUTH = {"name": "key-auth", "config": {"key_names": ["apikey"], "hide_credentials": True}}
PROBE = {"name": "plan-probe", "config": {}}


@pytest.fixture(scope="module")
def gateway(
    start_gateway: StartGateway, upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    KEYS["granted"], granted = credential("cred-granted")
    KEYS["other"], other = credential("cred-other")
    KEYS["sandbox"], sandbox = credential("cred-sandbox", sandbox=True)
    items = [route("GET", "/items", sandbox=EXAMPLE)]

    def api(name: str, access: str, plugins: list[dict[str, Any]]) -> dict[str, Any]:
        return service(name, upstream + "/echo", items, access=access, plugins=plugins)

    restricted = [KEY_AUTH, {"name": "access-control", "config": {}}, PROBE]  # what the registry emits
    document = snapshot(
        [
            api("meteo.warnings.v1", "restricted", restricted),
            api("meteo.warnings.v2", "restricted", restricted),
            api("meteo.other.v1", "restricted", restricted),
            api("cadastre.addresses.v1", "key", [KEY_AUTH, PROBE]),
            api("meteo.nokey.v1", "restricted", [{"name": "access-control", "config": {}}]),
        ]
    )
    document["consumers"] = [
        consumer("app-granted", "granted", [granted], plan="free", grants=["meteo/warnings"]),
        consumer("app-other", "other", [other, sandbox], plan="standard"),
    ]
    state = tmp_path_factory.mktemp("state")
    return start_gateway(document, env=platform_env(state, AGORA_PORTAL_URL=PORTAL))


def get(gateway: GatewayProcess, path: str, key: str | None = None) -> httpx.Response:
    return httpx.get(gateway.url + path, headers={"apikey": key} if key else {}, timeout=10)


def test_an_approved_grant_lets_the_application_through_every_major(gateway: GatewayProcess) -> None:
    for major in ("v1", "v2"):
        response = get(gateway, f"/meteo/warnings/{major}/items", KEYS["granted"])
        assert response.status_code == 200
        seen = {k.lower(): v for k, v in response.json()["headers"]}
        assert seen["x-consumer-id"] == "app-granted"
        assert response.headers["x-plan"] == "meteo-warnings-plan"  # the grant's plan, for rate-limiting


def test_without_a_grant_the_answer_is_a_403_problem_linking_to_the_request_page(
    gateway: GatewayProcess,
) -> None:
    page = f"{PORTAL}/meteo/warnings/"
    response = get(gateway, "/meteo/warnings/v1/items", KEYS["other"])
    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["link"] == f'<{page}>; rel="help"'
    problem = response.json()
    assert problem["status"] == 403 and problem["title"] == "Forbidden"
    assert problem["detail"].startswith("Access to this API has not been granted to your application")
    assert problem["request_access"] == page
    # A grant for one API is no grant for another of the same agency.
    assert get(gateway, "/meteo/other/v1/items", KEYS["granted"]).json()["request_access"] == (
        f"{PORTAL}/meteo/other/"
    )


def test_key_auth_still_answers_first(gateway: GatewayProcess) -> None:
    assert get(gateway, "/meteo/warnings/v1/items").status_code == 401


def test_no_application_at_all_is_a_401(gateway: GatewayProcess) -> None:
    response = get(gateway, "/meteo/nokey/v1/items")
    assert response.status_code == 401 and response.headers["content-type"] == "application/problem+json"


def test_sandbox_keys_need_no_grant(gateway: GatewayProcess) -> None:
    response = get(gateway, "/meteo/warnings/v1/items", KEYS["sandbox"])
    assert response.status_code == 200 and response.json() == {"sandbox": True}
    assert response.headers["x-agora-sandbox"] == "true" and response.headers["x-plan"] == "standard"


def test_key_apis_govern_by_the_applications_own_plan(gateway: GatewayProcess) -> None:
    assert get(gateway, "/cadastre/addresses/v1/items", KEYS["granted"]).headers["x-plan"] == "free"
    assert get(gateway, "/cadastre/addresses/v1/items", KEYS["other"]).headers["x-plan"] == "standard"
