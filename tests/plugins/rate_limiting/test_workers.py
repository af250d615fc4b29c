"""`agora gateway --workers 2` on the engine: the workers of one node share the local policy's counters,
so together they allow a limit once, not once each."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from gateway_harness import StartGateway

from tests.plugins.helpers import route, service, snapshot

pytestmark = pytest.mark.integration

LIMIT = 10


def test_two_workers_allow_the_limit_once_per_node(start_gateway: StartGateway, upstream: str) -> None:
    no_limits: dict[str, Any] = {"second": None, "minute": None, "hour": None, "month": None}
    limited = {"name": "rate-limiting", "config": {"limit_by": "ip", "limits": {**no_limits, "day": LIMIT}}}
    items = [route("GET", "/items")]
    document = snapshot([service("gov.open.v1", upstream + "/echo", items, plugins=[limited])])
    gateway = start_gateway(document, workers=2, env={"AGORA_REDIS_URL": ""})
    fresh = httpx.Limits(max_keepalive_connections=0)  # a connection per call: both workers answer
    with httpx.Client(base_url=gateway.url, limits=fresh, timeout=10) as client:
        answers = [client.get("/gov/open/v1/items") for _ in range(3 * LIMIT)]
    assert [a.status_code for a in answers].count(200) == LIMIT  # not LIMIT per worker
    assert {a.status_code for a in answers} == {200, 429}
    remaining = [int(a.headers["X-RateLimit-Remaining-Day"]) for a in answers if a.status_code == 200]
    assert sorted(remaining) == list(range(LIMIT))  # one count: every value once
