"""Redis stopped under load: rate limiting follows each API's `fault_tolerant` (true: served uncounted,
false: 503 problem with Retry-After), both gateways log the outage and its end, and limits are enforced
again by themselves once Redis is back, without restarting anything."""

from __future__ import annotations

import time

import httpx
import pytest

from tests.integration.faults.load import load
from tests.integration.topology.stack import Platform, probe_spec, wait_until
from tests.plugins.rate_limiting.redis_server import PrivateRedis

pytestmark = pytest.mark.integration

HIGH = {"day": 1_000_000}


def _limit(fault_tolerant: bool, limits: dict[str, int], by: str = "ip") -> dict[str, object]:
    return {"rate-limiting": {"limit_by": by, "limits": limits, "fault_tolerant": fault_tolerant}}


def _tight(platform: Platform, gateway: str) -> list[int]:
    return [httpx.get(gateway + "/topo/tight/v1/items", timeout=5).status_code for _ in range(6)]


def test_redis_outage_follows_fault_tolerant_and_recovers(
    platform: Platform, private_redis: PrivateRedis
) -> None:
    platform.publish(probe_spec("Tolerant", "1.0.0", ["/items"], _limit(True, HIGH)), api="tolerant")
    platform.publish(probe_spec("Strict", "1.0.0", ["/items"], _limit(False, HIGH)), api="strict")
    platform.publish(
        probe_spec("Tight", "1.0.0", ["/items"], _limit(True, {"day": 5}, "service")), api="tight"
    )
    a, b = (g.url for g in platform.gateways.values())
    for api in ("tolerant", "strict", "tight"):
        wait_until(
            lambda api=api: all(
                httpx.get(f"{g}/topo/{api}/v1/items", timeout=2).status_code == 200 for g in (a, b)
            ),
            10,
            what=f"{api} published",
        )
    with private_redis.client() as client:
        for key in client.scan_iter(match="agora:rl:topo.tight.v1:*"):
            client.delete(key)
    assert _tight(platform, a) == [200] * 5 + [429]  # enforced, and shared: the 5 went through `a`
    assert httpx.get(b + "/topo/tight/v1/items", timeout=5).status_code == 429

    targets: dict[str, tuple[str, dict[str, str]]] = {
        f"{api}@{name}": (f"{url}/topo/{api}/v1/items", {})
        for api in ("tolerant", "strict")
        for name, url in (("a", a), ("b", b))
    }
    with load(targets, threads_per_target=1) as seen:
        wait_until(lambda: all(len(seen.of(t)) >= 3 for t in targets), 20, what="load before the outage")
        down = time.monotonic()
        private_redis.stop()
        wait_until(
            lambda: all(len(seen.of(t, down + 0.5)) >= 3 for t in targets), 20, what="load during the outage"
        )
        during = httpx.get(a + "/topo/strict/v1/items", timeout=5)
        up = time.monotonic()
        private_redis.start()
        recovered = wait_until(
            lambda: all(httpx.get(f"{g}/topo/strict/v1/items", timeout=2).status_code == 200 for g in (a, b)),
            10,
            what="strict API served again",
        )
        after = time.monotonic() + 0.5
        wait_until(lambda: all(len(seen.of(t, after)) >= 3 for t in targets), 20, what="load after recovery")
        end = time.monotonic()
    print(f"\nredis outage: {up - down:.1f} s down, strict API served again {recovered:.2f} s after restart")

    assert during.status_code == 503 and during.headers["retry-after"] == "1"
    assert during.headers["content-type"] == "application/problem+json"
    for name in ("a", "b"):
        assert set(seen.statuses(f"tolerant@{name}", 0, down)) == {200}
        assert set(seen.statuses(f"strict@{name}", 0, down)) == {200}
        # The outage: the tolerant API keeps serving, the strict one refuses (503), nothing else.
        assert set(seen.statuses(f"tolerant@{name}", down, up)) == {200}
        outage = seen.statuses(f"strict@{name}", down + 0.5, up)
        assert set(outage) == {503} and outage[503] >= 3
        # Back by itself: nothing restarted.
        assert set(seen.statuses(f"tolerant@{name}", after, end)) == {200}
        assert set(seen.statuses(f"strict@{name}", after, end)) == {200}
    assert recovered < 5.0
    # Counters live in Redis: the restarted (non-persistent) Redis starts the day over, and enforces it.
    assert _tight(platform, b) == [200] * 5 + [429]

    logs = platform.logs()
    assert logs.count("unreachable") >= 2, "each gateway logs the outage"
    assert logs.count("reachable again") >= 2, "each gateway logs the recovery"
