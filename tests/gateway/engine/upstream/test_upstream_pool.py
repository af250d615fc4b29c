"""The pool per origin: reuse only after a clean, complete answer; limits; idle expiry; abandoned and
cancelled exchanges drop their connection."""

from __future__ import annotations

import asyncio

import pytest
from scripted_upstream import FAST, Upstream, answer, fetch, read_request, request

from gateway.config.model import Timeouts
from gateway.engine.upstream import PoolLimits, UpstreamClient
from gateway.errors import GatewayTimeout


def test_sequential_requests_share_one_connection() -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream() as upstream:
            for i in range(3):
                status, headers, body = await fetch(client, request(upstream.url(f"/n/{i}?q=1")))
                assert (status, body) == (200, b"ok")
                assert headers == [(b"content-length", b"2")]
            assert upstream.connections == 1
            assert [r.line for r in upstream.requests] == [f"GET /n/{i}?q=1 HTTP/1.1" for i in range(3)]
            assert upstream.requests[0].header("host") == f"127.0.0.1:{upstream.port}"
            pool = client.pool(upstream.origin)
            assert (pool.total, len(pool.idle)) == (1, 1)
            await client.aclose()

    asyncio.run(scenario())


def test_connection_close_and_http10_answers_are_not_reused() -> None:
    replies = [
        answer(headers="Connection: close\r\n"),
        b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
        answer(),
    ]

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(reply=lambda r: replies.pop(0)) as upstream:
            for _ in range(3):
                assert (await fetch(client, request(upstream.url())))[2] == b"ok"
            assert upstream.connections == 3
            await upstream.wait_closed(2)
        await client.aclose()

    asyncio.run(scenario())


def test_an_abandoned_response_drops_its_connection() -> None:
    big = b"x" * 2_000_000

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(reply=lambda r: answer(big)) as upstream:
            response = await client.send(request(upstream.url()))
            assert await response.read()
            assert not response.at_eof()
            response.close()
            pool = client.pool(upstream.origin)
            assert (pool.total, pool.idle) == (0, [])
            await upstream.wait_closed(1)
            assert (await fetch(client, request(upstream.url())))[2] == big
            assert upstream.connections == 2
        await client.aclose()

    asyncio.run(scenario())


def test_a_connection_returns_to_the_pool_once_the_answer_is_complete() -> None:
    """Buffered whole: closing before reading it all does not cost the connection."""

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream() as upstream:
            response = await client.send(request(upstream.url()))
            await asyncio.sleep(0.05)
            response.close()
            assert len(client.pool(upstream.origin).idle) == 1
            await fetch(client, request(upstream.url()))
            assert upstream.connections == 1
        await client.aclose()

    asyncio.run(scenario())


def test_max_connections_makes_requests_wait_then_time_out() -> None:
    async def slow(upstream: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (req := await read_request(reader)) is not None:
            upstream.requests.append(req)
            await asyncio.sleep(0.2)
            writer.write(answer())

    async def scenario() -> None:
        client = UpstreamClient(limits=PoolLimits(max_connections=1))
        async with Upstream(slow) as upstream:
            results = await asyncio.gather(*(fetch(client, request(upstream.url())) for _ in range(3)))
            assert [body for _, _, body in results] == [b"ok"] * 3
            assert upstream.connections == 1
            hurried = Timeouts(connect=0.1, read=2.0)
            first = asyncio.ensure_future(fetch(client, request(upstream.url())))
            await asyncio.sleep(0.02)
            with pytest.raises(GatewayTimeout, match=r"came free within 0\.1 s"):
                await fetch(client, request(upstream.url(), timeouts=hurried))
            assert (await first)[0] == 200
        await client.aclose()

    asyncio.run(scenario())


def test_idle_connections_expire_and_beyond_max_idle_are_closed() -> None:
    async def stall(upstream: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (req := await read_request(reader)) is not None:
            upstream.requests.append(req)
            await asyncio.sleep(0.1)
            writer.write(answer())

    async def scenario() -> None:
        client = UpstreamClient(limits=PoolLimits(max_idle=1, idle_timeout=0.2))
        async with Upstream(stall) as upstream:
            await asyncio.gather(*(fetch(client, request(upstream.url())) for _ in range(3)))
            pool = client.pool(upstream.origin)
            assert upstream.connections == 3
            assert (pool.total, len(pool.idle)) == (1, 1)
            await upstream.wait_closed(2)
            await asyncio.sleep(0.4)  # past idle_timeout: the sweeper closed the last one
            assert (pool.total, pool.idle) == (0, [])
            await upstream.wait_closed(3)
        await client.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize("stage", ["head", "body"])
def test_a_cancelled_caller_drops_the_upstream_connection(stage: str) -> None:
    """The client left: whether the head had come or the body was streaming, the connection closes."""

    async def scenario() -> None:
        event = asyncio.Event()

        async def hang(_: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await read_request(reader)
            if stage == "body":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
            event.set()
            await reader.read()  # until the gateway closes

        client = UpstreamClient()
        async with Upstream(hang) as upstream:

            async def call() -> None:
                response = await client.send(request(upstream.url(), timeouts=FAST))
                assert await response.read() == b"abc"
                await response.read()

            task = asyncio.ensure_future(call())
            await event.wait()
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            pool = client.pool(upstream.origin)
            assert (pool.total, pool.idle) == (0, [])
            await upstream.wait_closed(1)
        await client.aclose()

    asyncio.run(scenario())
