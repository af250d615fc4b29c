"""`UpstreamClient.begin_encoded`, the direct lane's send: only on an idle kept-alive connection, the
request written when the loop's turn ends (not at once: docs/gateway.md "Direct lane"), and a
connection lost before that write sends nothing and fails as the keep-alive race (`Stale`)."""

from __future__ import annotations

import asyncio

import pytest
from scripted_upstream import FAST, Upstream, fetch, request

from gateway.engine.upstream import UpstreamClient
from gateway.engine.upstream_connection import Stale, UpstreamConnection
from gateway.engine.upstream_response import UpstreamResponse


def test_no_idle_connection_sends_nothing() -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream() as upstream:
            assert client.begin_encoded(upstream.origin, "GET", "/a", b"", FAST) is None
            await asyncio.sleep(0.05)
            assert upstream.connections == 0 and upstream.requests == []
        await client.aclose()

    asyncio.run(scenario())


async def begun_on_a_warm_connection(
    client: UpstreamClient, upstream: Upstream, headers: bytes = b""
) -> tuple[UpstreamConnection, asyncio.Future[UpstreamResponse], bytes]:
    """A first exchange leaves a kept-alive connection idle; then GET /a begins on it."""
    await fetch(client, request(upstream.url("/warm")))
    begun = client.begin_encoded(upstream.origin, "GET", "/a", headers, FAST)
    assert begun is not None
    return begun


def test_the_request_is_written_at_the_end_of_the_loop_turn_and_answered() -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream() as upstream:
            conn, waiter, head = await begun_on_a_warm_connection(client, upstream, b"x-one: 1\r\n")
            assert head.startswith(b"GET /a HTTP/1.1\r\n") and b"x-one: 1\r\n" in head
            response = await waiter
            conn.pool.answered(waiter)
            assert response.status == 200 and response.whole() == b"ok"
            assert [r.line for r in upstream.requests] == ["GET /warm HTTP/1.1", "GET /a HTTP/1.1"]
            assert upstream.connections == 1
        await client.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize("how", ["lost", "dropped"])
def test_a_connection_gone_before_the_write_sends_nothing(how: str) -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream() as upstream:
            conn, waiter, _ = await begun_on_a_warm_connection(client, upstream)
            # Written at once, the request would reach the upstream before the connection goes.
            if how == "lost":  # the upstream's close, seen in the same loop turn
                conn.connection_lost(None)
                with pytest.raises(Stale):
                    await waiter
            else:  # the client left: the lane drops the connection
                conn.drop()
            conn.pool.answered(waiter)
            await upstream.wait_closed(1)
            assert [r.line for r in upstream.requests] == ["GET /warm HTTP/1.1"]
        await client.aclose()

    asyncio.run(scenario())
