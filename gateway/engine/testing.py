"""Driving a handler in process, without a socket: `await call(handler, "GET", "/x")` gives what it
answered. The same Request and Responder interface as the server, with the same rules for the handler
(start before write, end once, no content-length given to `answer`), so pipeline tests stay honest.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from gateway.engine.http import Handler, Headers, Request

__all__ = ["BytesBody", "Recorded", "RecordingResponder", "call"]


class BytesBody:
    """A request body given whole (or in `pieces`), handed out one piece per read."""

    __slots__ = ("_pieces", "reads")

    def __init__(self, *pieces: bytes) -> None:
        self._pieces = [piece for piece in pieces if piece]
        self.reads = 0

    async def read(self) -> bytes:
        self.reads += 1
        return self._pieces.pop(0) if self._pieces else b""

    @property
    def complete(self) -> bool:
        return not self._pieces


@dataclass
class Recorded:
    """What a handler answered."""

    status: int = 0
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    ended: bool = False
    writes: int = 0  # body pieces written (write + end)

    def header(self, name: str) -> str | None:
        """The first value of `name` (case-insensitive), decoded."""
        key = name.lower().encode("latin-1")
        for found, value in self.headers:
            if found == key:
                return value.decode("latin-1")
        return None


class RecordingResponder:
    """A Responder that keeps everything in a `Recorded`."""

    def __init__(self) -> None:
        self.recorded = Recorded()
        self.started = False
        self._pieces: list[bytes] = []

    @property
    def bytes_sent(self) -> int:
        return sum(len(piece) for piece in self._pieces)

    def start(self, status: int, headers: Headers) -> None:
        if self.started:
            raise RuntimeError("the answer has already started")
        if status < 200:
            raise ValueError(f"the engine sends no {status} answer")
        self.started = True
        self.recorded.status = status
        self.recorded.headers = list(headers)

    async def write(self, chunk: bytes) -> None:
        if not self.started or self.recorded.ended:
            raise RuntimeError("write() belongs between start() and end()")
        self._piece(chunk)

    def end(self, chunk: bytes = b"") -> None:
        if not self.started or self.recorded.ended:
            raise RuntimeError("end() belongs after start(), once")
        self._piece(chunk)
        self.recorded.ended = True
        self.recorded.body = b"".join(self._pieces)

    def answer(self, status: int, headers: Headers, body: bytes) -> None:
        if any(name == b"content-length" for name, _ in headers):
            raise ValueError("answer() adds content-length itself")
        self.start(status, [*headers, (b"content-length", str(len(body)).encode())])
        self.end(body)

    def _piece(self, chunk: bytes) -> None:
        if chunk:
            self._pieces.append(chunk)
            self.recorded.writes += 1


async def call(
    handler: Handler,
    method: str,
    path: str,
    *,
    headers: Iterable[tuple[bytes, bytes]] = (),
    body: bytes | BytesBody = b"",
    peer: str = "127.0.0.1",
    http_version: str = "1.1",
) -> Recorded:
    """Runs `handler` on one request; `path` may carry `?query`. Exceptions from the handler propagate."""
    raw_path, _, query = path.partition("?")
    given: Headers = [(name.lower(), value) for name, value in headers]
    if not any(name == b"host" for name, _ in given):
        given.insert(0, (b"host", b"testserver"))
    request_body = body if isinstance(body, BytesBody) else (BytesBody(body) if body else None)
    if isinstance(body, bytes) and body and not any(name == b"content-length" for name, _ in given):
        given.append((b"content-length", str(len(body)).encode()))
    request = Request(method, raw_path, query, given, http_version=http_version, peer=peer, body=request_body)
    responder = RecordingResponder()
    await handler(request, responder)
    return responder.recorded
