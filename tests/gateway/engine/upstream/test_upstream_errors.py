"""Failures become the gateway's errors with a precise detail: timeouts -> GatewayTimeout; refused,
reset, malformed, refused by the address check -> BadGateway."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import pytest
from scripted_upstream import FAST, Upstream, answer, chunks, fetch, read_request, request

from gateway.config.model import Timeouts
from gateway.engine.upstream import UpstreamClient
from gateway.engine.upstream_connection import UpstreamConnection
from gateway.engine.upstream_pool import DEADLINE_TICK, OriginPool, PoolLimits
from gateway.errors import BadGateway, GatewayTimeout


async def _silent(upstream: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.read()  # reads, never answers


def test_refused_connection() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens there

    async def scenario() -> None:
        client = UpstreamClient()
        with pytest.raises(BadGateway, match=f"127.0.0.1:{port} could not be reached: Connection refused"):
            await fetch(client, request(f"http://127.0.0.1:{port}/"))
        assert client.pool(f"http://127.0.0.1:{port}").total == 0
        await client.aclose()

    asyncio.run(scenario())


def test_unresolvable_host() -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        with pytest.raises(BadGateway, match=r"upstream host nowhere\.invalid could not be resolved"):
            await fetch(client, request("http://nowhere.invalid:9/"))
        await client.aclose()

    asyncio.run(scenario())


def test_read_timeout_waiting_for_the_head() -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(_silent) as upstream:
            with pytest.raises(GatewayTimeout, match=r"did not answer within 0\.2 s"):
                await fetch(client, request(upstream.url(), timeouts=Timeouts(connect=1, read=0.2)))
            await upstream.wait_closed(1)  # the connection was dropped
        await client.aclose()

    asyncio.run(scenario())


def test_read_timeouts_are_checked_by_one_pool_timer_that_stops_when_nothing_waits() -> None:
    """Each exchange sets a deadline; the pool's one timer expires the late ones (within a tick of
    their timeout, whatever their number) and is not re-armed once no answer is awaited."""

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(_silent) as upstream:
            pool = client.pool(upstream.origin)
            loop = asyncio.get_running_loop()
            started = loop.time()
            fetches = [
                fetch(client, request(upstream.url(), timeouts=Timeouts(connect=1, read=read)))
                for read in (0.2, 0.2, 0.4)
            ]
            async with asyncio.timeout(3):  # a deadline nobody checks would hang here
                outcomes = await asyncio.gather(*fetches, return_exceptions=True)
            elapsed = loop.time() - started
            assert all(isinstance(outcome, GatewayTimeout) for outcome in outcomes), outcomes
            assert "within 0.4 s" in str(outcomes[2])
            assert 0.4 <= elapsed < 0.4 + DEADLINE_TICK + 0.3
            assert not pool._awaiting  # every waiter left the watch
            await asyncio.sleep(2 * DEADLINE_TICK)
            assert pool._watcher is None  # nothing awaited: no timer ticks on
        await client.aclose()

    asyncio.run(scenario())


def test_read_timeout_in_the_middle_of_the_body() -> None:
    async def stalls(_: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npart")
        await reader.read()

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(stalls) as upstream:
            response = await client.send(request(upstream.url(), timeouts=Timeouts(connect=1, read=0.2)))
            assert await response.read() == b"part"
            with pytest.raises(GatewayTimeout, match=r"sent no more of its body within 0\.2 s"):
                await response.read()
            response.close()
            await upstream.wait_closed(1)
            assert client.pool(upstream.origin).total == 0
        await client.aclose()

    asyncio.run(scenario())


def test_connect_timeout_covers_the_tls_handshake() -> None:
    """A server that accepts the TCP connection but never answers the handshake."""

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(_silent) as upstream:
            with pytest.raises(GatewayTimeout, match=r"did not accept a connection within 0\.2 s"):
                await fetch(
                    client, request(f"https://127.0.0.1:{upstream.port}/", timeouts=Timeouts(connect=0.2))
                )
        await client.aclose()

    asyncio.run(scenario())


def test_write_timeout_when_the_upstream_stops_reading_the_body() -> None:
    async def never_reads(_: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(5)

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(never_reads) as upstream:
            body = chunks(*[b"x" * 65536] * 1000)  # 64 MB: more than the socket buffers hold
            timeouts = Timeouts(connect=1, read=1, write=0.3)
            with pytest.raises(GatewayTimeout, match=r"did not take the request body within 0\.3 s"):
                await fetch(client, request(upstream.url(), "POST", body=body, timeouts=timeouts))
            assert client.pool(upstream.origin).total == 0
        await client.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("reply", "detail"),
    [
        (b"garbage\r\n\r\n", "malformed response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "malformed response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "in the middle of its body"),
        (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "in the middle of its body"),
        (
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: upgrade\r\n\r\n",
            "switched protocols",
        ),
    ],
)
def test_broken_answers_are_bad_gateway(reply: bytes, detail: str) -> None:
    async def once(_: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(reply)
        await writer.drain()

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(once) as upstream:
            with pytest.raises(BadGateway, match=detail):
                await fetch(client, request(upstream.url()))
            assert client.pool(upstream.origin).total == 0
        await client.aclose()

    asyncio.run(scenario())


def test_a_reset_connection_is_bad_gateway() -> None:
    async def resets(_: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        writer.transport.abort()

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(resets) as upstream:
            with pytest.raises(BadGateway, match="closed the connection before answering"):
                await fetch(client, request(upstream.url()))
        await client.aclose()

    asyncio.run(scenario())


def test_header_values_cannot_smuggle_lines() -> None:
    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream() as upstream:
            with pytest.raises(BadGateway, match="contains a line break"):
                await fetch(client, request(upstream.url(), headers=[("x-a", "1\r\nx-b: 2")]))
            assert upstream.connections == 0
        await client.aclose()

    asyncio.run(scenario())


def test_the_address_check_sees_every_address_and_refuses() -> None:
    seen: list[tuple[str, str]] = []

    def no_loopback_v4(host: str, ip: str) -> str | None:
        seen.append((host, ip))
        return "loopback addresses are internal" if ip == "127.0.0.1" else None

    async def scenario() -> None:
        client = UpstreamClient(address_check=no_loopback_v4)
        async with Upstream() as upstream:
            with pytest.raises(
                BadGateway,
                match=f"upstream 127.0.0.1:{upstream.port} was refused: loopback addresses are internal",
            ):
                await fetch(client, request(upstream.url()))
            assert upstream.connections == 0
            assert seen == [("127.0.0.1", "127.0.0.1")]
        await client.aclose()

    asyncio.run(scenario())


def test_the_client_connects_to_the_address_it_checked() -> None:
    """A name is resolved once per connection: the check's verdict is about the address used."""
    seen: list[tuple[str, str]] = []

    def only_v4(host: str, ip: str) -> str | None:
        seen.append((host, ip))
        return None if ip == "127.0.0.1" else "IPv4 only here"

    async def scenario() -> None:
        client = UpstreamClient(address_check=only_v4)
        async with Upstream() as upstream:
            status, _, _ = await fetch(client, request(f"http://localhost:{upstream.port}/", timeouts=FAST))
            assert status == 200
            assert upstream.peers == ["127.0.0.1"]
            assert ("localhost", "127.0.0.1") in seen
            assert upstream.requests[0].header("host") == f"localhost:{upstream.port}"
        await client.aclose()

    asyncio.run(scenario())


def test_an_early_answer_stops_the_body_and_the_connection_is_not_reused() -> None:
    """An upstream that refuses a body (413) before reading it: its answer is relayed."""

    async def refuses(upstream: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(answer(b"too big", "413 Content Too Large"))
        await writer.drain()
        await asyncio.sleep(0.5)

    async def body() -> object:
        yield b"x" * 1000
        await asyncio.sleep(0.2)
        yield b"y" * 1000

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(refuses) as upstream:
            status, _, text = await fetch(client, request(upstream.url(), "POST", body=body()))  # type: ignore[arg-type]
            assert (status, text) == (413, b"too big")
            assert client.pool(upstream.origin).total == 0
        await client.aclose()

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("head", "detail"),
    [
        (b"X-Huge: " + b"h" * 40000 + b"\r\n", "response head larger than 32768 bytes"),
        (b"".join(b"X-%d: 1\r\n" % i for i in range(101)), "more than 100 header fields"),
    ],
)
def test_an_oversized_answer_head_is_bad_gateway(head: bytes, detail: str) -> None:
    reply = b"HTTP/1.1 200 OK\r\n" + head + b"Content-Length: 2\r\n\r\nok"

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(reply=lambda r: reply) as upstream:
            with pytest.raises(BadGateway, match=detail):
                await fetch(client, request(upstream.url()))
            assert client.pool(upstream.origin).total == 0
        await client.aclose()

    asyncio.run(scenario())


def test_an_endless_header_line_is_cut_off() -> None:
    async def endless(_: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nX-Endless: ")
        for _piece in range(100):
            writer.write(b"e" * 4096)
            await writer.drain()
            await asyncio.sleep(0.001)

    async def scenario() -> None:
        client = UpstreamClient()
        async with Upstream(endless) as upstream:
            with pytest.raises(BadGateway, match="response head larger than 32768 bytes"):
                await fetch(client, request(upstream.url()))
        await client.aclose()

    asyncio.run(scenario())


class _Wire:
    """A transport that keeps what is written: the test plays the upstream by feeding the protocol."""

    def __init__(self) -> None:
        self.written: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def abort(self) -> None:
        self.closed = True

    close = abort


def test_a_connection_reused_before_the_last_exchange_ended_keeps_the_next_ones_deadline() -> None:
    """Under load, an answer's last byte releases its connection to the pool before its exchange's task
    resumes, and another request may take the connection meanwhile. When the first task then ends, the
    second exchange must still be timed: its deadline is its own, not the connection's."""

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        limits = PoolLimits()
        pool = OriginPool("http", "127.0.0.1", 9, limits=limits, tls=None, address_check=None, loop=loop)
        conn = UpstreamConnection(pool, loop)
        conn.connection_made(_Wire())  # type: ignore[arg-type]
        pool.total += 1
        first = asyncio.ensure_future(conn.exchange(b"GET /a HTTP/1.1\r\n\r\n", None, False, False, 0.2, 1))
        await asyncio.sleep(0)  # the first exchange awaits its answer
        conn.data_received(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")  # whole: released
        assert pool.take() is conn  # taken again before the first task resumed
        second = conn.exchange(b"GET /b HTTP/1.1\r\n\r\n", None, False, False, 0.2, 1)
        pending = second.send(None)  # runs up to its wait for the answer, which never comes
        response = await first  # the first task ends now
        assert response.status == 200
        waiter = asyncio.ensure_future(_resume(second, pending))
        with pytest.raises(GatewayTimeout, match=r"did not answer within 0\.2 s"):
            async with asyncio.timeout(0.2 + DEADLINE_TICK + 1):
                await waiter
        pool.close()

    asyncio.run(scenario())


async def _resume(coroutine: Any, pending: Any) -> Any:
    """Goes on with a coroutine already started by hand, which waits on `pending`."""
    await asyncio.wait([pending])
    try:
        coroutine.send(None)  # the exchange reads what its future holds: its answer, or its error
    except StopIteration as stop:
        return stop.value
    raise AssertionError("the exchange waited twice")
