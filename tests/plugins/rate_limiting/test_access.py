"""rate-limiting through a running gateway (local policy) behind the real key-auth and access-control,
against the real echo upstream. Limits are per day, so no test straddles a window boundary unless it
runs across midnight UTC. The gateway trusts 127.0.0.1 as a proxy, so X-Forwarded-For names the
client: each test uses client addresses of its own."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway

from tests.plugins.helpers import consumer, credential, platform_env, route, service, snapshot

pytestmark = pytest.mark.integration

KEYS: dict[str, str] = {}
KEY_AUTH = {"name": "key-auth", "config": {"key_names": ["apikey"], "hide_credentials": True}}
NO_LIMITS = {"second": None, "minute": None, "hour": None, "month": None}


def day_limit(n: int) -> dict[str, Any]:
    return {"name": "rate-limiting", "config": {"limit_by": "ip", "limits": {**NO_LIMITS, "day": n}}}


@pytest.fixture(scope="module")
def gateway(
    start_gateway: StartGateway, upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> GatewayProcess:
    KEYS["free"], free = credential("cred-free")
    KEYS["gold"], gold = credential("cred-gold")
    KEYS["granted"], granted = credential("cred-granted")
    KEYS["subscribed"], subscribed = credential("cred-subscribed")
    items = [route("GET", "/items")]

    def api(name: str, access: str, plugins: list[dict[str, Any]]) -> dict[str, Any]:
        return service(name, upstream + "/echo", items, access=access, plugins=plugins)

    by_consumer = {"name": "rate-limiting", "config": {"limit_by": "consumer"}}  # what the registry emits
    by_header = {"limit_by": "header", "header_name": "X-Client", "day": 2, "window": "sliding"}
    hidden = {"hide_client_headers": True, "error_code": 503, "error_message": "Slow down"}
    document = snapshot(
        [
            api("gov.open.v1", "open", [day_limit(3)]),
            api("gov.keyed.v1", "key", [KEY_AUTH, by_consumer]),
            api(
                "gov.restricted.v1",
                "restricted",
                [KEY_AUTH, {"name": "access-control", "config": {}}, by_consumer],
            ),
            api("gov.hidden.v1", "open", [{**day_limit(1), "config": {**day_limit(1)["config"], **hidden}}]),
            api("gov.header.v1", "open", [{"name": "rate-limiting", "config": by_header}]),
        ]
    )
    document["consumers"] = [
        consumer("app-free", "free", [free], plan="free"),
        consumer("app-gold", "gold", [gold], plan="gold"),
        consumer("app-granted", "granted", [granted], plan="gold", grants=["gov/restricted"]),
        consumer("app-subscribed", "subscribed", [subscribed], plan="free", grants=["gov/keyed"]),
    ]
    document["plans"] = {
        "free": {"name": "Free", "limits": {**NO_LIMITS, "day": 2}},
        "gold": {"name": "Gold", "limits": {**NO_LIMITS, "hour": 100, "day": 4}},
        "gov-restricted-plan": {"name": "Grant", "limits": {**NO_LIMITS, "day": 1}},
        "gov-keyed-plan": {"name": "Subscription", "limits": {**NO_LIMITS, "day": 3}},
    }
    env = platform_env(
        tmp_path_factory.mktemp("state"), AGORA_GATEWAY_TRUSTED_PROXIES="127.0.0.1/32", AGORA_REDIS_URL=""
    )
    return start_gateway(document, env=env)


def get(gateway: GatewayProcess, api: str, client: str, **headers: str) -> httpx.Response:
    return httpx.get(
        f"{gateway.url}/gov/{api}/v1/items", headers={"X-Forwarded-For": client, **headers}, timeout=10
    )


def until_midnight() -> float:
    return 86_400 - time.time() % 86_400


def test_open_apis_are_limited_per_client_ip_with_kongs_headers(
    gateway: GatewayProcess, upstream: str
) -> None:
    answers = [get(gateway, "open", "198.51.100.1") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.headers["x-ratelimit-remaining-day"] for a in answers] == ["2", "1", "0"]
    last = answers[-1].headers
    assert last["x-ratelimit-limit-day"] == last["ratelimit-limit"] == "3"
    assert last["ratelimit-remaining"] == "0"
    assert abs(int(last["ratelimit-reset"]) - until_midnight()) <= 2
    assert "x-ratelimit-limit-minute" not in last  # only limited periods are announced

    served_before = httpx.get(upstream + "/stats").json()["requests"]
    refused = get(gateway, "open", "198.51.100.1")
    assert httpx.get(upstream + "/stats").json()["requests"] == served_before  # never reached it
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "API rate limit exceeded"
    assert abs(int(refused.headers["retry-after"]) - until_midnight()) <= 2
    assert refused.headers["x-ratelimit-remaining-day"] == "0"
    # Another client has its own allowance.
    other = get(gateway, "open", "198.51.100.2")
    assert other.status_code == 200 and other.headers["x-ratelimit-remaining-day"] == "2"


def test_key_apis_are_limited_by_the_application_s_own_plan(gateway: GatewayProcess) -> None:
    # One application's calls share one counter whatever address they come from.
    free = [get(gateway, "keyed", f"203.0.113.{i}", apikey=KEYS["free"]) for i in range(3)]
    assert [a.status_code for a in free] == [200, 200, 429]
    assert free[0].headers["x-ratelimit-limit-day"] == "2"
    gold = [get(gateway, "keyed", "203.0.113.9", apikey=KEYS["gold"]) for _ in range(5)]
    assert [a.status_code for a in gold] == [200, 200, 200, 200, 429]
    first = gold[0].headers
    assert (first["x-ratelimit-limit-hour"], first["x-ratelimit-remaining-hour"]) == ("100", "99")
    # The most constrained period is announced in RateLimit-*: the day (3 left, against 99).
    assert (first["ratelimit-limit"], first["ratelimit-remaining"]) == ("4", "3")


def test_restricted_apis_are_limited_by_the_matched_grant_s_plan(gateway: GatewayProcess) -> None:
    answers = [get(gateway, "restricted", "203.0.113.20", apikey=KEYS["granted"]) for _ in range(2)]
    assert [a.status_code for a in answers] == [200, 429]  # the grant's plan (1/day), not gold's 4
    assert answers[0].headers["x-ratelimit-limit-day"] == "1"


def test_key_apis_are_limited_by_the_subscription_s_plan(gateway: GatewayProcess) -> None:
    # The application's own plan is free (2/day); its subscription to gov/keyed chose 3/day.
    answers = [get(gateway, "keyed", "203.0.113.30", apikey=KEYS["subscribed"]) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0].headers["ratelimit-limit"] == "3"


def test_hidden_headers_and_a_custom_refusal(gateway: GatewayProcess) -> None:
    served, refused = (get(gateway, "hidden", "198.51.100.30") for _ in range(2))
    assert served.status_code == 200
    assert not [name for name in served.headers if "ratelimit" in name]
    assert refused.status_code == 503 and refused.json()["detail"] == "Slow down"
    assert int(refused.headers["retry-after"]) >= 1


def test_limit_by_header_with_a_sliding_window(gateway: GatewayProcess) -> None:
    same = [get(gateway, "header", f"198.51.100.{40 + i}", **{"X-Client": "team-a"}) for i in range(3)]
    assert [a.status_code for a in same] == [200, 200, 429]
    assert get(gateway, "header", "198.51.100.50", **{"X-Client": "team-b"}).status_code == 200
    # Without the header the caller is counted by address.
    assert get(gateway, "header", "198.51.100.51").headers["x-ratelimit-remaining-day"] == "1"
