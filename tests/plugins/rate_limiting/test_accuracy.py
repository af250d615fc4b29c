"""Two gateway processes sharing the machine's real Redis enforce one global limit: calls fired
concurrently at both, for a bounded time and count, are allowed within 1% of the limit in total,
and Redis's counter agrees with what the clients saw."""

from __future__ import annotations

import asyncio
import time
import uuid

import httpx
import pytest
import redis
from gateway_harness import GatewayProcess, StartGateway

from tests.plugins.helpers import route, service, snapshot
from tests.plugins.rate_limiting.conftest import SHARED_REDIS
from tests.plugins.rate_limiting.redis_server import delete_keys

pytestmark = pytest.mark.integration

LIMIT = 400
CALLS_PER_GATEWAY = 500  # 1,000 calls for 400 allowed: both gateways keep racing for the last units
CONCURRENCY = 24  # per gateway
DEADLINE = 90.0  # seconds, for the whole burst


async def _burst(gateways: list[GatewayProcess], path: str) -> list[int]:
    statuses: list[int] = []
    deadline = time.monotonic() + DEADLINE

    async def worker(client: httpx.AsyncClient, calls: list[int]) -> None:
        while calls and time.monotonic() < deadline:
            calls.pop()
            statuses.append((await client.get(path)).status_code)

    clients = [httpx.AsyncClient(base_url=g.url, timeout=20) for g in gateways]
    try:
        queues = [list(range(CALLS_PER_GATEWAY)) for _ in gateways]
        await asyncio.gather(
            *(worker(c, q) for c, q in zip(clients, queues, strict=True) for _ in range(CONCURRENCY))
        )
    finally:
        for client in clients:
            await client.aclose()
    return statuses


def test_two_gateways_share_one_limit(start_gateway: StartGateway, upstream: str) -> None:
    if 86_400 - time.time() % 86_400 < DEADLINE + 5:  # the burst must not straddle midnight UTC
        time.sleep(86_400 - time.time() % 86_400 + 1)
    name = f"gov.acc{uuid.uuid4().hex[:12]}.v1"
    limits = {"second": None, "minute": None, "hour": None, "day": LIMIT, "month": None}
    # Policy unset, as the registry emits it: the gateways pick Redis from AGORA_REDIS_URL.
    # A generous Redis timeout: on a machine loaded by the rest of the suite, one answer over the default
    # 2 s would leave a second of calls uncounted (fault_tolerant), which is not what this test measures.
    config = {"limit_by": "service", "limits": limits, "redis_timeout": 10_000}
    plugin = {"name": "rate-limiting", "config": config}
    document = snapshot([service(name, upstream + "/echo", [route("GET", "/items")], plugins=[plugin])])
    env = {"AGORA_REDIS_URL": SHARED_REDIS}
    gateways = [start_gateway(document, env=env), start_gateway(document, env=env)]
    prefix = "/" + name.replace(".", "/")
    try:
        started = time.monotonic()
        statuses = asyncio.run(_burst(gateways, prefix + "/items"))
        elapsed = time.monotonic() - started
        allowed, refused = statuses.count(200), statuses.count(429)
        print(f"\naccuracy: {allowed} allowed of {len(statuses)} for a limit of {LIMIT} in {elapsed:.1f} s")
        assert allowed + refused == len(statuses) == 2 * CALLS_PER_GATEWAY  # all sent, none failed
        assert abs(allowed - LIMIT) <= LIMIT * 0.01
        with redis.Redis.from_url(SHARED_REDIS) as client:
            (key,) = client.scan_iter(match=f"agora:rl:{name}:*")
            assert int(client.get(key) or 0) == allowed
    finally:
        delete_keys(SHARED_REDIS, f"agora:rl:{name}:*")
