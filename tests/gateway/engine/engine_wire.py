"""Helpers for the HTTP engine's tests: run a coroutine on uvloop (what the gateway runs on), start a
server with a tiny handler, and speak raw HTTP/1.1 bytes to it, reading answers back whole."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, TypeVar

import uvloop

from gateway.engine.http import Handler, Request, Responder
from gateway.engine.limits import Limits
from gateway.engine.server import Server, serve

T = TypeVar("T")
WAIT = 5.0  # no test waits longer than this for a byte


def run(coro: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


@asynccontextmanager
async def serving(handler: Handler, **limits: Any) -> AsyncIterator[Server]:
    server = await serve(handler, "127.0.0.1", 0, limits=Limits(**limits))
    try:
        yield server
    finally:
        while _clients:
            await _clients.pop().close()
        await server.close(0.5)


async def hello(request: Request, responder: Responder) -> None:
    """Answers `hello <path>`; the smallest handler."""
    responder.answer(200, [(b"content-type", b"text/plain")], f"hello {request.path}".encode())


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    chunked: bool = False
    trailers: bytes = b""

    def header(self, name: str) -> str | None:
        for found, value in self.headers:
            if found == name:
                return value
        return None

    def problem(self) -> dict[str, Any]:
        assert self.header("content-type") == "application/problem+json"
        document: dict[str, Any] = json.loads(self.body)
        return document


class Client:
    """One raw connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await asyncio.wait_for(self.writer.drain(), WAIT)

    async def answer(self, *, head: bool = False) -> Answer:
        """Reads one answer (a 1xx one too); `head`: it answers a HEAD request (no body)."""
        raw = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), WAIT)
        lines = raw[:-4].decode("latin-1").split("\r\n")
        version, status, *_ = lines[0].split(" ", 2)
        assert version == "HTTP/1.1", lines[0]
        answer = Answer(int(status))
        for line in lines[1:]:
            name, _, value = line.partition(":")
            answer.headers.append((name.lower(), value.strip()))
        if head or answer.status < 200 or answer.status in (204, 304):
            return answer
        if answer.header("transfer-encoding") == "chunked":
            answer.chunked = True
            pieces = []
            while True:
                size = int((await self._line()).split(b";")[0], 16)
                if size == 0:
                    while (line := await self._line()) != b"":
                        answer.trailers += line + b"\r\n"
                    break
                pieces.append(await asyncio.wait_for(self.reader.readexactly(size), WAIT))
                assert await self._line() == b""
            answer.body = b"".join(pieces)
        elif (length := answer.header("content-length")) is not None:
            answer.body = await asyncio.wait_for(self.reader.readexactly(int(length)), WAIT)
        else:
            answer.body = await asyncio.wait_for(self.reader.read(), WAIT)
        return answer

    async def _line(self) -> bytes:
        return (await asyncio.wait_for(self.reader.readuntil(b"\r\n"), WAIT))[:-2]

    async def closed(self, timeout: float = WAIT) -> bool:
        """True when the server closes (EOF or reset) without sending more bytes."""
        try:
            rest = await asyncio.wait_for(self.reader.read(), timeout)
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
        assert rest == b"", rest
        return True

    async def close(self) -> None:
        if self.writer.is_closing():
            return
        self.writer.close()
        with suppress(ConnectionError, OSError):
            await self.writer.wait_closed()


_clients: list[Client] = []  # closed when `serving` ends


async def connect(server: Server, *, limit: int = 2**24) -> Client:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port, limit=limit)
    client = Client(reader, writer)
    _clients.append(client)
    return client


def get(path: str = "/", *, headers: str = "", version: str = "1.1", method: str = "GET") -> bytes:
    host = "host: test\r\n" if version == "1.1" else ""
    return f"{method} {path} HTTP/{version}\r\n{host}{headers}\r\n".encode()
