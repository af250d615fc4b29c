"""Driving a handler in process, without a socket: the seam of the pipeline's tests and of
`loadtests.stackcost`. `HandlerTransport` lets an `httpx.AsyncClient` call a handler directly, as
`httpx.ASGITransport` called an ASGI app.

The recording responder follows the engine's rules that matter to a handler: a HEAD, 1xx, 204 or 304
answer carries no body; `answer` adds `content-length`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import httpx

from gateway.engine.http import ClientDisconnected, Handler, Headers, Request

__all__ = ["BytesBody", "HandlerTransport", "RecordingResponder", "call"]

_BODYLESS = frozenset({204, 304})


class BytesBody:
    """A request body from chunks already in memory (the last read gives b"")."""

    __slots__ = ("_chunks", "_disconnect", "complete")

    def __init__(self, chunks: Iterable[bytes], *, disconnect: bool = False) -> None:
        self._chunks = [c for c in chunks if c]
        self._disconnect = disconnect  # the client leaves after the last chunk
        self.complete = not self._chunks and not disconnect

    async def read(self) -> bytes:
        if self._chunks:
            return self._chunks.pop(0)
        if self._disconnect:
            raise ClientDisconnected("the client went away")
        self.complete = True
        return b""


class _StreamBody:
    """A body read from an async byte stream (httpx's request stream)."""

    __slots__ = ("_iterator", "complete")

    def __init__(self, stream: AsyncIterator[bytes]) -> None:
        self._iterator = stream
        self.complete = False

    async def read(self) -> bytes:
        while not self.complete:
            try:
                chunk = await anext(self._iterator)
            except StopAsyncIteration:
                self.complete = True
                break
            if chunk:
                return chunk
        return b""


class RecordingResponder:
    """Keeps what a handler answered; `chunks` lists the body's writes in order."""

    def __init__(self, method: str = "GET") -> None:
        self._head_only = method == "HEAD"
        self.status = 0
        self.headers: Headers = []
        self.chunks: list[bytes] = []
        self.ended = False
        self.bytes_sent = 0
        self.written = asyncio.Event()  # set on every write: lets a test watch a stream as it flows

    @property
    def started(self) -> bool:
        return self.status != 0

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def header(self, name: bytes) -> bytes | None:
        return next((v for k, v in self.headers if k == name), None)

    def start(self, status: int, headers: Headers) -> None:
        assert not self.started, "the head was written twice"
        self.status, self.headers = status, list(headers)

    def _keep(self, chunk: bytes) -> None:
        assert self.started and not self.ended
        if chunk and not self._head_only and self.status not in _BODYLESS and self.status >= 200:
            self.chunks.append(chunk)
            self.bytes_sent += len(chunk)
        self.written.set()

    async def write(self, chunk: bytes) -> None:
        self._keep(chunk)
        await asyncio.sleep(0)

    def end(self, chunk: bytes = b"") -> None:
        self._keep(chunk)
        self.ended = True

    def answer(self, status: int, headers: Headers, body: bytes) -> None:
        self.start(status, [*headers, (b"content-length", str(len(body)).encode())])
        self.end(body)


async def call(
    handler: Handler,
    method: str,
    target: str,
    *,
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes | None = None,
    peer: str = "127.0.0.1",
) -> RecordingResponder:
    """One request through `handler`; `target` is the path with its query."""
    path, _, query = target.partition("?")
    request = Request(
        method, path, query, [(k.lower(), v) for k, v in headers], peer=peer,
        body=BytesBody([body]) if body else None,
    )  # fmt: skip
    responder = RecordingResponder(method)
    await handler(request, responder)
    return responder


class HandlerTransport(httpx.AsyncBaseTransport):
    """httpx -> handler, in process. The answer is complete when httpx sees it (no streaming)."""

    def __init__(self, handler: Handler, *, client: tuple[str, int] = ("127.0.0.1", 123)) -> None:
        self.handler = handler
        self.peer = client[0]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        headers = [(k.lower(), v) for k, v in request.headers.raw]
        body = None
        if any(k in (b"content-length", b"transfer-encoding") for k, _ in headers):
            stream = request.stream
            assert isinstance(stream, httpx.AsyncByteStream)
            body = _StreamBody(aiter(stream))
            if any(k == b"content-length" and v.strip() == b"0" for k, v in headers):
                body = None
        target = Request(
            request.method, url.raw_path.decode("ascii").partition("?")[0], url.query.decode("ascii"),
            headers, peer=self.peer, body=body,
        )  # fmt: skip
        responder = RecordingResponder(request.method)
        try:
            await self.handler(target, responder)
        except Exception:
            if not responder.started:
                raise
        return httpx.Response(
            responder.status, headers=responder.headers, content=responder.body,
            extensions={"http_version": b"HTTP/1.1"},
        )  # fmt: skip
