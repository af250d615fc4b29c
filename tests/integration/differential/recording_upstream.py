"""An upstream that records every request it receives, raw, and answers as the request's path asks.

Runs on its own event loop in a thread of the test process, so a test reads what nginx and the gateway
each sent. The answer is chosen by the path's first segment after the prefix (`/d/t/v1/<kind>/...`):

    ok        200, content-length, a JSON summary of what was received
    chunked   200, chunked, three chunks
    close     200, no length: the body ends when the connection closes
    empty204  204, no body          notmod    304, no body
    large     200, 1 MiB (content-length)
    slow      200, chunked, pieces 50 ms apart
    reset     200 with content-length 1000, 10 bytes, then the connection is reset
    headers   200, duplicate and mixed-case headers, and hop-by-hop ones a proxy must drop
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
from dataclasses import dataclass, field

import httptools

__all__ = ["Received", "RecordingUpstream"]


@dataclass
class Received:
    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes
    version: str


@dataclass
class _Parsing:
    target: bytes = b""
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)
    done: bool = False


def _answer(kind: str, received: Received) -> list[bytes | float | None]:
    """The pieces to write: bytes, a pause in seconds, or None for a reset."""
    # An empty query ("?" alone) is forwarded by nginx, not by the gateway (docs/gateway.md): not shown.
    target = received.target.removesuffix("?")
    summary = json.dumps(
        {"method": received.method, "target": target, "body_length": len(received.body)}
    ).encode()
    if kind == "chunked":
        parts = [b"first,", b"second,", b"third"]
        body = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"
        return [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n" + body]
    if kind == "close":
        return [
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nuntil the end",
            None,
        ]
    if kind == "empty204":
        return [b"HTTP/1.1 204 No Content\r\nX-Kind: 204\r\n\r\n"]
    if kind == "notmod":
        return [b'HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n']
    if kind == "large":
        body = bytes(range(256)) * 4096
        return [b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n"
                % len(body) + body]  # fmt: skip
    if kind == "slow":
        head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n"
        return [head, 0.05, b"5\r\nslow,\r\n", 0.05, b"4\r\ndone\r\n0\r\n\r\n"]
    if kind == "reset":
        return [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 1000\r\n\r\n0123456789",
                0.05, "reset"]  # type: ignore[list-item]  # fmt: skip
    if kind == "headers":
        return [b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Dup: one\r\nX-Dup: two\r\n"
                b"x-MiXeD-Case: yes\r\nKeep-Alive: timeout=5\r\nConnection: X-Private\r\n"
                b"X-Private: secret\r\nUpgrade: h2c\r\nProxy-Authenticate: Basic\r\n"
                b"Content-Length: 2\r\n\r\nok"]  # fmt: skip
    length = b"%d" % len(summary)
    body = b"" if received.method == "HEAD" else summary
    return [
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " + length + b"\r\n\r\n" + body
    ]


class _Connection(asyncio.Protocol):
    def __init__(self, owner: RecordingUpstream) -> None:
        self.owner = owner
        self.parser = httptools.HttpRequestParser(self)
        self.current = _Parsing()
        self.queue: asyncio.Queue[Received | None] = asyncio.Queue()
        self.transport: asyncio.Transport | None = None
        self.task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.task = asyncio.ensure_future(self._answer_in_order())

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(
                b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.queue.put_nowait(None)

    def on_message_begin(self) -> None:
        self.current = _Parsing()

    def on_url(self, url: bytes) -> None:
        self.current.target += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.current.headers.append((name, value))

    def on_body(self, body: bytes) -> None:
        self.current.body += body

    def on_message_complete(self) -> None:
        p = self.current
        received = Received(
            self.parser.get_method().decode(), p.target.decode("latin-1"),
            [(k.decode("latin-1"), v.decode("latin-1")) for k, v in p.headers], bytes(p.body),
            self.parser.get_http_version(),
        )  # fmt: skip
        self.owner.record(received)
        self.queue.put_nowait(received)

    async def _answer_in_order(self) -> None:
        assert self.transport is not None
        while (received := await self.queue.get()) is not None:
            segments = received.target.split("?")[0].split("/")
            kind = segments[4] if len(segments) > 4 else "ok"
            pieces = _answer(kind, received)
            if received.method == "HEAD":  # an upstream answers HEAD with the head alone
                first = pieces[0]
                assert isinstance(first, bytes)
                pieces = [first[: first.index(b"\r\n\r\n") + 4]]
            for piece in pieces:
                if isinstance(piece, float):
                    await asyncio.sleep(piece)
                elif piece is None:
                    self.transport.close()
                    return
                elif piece == "reset":  # type: ignore[comparison-overlap]
                    sock = self.transport.get_extra_info("socket")
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.transport.abort()
                    return
                else:
                    self.transport.write(piece)


class RecordingUpstream:
    """Started in a thread; `received` maps a request's `x-case` header to what arrived with it."""

    def __init__(self) -> None:
        self.received: dict[str, list[Received]] = {}
        self.connections: list[_Connection] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.port = 0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def record(self, received: Received) -> None:
        case = next((v for k, v in received.headers if k.lower() == "x-case"), "-")
        with self._lock:
            self.received.setdefault(case, []).append(received)

    def _connection(self) -> _Connection:
        connection = _Connection(self)
        self.connections.append(connection)
        return connection

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(self._loop.create_server(self._connection, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        for connection in self.connections:
            if connection.transport is not None:
                connection.transport.abort()
        tasks = asyncio.all_tasks(self._loop)
        for task in tasks:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*tasks, server.wait_closed(), return_exceptions=True))
        self._loop.close()

    def __enter__(self) -> RecordingUpstream:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
