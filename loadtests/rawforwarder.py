"""The least a Python reverse proxy can do per request on this machine: the yardstick of the data-plane
issue, measured rather than assumed. uvloop's protocols and httptools (llhttp) on both sides, one pooled
keep-alive upstream connection per request in flight, callbacks only (no coroutine, no task, no ASGI).

It parses the client's request and the upstream's response, drops hop-by-hop headers, and writes each
message on once it is complete (bodies buffered whole, sent with a Content-Length). Nothing else: no
routing, request id, plugins, limits, streaming, timeouts or error documents. So it is not a gateway:
it is the floor below which no Python gateway on this event loop and parser can go, and
`loadtests.ceiling` sets Agora's bare gateway beside it. tests/loadtests/test_forwarder.py checks
that it forwards what a proxy forwards.

    python -m loadtests.rawforwarder --port 8500 --upstream http://127.0.0.1:8600
"""

from __future__ import annotations

import argparse
import asyncio
from collections import deque
from collections.abc import Sequence
from urllib.parse import urlsplit

import httptools
import uvloop

__all__ = ["main"]

# Hop-by-hop headers (RFC 9110 7.6.1), the host (the upstream's is sent) and the framing (set anew).
_DROPPED = frozenset(
    {b"connection", b"keep-alive", b"proxy-connection", b"te", b"trailer", b"transfer-encoding", b"upgrade",
     b"host", b"content-length"}
)  # fmt: skip
_BAD_GATEWAY = b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n"


class _Message:
    """httptools' callbacks that collect a message's end-to-end header lines and its body."""

    headers: list[bytes]
    body: list[bytes]

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() not in _DROPPED:
            self.headers += (name, b": ", value, b"\r\n")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)


class Upstream(_Message, asyncio.Protocol):
    """One keep-alive connection to the upstream; back in the pool after a complete response."""

    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.client: Client | None = None
        self.headers: list[bytes] = []
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's, not asyncio's class

    def send(self, client: Client, head: bytes) -> None:
        self.client, self.headers, self.body = client, [], []
        assert self.transport is not None
        self.transport.write(head)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail()

    def on_message_complete(self) -> None:
        client, body = self.client, b"".join(self.body)
        self.client = None
        status = self.parser.get_status_code()
        head = b"HTTP/1.1 %d \r\n%bcontent-length: %d\r\n\r\n" % (status, b"".join(self.headers), len(body))
        self.pool.idle.append(self)
        if client is not None:
            client.answer(head + body)

    def connection_lost(self, exc: Exception | None) -> None:
        if self in self.pool.idle:
            self.pool.idle.remove(self)
        self._fail()

    def _fail(self) -> None:
        client, self.client = self.client, None
        if client is not None:
            client.answer(_BAD_GATEWAY)
        if self.transport is not None:
            self.transport.close()


class Pool:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.idle: deque[Upstream] = deque()
        self.connecting: set[asyncio.Task[None]] = set()  # held: the loop keeps only weak references

    def send(self, client: Client, head: bytes) -> None:
        if self.idle:
            self.idle.pop().send(client, head)
            return
        task = asyncio.ensure_future(self._connect(client, head))
        self.connecting.add(task)
        task.add_done_callback(self.connecting.discard)

    async def _connect(self, client: Client, head: bytes) -> None:
        try:
            _, upstream = await asyncio.get_running_loop().create_connection(
                lambda: Upstream(self), self.host, self.port
            )
        except OSError:
            client.answer(_BAD_GATEWAY)
            return
        upstream.send(client, head)


class Client(_Message, asyncio.Protocol):
    """One client connection, one request at a time (a pipelined request waits in the socket)."""

    def __init__(self, pool: Pool, authority: bytes) -> None:
        self.pool, self.authority = pool, authority
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: list[bytes] = []
        self.body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's, not asyncio's class

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.close()

    def on_message_begin(self) -> None:
        self.url, self.headers, self.body = b"", [], []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_message_complete(self) -> None:
        method, headers, body = self.parser.get_method(), b"".join(self.headers), b"".join(self.body)
        framing = b"content-length: %d\r\n" % len(body) if body else b""
        line = b"%b %b HTTP/1.1\r\nhost: %b\r\n" % (method, self.url, self.authority)
        head = b"%b%b%b\r\n" % (line, headers, framing)
        self.pool.send(self, head + body)

    def answer(self, response: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(response)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="http://host:port")
    args = parser.parse_args(argv)
    upstream = urlsplit(args.upstream)
    host, port = upstream.hostname or "127.0.0.1", upstream.port or 80

    async def serve() -> None:
        pool = Pool(host, port)
        authority = upstream.netloc.encode()
        server = await asyncio.get_running_loop().create_server(
            lambda: Client(pool, authority), "127.0.0.1", args.port, backlog=4096
        )
        async with server:
            await server.serve_forever()

    uvloop.run(serve())


if __name__ == "__main__":
    main()
