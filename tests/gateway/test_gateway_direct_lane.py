"""The direct lane (gateway/pipeline/direct.py): a body-less request on a warm pooled connection is
forwarded and answered from callbacks, without a task, and every case it does not handle itself goes
on in a task as the task path would have handled it. A real engine server, the shipped upstream client
and a scripted upstream, all on loopback, on uvloop as the gateway runs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest
import uvloop

from gateway.app import Gateway, create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.server import Server, serve
from gateway.pipeline.direct import DirectExchange, WaitingStep
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.pipeline.usage import RequestFacts
from gateway.settings import GatewaySettings
from tests.gateway.engine.upstream.scripted_upstream import Upstream, answer, read_request
from tests.plugins.rate_limiting.redis_server import PrivateRedis

T = TypeVar("T")
PREFIX = "/gov/lane/v1"


def run(coro: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


class Stack:
    def __init__(
        self, gateway: Gateway, server: Server, upstream: Upstream, facts: list[RequestFacts]
    ) -> None:
        self.gateway, self.server, self.upstream, self.facts = gateway, server, upstream, facts
        self.url = f"http://127.0.0.1:{server.port}"

    def in_flight(self) -> list[object]:
        """What each client connection's request runs as right now: a Task, a DirectExchange, None."""
        return [conn._task for conn in self.server.conns]


@asynccontextmanager
async def stack(upstream: Upstream, *, read: float = 2.0, plugins: list[dict[str, Any]] | None = None
                ) -> AsyncIterator[Stack]:  # fmt: skip
    registry = PluginRegistry.discover("plugins")
    doc = {
        "format": 1,
        "services": [
            {"name": "gov.lane.v1", "prefix": PREFIX, "upstream": upstream.origin, "agency": "gov",
             "api": "lane", "version": "1.0.0", "timeouts": {"connect": 2.0, "read": read},
             "plugins": plugins or [],
             "routes": [{"operation_id": op, "method": method, "path": "/items"}
                        for op, method in (("list", "GET"), ("add", "POST"))]},
        ],
    }  # fmt: skip
    facts: list[RequestFacts] = []
    gateway = create_app(
        GatewaySettings(health_checks=False),
        registry=registry,
        config=compile_snapshot(doc, registry),
        hooks=[facts.append],
    )
    await gateway.startup()
    server = await serve(gateway, "127.0.0.1", 0)
    try:
        yield Stack(gateway, server, upstream, facts)
    finally:
        await server.close(0.5)
        await gateway.shutdown()


def gated(release: asyncio.Event, body: Callable[[int], bytes] = lambda n: answer(f"answer {n}".encode())
          ) -> Upstream:  # fmt: skip
    """A keep-alive upstream that holds each answer from its second request on until `release` is set."""

    async def handler(upstream: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_request(reader)) is not None:
            upstream.requests.append(request)
            if len(upstream.requests) > 1:
                await release.wait()
            writer.write(body(len(upstream.requests)))
            await writer.drain()

    return Upstream(handler)


async def eventually(check: Callable[[], bool], timeout: float = 2.0) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.005)


def test_a_request_on_a_warm_connection_runs_without_a_task() -> None:
    async def scenario() -> None:
        release = asyncio.Event()
        async with gated(release) as upstream, stack(upstream) as lane:
            async with httpx.AsyncClient(base_url=lane.url) as client:
                first = await client.get(PREFIX + "/items")  # no idle upstream connection yet: a task
                assert (first.status_code, first.text) == (200, "answer 1")
                call = asyncio.ensure_future(client.get(PREFIX + "/items", headers={"x-probe": "1"}))
                await eventually(lambda: len(upstream.requests) == 2)
                assert [type(work) for work in lane.in_flight()] == [DirectExchange]
                assert not lane.server.tasks  # no task anywhere for it
                release.set()
                second = await call
            assert (second.status_code, second.text) == (200, "answer 2")
            assert second.headers["x-request-id"]  # what the task path adds, the lane adds
            assert upstream.requests[1].header("x-probe") == "1"  # forwarded as the task path forwards
            assert upstream.connections == 1  # the warm connection carried it
            await eventually(lambda: len(lane.facts) == 2)
            assert [(f.status, f.route) for f in lane.facts] == [(200, "list"), (200, "list")]
            assert lane.facts[1].latency_upstream_ms is not None and lane.facts[1].bytes_out > 0

    run(scenario())


def test_a_request_with_a_body_keeps_the_task_path() -> None:
    async def scenario() -> None:
        release = asyncio.Event()
        async with gated(release) as upstream, stack(upstream) as lane:
            async with httpx.AsyncClient(base_url=lane.url) as client:
                await client.get(PREFIX + "/items")
                call = asyncio.ensure_future(client.post(PREFIX + "/items", content=b'{"a":1}'))
                await eventually(lambda: len(upstream.requests) == 2)
                assert [type(work) for work in lane.in_flight()] == [asyncio.Task]
                release.set()
                assert (await call).status_code == 200
            assert upstream.requests[1].body == b'{"a":1}'

    run(scenario())


def test_a_client_that_leaves_drops_the_upstream_connection_and_counts_a_499() -> None:
    async def scenario() -> None:
        release = asyncio.Event()
        async with gated(release) as upstream, stack(upstream) as lane:
            port = lane.url.rsplit(":", 1)[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", int(port))
            request = f"GET {PREFIX}/items HTTP/1.1\r\nHost: gw\r\n\r\n".encode()
            writer.write(request)
            await reader.readuntil(b"answer 1")
            writer.write(request)
            await eventually(lambda: len(upstream.requests) == 2)
            assert [type(work) for work in lane.in_flight()] == [DirectExchange]
            writer.close()  # gone before the answer's head
            await eventually(lambda: len(lane.facts) == 2)
            assert lane.facts[1].status == 499
            release.set()  # the upstream answers now, to a connection the gateway dropped (not pooled)
            await upstream.wait_closed(1)

    run(scenario())


def warm_then(later: Callable[[asyncio.StreamWriter], Coroutine[Any, Any, bool]]) -> Upstream:
    """An upstream that answers the first request (warming the pool) and hands the later ones to
    `later`, which writes what it wants and says whether the connection goes on."""

    async def handler(upstream: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await read_request(reader)) is not None:
            upstream.requests.append(request)
            if len(upstream.requests) == 1:
                writer.write(answer(b"warm"))
            elif not await later(writer):
                return
            await writer.drain()

    return Upstream(handler)


def test_a_body_still_arriving_streams_in_a_task() -> None:
    upstream_gate = asyncio.Event()

    async def later(writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nfirst\r\n")
        await writer.drain()
        await upstream_gate.wait()
        writer.write(b"6\r\nsecond\r\n0\r\n\r\n")
        return True

    async def scenario() -> None:
        async with warm_then(later) as upstream, stack(upstream) as lane:
            async with httpx.AsyncClient(base_url=lane.url) as client:
                await client.get(PREFIX + "/items")
                async with client.stream("GET", PREFIX + "/items") as streamed:
                    assert streamed.status_code == 200
                    chunks = streamed.aiter_raw()
                    assert await anext(chunks) == b"first"
                    assert [type(work) for work in lane.in_flight()] == [asyncio.Task]  # adopted
                    upstream_gate.set()
                    assert b"".join([chunk async for chunk in chunks]) == b"second"
            await eventually(lambda: len(lane.facts) == 2)
            assert lane.facts[1].status == 200 and lane.facts[1].bytes_out == len(b"firstsecond")

    run(scenario())


def _closes_kept_alive_connections(times: int) -> Upstream:
    """Answers each connection's first request; on the second, closes without answering (the
    keep-alive race, as an upstream that timed the connection out would), for `times` connections."""

    async def handler(upstream: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        served = 0
        while (request := await read_request(reader)) is not None:
            upstream.requests.append(request)
            served += 1
            if served == 2 and upstream.connections <= times:
                return
            writer.write(answer(f"{request.line} #{upstream.connections}".encode()))
            await writer.drain()

    return Upstream(handler)


def test_a_closed_warm_connection_is_retried_on_a_fresh_one() -> None:
    async def scenario() -> None:
        async with _closes_kept_alive_connections(1) as upstream, stack(upstream) as lane:
            async with httpx.AsyncClient(base_url=lane.url) as client:
                await client.get(PREFIX + "/items")
                again = await client.get(PREFIX + "/items")
            assert (again.status_code, again.text) == (200, "GET /items HTTP/1.1 #2")
            assert upstream.connections == 2
            await eventually(lambda: len(lane.facts) == 2)
            assert lane.facts[1].status == 200

    run(scenario())


@pytest.mark.parametrize(
    ("script", "status", "kind"),
    [
        ("close", 502, "bad-gateway"),  # answer bytes, then the close: never the keep-alive race's retry
        ("stall", 504, "gateway-timeout"),
    ],
)
def test_an_upstream_failure_in_the_lane_is_a_problem_document(script: str, status: int, kind: str) -> None:
    async def later(writer: asyncio.StreamWriter) -> bool:
        if script == "close":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Le")
            await writer.drain()
            return False
        await asyncio.sleep(5)
        return False

    async def scenario() -> None:
        async with warm_then(later) as upstream, stack(upstream, read=0.3) as lane:
            async with httpx.AsyncClient(base_url=lane.url) as client:
                await client.get(PREFIX + "/items")
                failed = await client.get(PREFIX + "/items")
            assert failed.status_code == status
            assert failed.headers["content-type"] == "application/problem+json"
            assert failed.json()["type"].endswith(kind) and failed.json()["instance"] == PREFIX + "/items"
            assert failed.headers["x-request-id"] == failed.json()["request_id"]
            await eventually(lambda: len(lane.facts) == 2)
            assert lane.facts[1].status == status
            assert lane.gateway.health is not None
            breaker = lane.gateway.health.breakers.get(upstream.origin)
            assert (breaker.requests, breaker.failures) == (2, 1)  # it saw both, as on the task path

    run(scenario())


# A fast step that waits (rate-limiting's Redis call) keeps the lane: a WaitingStep, then the exchange.
# The Redis is a private one, which the tests pause (CLIENT PAUSE) to catch a request waiting for it.


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def limited(redis: PrivateRedis, per_minute: int, **config: object) -> list[dict[str, Any]]:
    limits = {"second": None, "minute": per_minute, "hour": None, "day": None, "month": None}
    return [{"name": "rate-limiting", "config": {"limit_by": "ip", "policy": "redis", "redis_url": redis.url,
                                                 "limits": limits, **config}}]  # fmt: skip


def test_a_request_waiting_for_redis_keeps_the_lane(redis_server: PrivateRedis) -> None:
    admin = redis_server.client()

    async def scenario() -> None:
        release = asyncio.Event()
        async with gated(release) as upstream, stack(upstream, plugins=limited(redis_server, 100)) as lane:
            async with httpx.AsyncClient(base_url=lane.url) as client:
                first = await client.get(PREFIX + "/items")  # connects to Redis and warms the upstream
                assert first.headers["x-ratelimit-remaining-minute"] == "99"
                admin.client_pause(300)  # Redis answers nobody for 0.3 s
                call = asyncio.ensure_future(client.get(PREFIX + "/items"))
                await eventually(lambda: [type(w) for w in lane.in_flight()] == [WaitingStep])
                assert not lane.server.tasks and len(upstream.requests) == 1  # no task; not sent yet
                await eventually(lambda: len(upstream.requests) == 2)  # Redis answered: sent upstream
                (waiting,) = lane.in_flight()
                assert isinstance(waiting, WaitingStep) and isinstance(waiting.then, DirectExchange)
                assert not lane.server.tasks and not waiting.done()
                release.set()
                second = await call
            assert (second.status_code, second.text) == (200, "answer 2")
            assert second.headers["x-ratelimit-remaining-minute"] == "98"  # the step's headers, as before
            await eventually(lambda: len(lane.facts) == 2)
            assert [f.status for f in lane.facts] == [200, 200]

    run(scenario())


def test_a_refusal_after_the_wait_is_the_pdk_phase_s(redis_server: PrivateRedis) -> None:
    async def scenario() -> None:
        release = asyncio.Event()
        release.set()
        async with gated(release) as upstream, stack(upstream, plugins=limited(redis_server, 1)) as lane:
            async with httpx.AsyncClient(base_url=lane.url) as client:
                assert (await client.get(PREFIX + "/items")).status_code == 200
                refused = await client.get(PREFIX + "/items")
            assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
            assert refused.headers["content-type"] == "application/problem+json"
            assert len(upstream.requests) == 1  # the refused call never went upstream
            await eventually(lambda: len(lane.facts) == 2)
            assert [f.status for f in lane.facts] == [200, 429]

    run(scenario())


def test_a_client_that_leaves_during_the_wait_counts_a_499(redis_server: PrivateRedis) -> None:
    admin = redis_server.client()

    async def scenario() -> None:
        release = asyncio.Event()
        release.set()
        async with gated(release) as upstream, stack(upstream, plugins=limited(redis_server, 100)) as lane:
            port = lane.url.rsplit(":", 1)[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", int(port))
            request = f"GET {PREFIX}/items HTTP/1.1\r\nHost: gw\r\n\r\n".encode()
            writer.write(request)
            await reader.readuntil(b"answer 1")
            admin.client_pause(300)
            writer.write(request)
            await eventually(lambda: [type(w) for w in lane.in_flight()] == [WaitingStep])
            writer.close()  # gone while the step waits for Redis
            await eventually(lambda: len(lane.facts) == 2)
            assert lane.facts[1].status == 499
            await asyncio.sleep(0.4)  # Redis answers now, to a caller who left: ignored, nothing sent
            assert len(upstream.requests) == 1
            async with httpx.AsyncClient(base_url=lane.url) as client:  # the next caller is answered
                answered = await client.get(PREFIX + "/items")
            assert answered.status_code == 200
            assert answered.headers["x-ratelimit-remaining-minute"] == "97"  # the one who left was counted

    run(scenario())
