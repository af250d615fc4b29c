"""docker-compose.yml's topology as processes (two gateways, one admin, the real Redis and PostgreSQL):
a registry change reaches both gateways within 2 seconds, one global rate limit holds across both, and
the metering of both lands in the database exactly once."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable

import httpx
import pytest
import redis

from tests.integration.topology.stack import REPO, Platform, probe_spec, wait_until

sys.path.insert(0, str(REPO / "tests" / "gateway" / "integration"))  # the harness test_accuracy imports
from tests.plugins.rate_limiting.test_accuracy import CALLS_PER_GATEWAY, DEADLINE, LIMIT, _burst

pytestmark = [pytest.mark.integration, pytest.mark.postgres]

PROPAGATION = 2.0  # seconds: the bound for a registry change to reach every gateway


def _serving(platform: Platform, path: str, status: int = 200) -> Callable[[], bool]:
    """True when every gateway answers `status` on a fresh connection."""

    def check() -> bool:
        return all(
            httpx.get(g.url + path, timeout=2).status_code == status for g in platform.gateways.values()
        )

    return check


def test_a_registry_change_reaches_both_gateways_within_two_seconds(platform: Platform) -> None:
    platform.publish(probe_spec("Probe", "1.0.0", ["/items"]), api="probe")
    first = wait_until(_serving(platform, "/topo/probe/v1/items"), 10, what="first publication")
    assert _serving(platform, "/topo/probe/v1/items/42", 404)()

    published = time.monotonic()
    platform.publish(probe_spec("Probe", "1.1.0", ["/items", "/items/{id}"]), api="probe")
    wait_until(_serving(platform, "/topo/probe/v1/items/42"), 10, what="new operation")
    elapsed = time.monotonic() - published
    print(f"\npropagation: first publication {first:.2f} s, new version on both gateways {elapsed:.2f} s")
    assert elapsed < PROPAGATION

    started = time.monotonic()
    retired = platform.admin("POST", "/admin/agencies/topo/apis/probe/versions/1.1.0/retire")
    assert retired.status_code == 200, retired.text
    wait_until(_serving(platform, "/topo/probe/v1/items", 410), 10, what="retirement")
    assert time.monotonic() - started < PROPAGATION


class Burst(list[int]):
    """The burst's statuses, and how many metered calls the readiness probe made before it."""

    probes = 0


@pytest.fixture(scope="module")
def burst(platform: Platform) -> Burst:
    """The rate-limiting engineer's accuracy burst (tests/plugins/rate_limiting/test_accuracy.py), fired
    at both gateways of this topology: an open API whose spec limits the whole service to LIMIT a day."""
    if 86_400 - time.time() % 86_400 < DEADLINE + 5:  # the burst must not straddle midnight UTC
        time.sleep(86_400 - time.time() % 86_400 + 1)
    # redis_timeout: see test_accuracy (a loaded machine must not turn into uncounted calls).
    limit = {"limit_by": "service", "limits": {"day": LIMIT}, "redis_timeout": 10_000}
    platform.publish(probe_spec("Limited", "1.0.0", ["/items"], {"rate-limiting": limit}), api="limited")
    result = Burst()

    def every_gateway_serves() -> bool:
        # Each 200 here was proxied, so metered: count them, as a gateway that has not loaded the API yet
        # makes the probe go round again and call the other one once more.
        statuses = [
            httpx.get(g.url + "/topo/limited/v1/items", timeout=2).status_code
            for g in platform.gateways.values()
        ]
        result.probes += statuses.count(200)
        return all(status == 200 for status in statuses)

    wait_until(every_gateway_serves, 30, what="limited API")  # readiness, not a measured bound
    # The readiness probe above counted one call per gateway: start from a clean counter.
    with redis.Redis.from_url(platform.redis_url) as client:
        for key in client.scan_iter(match="agora:rl:topo.limited.v1:*"):
            client.delete(key)
    result.extend(asyncio.run(_burst(list(platform.gateways.values()), "/topo/limited/v1/items")))
    return result


def test_one_global_rate_limit_holds_across_both_gateways(platform: Platform, burst: Burst) -> None:
    allowed, refused = burst.count(200), burst.count(429)
    print(f"\nglobal limit: {allowed} allowed of {len(burst)} for a limit of {LIMIT} across two gateways")
    assert allowed + refused == len(burst) == 2 * CALLS_PER_GATEWAY
    assert abs(allowed - LIMIT) <= LIMIT * 0.01
    with redis.Redis.from_url(platform.redis_url) as client:
        (key,) = client.scan_iter(match="agora:rl:topo.limited.v1:*")
        assert int(client.get(key) or 0) == allowed


def test_metering_of_both_gateways_lands_exactly_once(platform: Platform, burst: Burst) -> None:
    expected = len(burst) + burst.probes  # the burst, and the readiness calls that reached the upstream
    wait_until(lambda: platform.usage_count("limited") >= expected, 15, interval=0.2, what="metering")
    time.sleep(1.5)  # one more flush interval: nothing arrives late or twice
    ids = platform.usage_ids("limited")
    assert len(ids) == expected
    assert len(set(ids)) == expected
