"""Circuit breakers: passive opening on consecutive failures and on the failure rate, the 503 problem
with Retry-After while open, the half-open trial, active probes opening and closing, per origin."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.inprocess import HandlerTransport
from gateway.errors import BadGateway
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.settings import GatewaySettings
from gateway.upstream.circuit import CLOSED, HALF_OPEN, OPEN, Breaker, BreakerPolicy, Breakers, origin_of
from gateway.upstream.transport import UpstreamRequest
from tests.gateway.test_gateway_plugin_host import EchoResponse

POLICY = BreakerPolicy(consecutive_failures=3, window=10.0, min_calls=10, failure_rate=0.5, cooldown=5.0)


def test_consecutive_failures_open_and_a_trial_closes() -> None:
    changes: list[str] = []
    breaker = Breaker("http://up", POLICY, lambda b: changes.append(b.state))
    for _ in range(2):
        breaker.record(False, 1.0)
    breaker.record(True, 1.0)  # a success resets the streak
    for _ in range(3):
        assert breaker.allow(2.0)
        breaker.record(False, 2.0)
    assert breaker.state == OPEN and not breaker.allow(3.0) and breaker.retry_after(3.0) == 4
    assert breaker.allow(7.5) and breaker.state == HALF_OPEN  # cooldown over: one trial
    assert not breaker.allow(7.6)  # only one at a time
    breaker.record(False, 7.7)
    assert breaker.state == OPEN  # the trial failed
    assert breaker.allow(13.0)
    breaker.record(True, 13.1)
    assert breaker.state == CLOSED and changes == [OPEN, HALF_OPEN, OPEN, HALF_OPEN, CLOSED]


def test_failure_rate_opens_and_the_window_forgets() -> None:
    breaker = Breaker("http://up", POLICY)
    for i in range(9):  # alternating: never 3 in a row, 4 of 9 failed: below min_calls anyway
        breaker.record(i % 2 == 0, 1.0)
    assert breaker.state == CLOSED
    breaker.record(False, 1.0)  # 10 calls, 5 failures: 50%
    assert breaker.state == OPEN
    fresh = Breaker("http://up", POLICY)
    for i in range(9):
        fresh.record(i % 2 == 0, 1.0)
    fresh.record(False, 12.0)  # a new window: 1 call
    assert fresh.state == CLOSED


def test_probes_open_keep_open_and_close() -> None:
    breaker = Breaker("http://up", POLICY)
    breaker.probe(False, 1.0)
    assert breaker.state == CLOSED
    breaker.probe(False, 2.0)
    assert breaker.state == OPEN
    breaker.probe(False, 6.5)  # still down: the cooldown starts again
    assert not breaker.allow(10.0)
    breaker.probe(True, 10.0)  # up, but the cooldown since the last failed probe is not over
    assert breaker.state == OPEN
    breaker.probe(True, 11.6)
    assert breaker.state == CLOSED and (breaker.probes, breaker.probes_ok) == (5, 2)


def test_an_abandoned_trial_frees_the_slot() -> None:
    breaker = Breaker("http://up", POLICY)
    for _ in range(3):
        breaker.record(False, 0.0)
    assert breaker.allow(6.0)
    breaker.abandon()
    assert breaker.allow(6.1)


def test_origin_and_per_origin_breakers() -> None:
    assert origin_of("http://a:81/x/y?q=1") == "http://a:81"
    assert origin_of("https://b") == "https://b"
    breakers = Breakers(POLICY)
    assert breakers.get("http://a:81") is breakers.get("http://a:81")
    assert breakers.get("http://a:81") is not breakers.get("http://b:82")


class FailingTransport:
    """Refuses every call, like an upstream whose process is gone."""

    def __init__(self) -> None:
        self.calls = 0
        self.up = False

    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    async def send(self, request: UpstreamRequest) -> Any:
        self.calls += 1
        if not self.up:
            raise BadGateway("connection refused")
        return EchoResponse(b"ok")


def test_open_circuit_answers_503_problem_with_retry_after_without_calling() -> None:
    doc = {
        "format": 1,
        "services": [
            {"name": "gov.x.v1", "prefix": "/gov/x/v1", "upstream": "http://up.test:9", "agency": "gov",
             "api": "x", "version": "1.0.0", "routes": [{"operation_id": "g", "method": "GET", "path": "/a"}]}
        ],
    }  # fmt: skip
    registry = PluginRegistry()
    transport = FailingTransport()
    gateway = create_app(
        GatewaySettings(health_checks=False, circuit_cooldown=30.0),
        registry=registry,
        config=compile_snapshot(doc, registry),
        transport=transport,
        health=True,
    )

    async def calls() -> tuple[list[int], httpx.Response]:
        asgi = HandlerTransport(gateway)
        async with httpx.AsyncClient(transport=asgi, base_url="http://gw") as client:
            statuses = [(await client.get("/gov/x/v1/a")).status_code for _ in range(7)]
            return statuses, await client.get("/gov/x/v1/a")

    statuses, refused = asyncio.run(calls())
    assert statuses == [502] * 5 + [503] * 2
    assert transport.calls == 5
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 30
    body = refused.json()
    assert body["type"].endswith("/upstream-unavailable") and body["retry_after"] == int(
        refused.headers["retry-after"]
    )


@pytest.mark.parametrize("given", [None, False])
def test_injected_transports_get_no_breaker_unless_asked(given: bool | None) -> None:
    gateway = create_app(
        GatewaySettings(),
        registry=PluginRegistry(),
        config=compile_snapshot({"format": 1}, PluginRegistry()),
        transport=FailingTransport(),
        health=given,
    )
    assert gateway.health is None
