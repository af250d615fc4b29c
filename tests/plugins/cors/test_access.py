"""cors through a running gateway, in front of the real key-auth and the real echo upstream: preflights
answered without a key (the API declares no OPTIONS), origins matched exactly or by pattern, headers
on answers (errors included), credentials never granted through `*`, preflight_continue."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway

from tests.plugins.helpers import consumer, credential, platform_env, route, service, snapshot

pytestmark = pytest.mark.integration

KEYS: dict[str, str] = {}
KEY_AUTH = {"name": "key-auth", "config": {"key_names": ["apikey"], "hide_credentials": True}}
MAPS = "https://maps.example.org"


@pytest.fixture(scope="module")
def gateway(
    start_gateway: StartGateway, upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    KEYS["app"], key = credential("cred-app")

    def api(name: str, routes: list[dict[str, Any]], *plugins: dict[str, Any]) -> dict[str, Any]:
        return service(name, upstream + "/echo", routes, plugins=list(plugins))

    def cors(**config: Any) -> dict[str, Any]:
        return {"name": "cors", "config": config}

    items = [route("GET", "/items"), route("POST", "/items")]
    strict = cors(
        origins=[MAPS, r"https://[a-z]+\.example\.gov"],
        methods=["GET", "POST"],
        exposed_headers=["X-Total", "X-Request-ID"],
        credentials=True,
        max_age=600,
        private_network=True,
    )
    document = snapshot(
        [
            api("gov.strict.v1", items, KEY_AUTH, strict),
            api("gov.wild.v1", items, cors(origins=["*", "https://trusted.example.org"], credentials=True)),
            api("gov.default.v1", items, cors()),
            api(
                "gov.continue.v1",
                [route("GET", "/items"), route("OPTIONS", "/items"), route("GET", "/other")],
                cors(origins=[MAPS], preflight_continue=True),
            ),
            api("gov.plain.v1", items),
        ]
    )
    document["consumers"] = [consumer("app-1", "app", [key])]
    return start_gateway(document, env=platform_env(tmp_path_factory.mktemp("state")))


def call(
    gateway: GatewayProcess, method: str, api: str, path: str = "/items", **headers: str
) -> httpx.Response:
    return httpx.request(method, f"{gateway.url}/gov/{api}/v1{path}", headers=headers, timeout=10)


def preflight(
    gateway: GatewayProcess, api: str, origin: str, path: str = "/items", asks: str = "POST", **extra: str
) -> httpx.Response:
    headers = {"Origin": origin, "Access-Control-Request-Method": asks, **extra}
    return call(gateway, "OPTIONS", api, path, **headers)


def test_a_preflight_is_answered_before_authentication(gateway: GatewayProcess, upstream: str) -> None:
    before = httpx.get(upstream + "/stats").json()["requests"]
    answer = preflight(
        gateway,
        "strict",
        MAPS,
        **{
            "Access-Control-Request-Headers": "apikey, content-type",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert httpx.get(upstream + "/stats").json()["requests"] == before  # the upstream never saw it
    assert answer.status_code == 200 and answer.content == b""
    h = answer.headers
    assert h["access-control-allow-origin"] == MAPS and h["access-control-allow-credentials"] == "true"
    assert h["access-control-allow-methods"] == "GET, POST"
    assert h["access-control-allow-headers"] == "apikey, content-type"  # unset `headers`: echoed
    assert h["access-control-max-age"] == "600"
    assert h["access-control-allow-private-network"] == "true"
    assert h["vary"] == "Origin"


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://meteo.example.gov", True),
        ("HTTPS://MAPS.EXAMPLE.ORG:443", True),  # the same origin, written differently
        ("https://maps.example.org.attacker.net", False),
        ("https://evil.example.gov.attacker.net", False),  # patterns match the whole origin
        ("https://attacker.net, https://meteo.example.gov", False),  # not one origin
        ("https://meteo.example.gov/path", False),
        ("http://maps.example.org", False),
        ("null", False),
    ],
)
def test_origins_match_exactly_or_by_whole_pattern(
    gateway: GatewayProcess, origin: str, allowed: bool
) -> None:
    answer = preflight(gateway, "strict", origin)
    assert answer.status_code == 200
    assert answer.headers.get("access-control-allow-origin") == (origin if allowed else None)
    assert ("access-control-allow-methods" in answer.headers) is allowed  # a refused origin learns nothing
    assert answer.headers["vary"] == "Origin"


def test_answers_carry_the_headers_errors_included(gateway: GatewayProcess) -> None:
    served = call(gateway, "GET", "strict", Origin=MAPS, apikey=KEYS["app"])
    assert served.status_code == 200
    assert served.headers["access-control-allow-origin"] == MAPS
    assert served.headers["access-control-allow-credentials"] == "true"
    assert served.headers["access-control-expose-headers"] == "X-Total, X-Request-ID"
    assert "Origin" in served.headers["vary"]
    refused = call(gateway, "GET", "strict", Origin=MAPS)  # no key: key-auth's 401, readable by the page
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"] == MAPS
    stranger = call(gateway, "GET", "strict", Origin="https://attacker.net", apikey=KEYS["app"])
    assert stranger.status_code == 200  # the browser, not the gateway, withholds the answer
    assert not [k for k in stranger.headers if k.startswith("access-control-")]


def test_credentials_are_never_granted_through_the_wildcard(gateway: GatewayProcess) -> None:
    anyone = call(gateway, "GET", "wild", Origin="https://attacker.net")
    assert anyone.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in anyone.headers
    trusted = call(gateway, "GET", "wild", Origin="https://trusted.example.org")
    assert trusted.headers["access-control-allow-origin"] == "https://trusted.example.org"
    assert trusted.headers["access-control-allow-credentials"] == "true"
    # Kong's defaults: any origin, `*` even without an Origin header, no Vary (the answer is the same).
    default = call(gateway, "GET", "default")
    assert default.headers["access-control-allow-origin"] == "*" and "vary" not in default.headers
    default_preflight = preflight(gateway, "default", "https://x.example")
    assert default_preflight.headers["access-control-allow-methods"].startswith("GET, HEAD, PUT, PATCH")


def test_preflight_continue_goes_upstream_only_where_options_is_declared(gateway: GatewayProcess) -> None:
    declared = preflight(gateway, "continue", MAPS)
    assert declared.status_code == 200 and declared.json()["method"] == "OPTIONS"  # the echo upstream
    assert preflight(gateway, "continue", MAPS, path="/other").status_code == 405  # /other has no POST
    undeclared = preflight(gateway, "continue", MAPS, path="/other", asks="GET")
    assert undeclared.status_code == 200 and undeclared.content == b""
    assert undeclared.headers["access-control-allow-origin"] == MAPS


def test_without_the_plugin_a_preflight_is_refused_as_before(gateway: GatewayProcess) -> None:
    answer = preflight(gateway, "plain", MAPS)
    assert answer.status_code == 405 and answer.headers["allow"] == "GET, POST"
