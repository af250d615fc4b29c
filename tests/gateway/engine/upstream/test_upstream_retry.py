"""The keep-alive race: a pooled connection the upstream closed just as the request went out. One retry
on a fresh connection for an idempotent request; never for POST/PATCH, never after answer bytes."""

from __future__ import annotations

import asyncio
import socket
import struct

import pytest
from scripted_upstream import Upstream, answer, chunks, fetch, read_request, request

from gateway.engine.upstream import UpstreamClient
from gateway.errors import BadGateway


def _closes_its_first_connection_after_one_answer(partial: bytes = b"", reset: bool = False) -> Upstream:
    """The first connection answers once, then reads the next request and closes (sending `partial`
    first, or resetting the connection); later connections answer everything."""

    async def handler(upstream: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        first = upstream.connections == 1
        while (req := await read_request(reader)) is not None:
            upstream.requests.append(req)
            if first and len(upstream.requests) > 1:
                if reset:
                    sock = writer.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    writer.transport.abort()
                    return
                writer.write(partial)
                await writer.drain()
                return
            writer.write(answer(req.line.encode()))
            await writer.drain()

    return Upstream(handler)


@pytest.mark.parametrize("reset", [False, True], ids=["closed", "reset"])
@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])
def test_an_idempotent_request_is_sent_again_on_a_fresh_connection(method: str, reset: bool) -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with _closes_its_first_connection_after_one_answer(reset=reset) as upstream:
            await fetch(client, request(upstream.url("/warm")))
            status, _, body = await fetch(client, request(upstream.url("/again"), method))
            assert status == 200
            assert body == (b"" if method == "HEAD" else f"{method} /again HTTP/1.1".encode())
            assert upstream.connections == 2
            assert [r.line.split()[0] for r in upstream.requests] == ["GET", method, method]
        await client.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize("method", ["POST", "PATCH"])
def test_a_non_idempotent_request_is_not_retried(method: str) -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with _closes_its_first_connection_after_one_answer() as upstream:
            await fetch(client, request(upstream.url()))
            with pytest.raises(BadGateway, match="closed a kept-alive connection"):
                await fetch(client, request(upstream.url(), method, [("content-length", "2")], chunks(b"{}")))
            assert upstream.connections == 1
        await client.aclose()

    asyncio.run(scenario())


def test_a_put_whose_streamed_body_was_consumed_is_not_retried() -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with _closes_its_first_connection_after_one_answer() as upstream:
            await fetch(client, request(upstream.url()))
            with pytest.raises(BadGateway, match="closed a kept-alive connection"):
                await fetch(client, request(upstream.url(), "PUT", body=chunks(b"a", b"b")))
            assert upstream.connections == 1
        await client.aclose()

    asyncio.run(scenario())


def test_no_retry_once_answer_bytes_arrived() -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with _closes_its_first_connection_after_one_answer(b"HTTP/1.1 200 OK\r\n") as upstream:
            await fetch(client, request(upstream.url()))
            with pytest.raises(BadGateway, match="closed the connection before answering"):
                await fetch(client, request(upstream.url()))
            assert upstream.connections == 1
        await client.aclose()

    asyncio.run(scenario())


def test_a_fresh_connection_closed_without_an_answer_is_not_retried() -> None:
    async def close_at_once(
        upstream: Upstream, reader: asyncio.StreamReader, _: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(close_at_once) as upstream:
            with pytest.raises(BadGateway, match="closed the connection before answering"):
                await fetch(client, request(upstream.url()))
            assert upstream.connections == 1
        await client.aclose()

    asyncio.run(scenario())
