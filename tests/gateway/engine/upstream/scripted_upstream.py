"""Tiny HTTP/1.1 servers on asyncio streams, scripted per test: each accepted connection runs
`handler(reader, writer)`, so a test says byte for byte what the upstream does (answer, stall, close,
reset, send garbage). `Upstream` counts connections and keeps the requests it read."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from types import TracebackType

from gateway.config.model import Timeouts
from gateway.engine.upstream import UpstreamClient
from gateway.types import Headers
from gateway.upstream.transport import UpstreamRequest

Handler = Callable[["Upstream", asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
FAST = Timeouts(connect=2.0, read=2.0, write=2.0)


class Request:
    def __init__(self, head: bytes, body: bytes) -> None:
        self.head = head
        self.body = body
        lines = head.decode("latin-1").split("\r\n")
        self.line = lines[0]
        self.headers = [tuple(part.strip() for part in line.split(":", 1)) for line in lines[1:] if line]

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return None


async def read_request(reader: asyncio.StreamReader) -> Request | None:
    """The next request on the connection, body decoded; None at EOF."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    request = Request(head[:-4], b"")
    length = request.header("content-length")
    if length is not None:
        request.body = await reader.readexactly(int(length))
    elif (request.header("transfer-encoding") or "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n"))[:-2], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
        request.body = bytes(body)
    return request


def answer(body: bytes = b"ok", status: str = "200 OK", headers: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode() + body


async def keep_alive(upstream: Upstream, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answers every request on the connection with `upstream.reply(request)`."""
    while (request := await read_request(reader)) is not None:
        upstream.requests.append(request)
        writer.write(upstream.reply(request))
        await writer.drain()


class Upstream:
    def __init__(
        self,
        handler: Handler = keep_alive,
        *,
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
        reply: Callable[[Request], bytes] = lambda request: answer(),
    ) -> None:
        self.handler = handler
        self.host = host
        self.tls = tls
        self.reply = reply
        self.connections = 0
        self.closed = 0  # connections that ended (either side)
        self.requests: list[Request] = []
        self.peers: list[str] = []
        self.port = 0
        self._server: asyncio.Server | None = None

    @property
    def origin(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.origin + path

    async def __aenter__(self) -> Upstream:
        self._server = await asyncio.start_server(self._serve, self.host, 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.peers.append(writer.get_extra_info("peername")[0])
        try:
            await self.handler(self, reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, asyncio.CancelledError):
            pass  # the test ended or the gateway hung up: both are the scripts' business, not errors
        finally:
            writer.close()
            self.closed += 1

    async def wait_closed(self, count: int, timeout: float = 2.0) -> None:
        """Waits until `count` connections have ended."""
        async with asyncio.timeout(timeout):
            while self.closed < count:
                await asyncio.sleep(0.01)


def request(
    url: str,
    method: str = "GET",
    headers: list[tuple[str, str]] | None = None,
    body: AsyncIterable[bytes] | None = None,
    timeouts: Timeouts = FAST,
) -> UpstreamRequest:
    return UpstreamRequest(method=method, url=url, headers=headers or [], body=body, timeouts=timeouts)


async def fetch(client: UpstreamClient, upstream_request: UpstreamRequest) -> tuple[int, Headers, bytes]:
    """Sends and reads the whole answer."""
    response = await client.send(upstream_request)
    try:
        body = b""
        while chunk := await response.read():
            body += chunk
        assert response.at_eof()
        return response.status, response.headers, body
    finally:
        response.close()


async def chunks(*pieces: bytes, pause: float = 0.0) -> AsyncIterator[bytes]:
    for piece in pieces:
        if pause:
            await asyncio.sleep(pause)
        yield piece
