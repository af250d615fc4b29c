"""How one answer goes on the wire: status line and headers in one piece, each body piece with its
framing in one `transport.write`.

Framing (RFC 9112 6): the handler's `content-length` when it gives one (no more and no fewer bytes
than it says: a mismatch cuts the connection, so the next answer can never be misread); else chunked
to HTTP/1.1 clients and close-delimited to HTTP/1.0 ones; nothing after HEAD, 204 and 304 (whatever
the handler writes is dropped, its `content-length` kept).

The head is held until the first body piece or the end, so a small answer leaves in one write (and
one syscall); `await write(b"")` sends it alone. Header names and values are written as given: the
handler passes bytes that came through llhttp or its own constants, never raw user input with CR/LF.
"""

from __future__ import annotations

from collections.abc import Coroutine
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from gateway.engine.http import ClientDisconnected, Headers, Request

if TYPE_CHECKING:
    from .server import HttpServerProtocol

__all__ = ["StreamResponder"]

_STATUS_LINES = {s.value: b"HTTP/1.1 %d %s\r\n" % (s.value, s.phrase.encode()) for s in HTTPStatus}

# framing modes
_NONE, _LENGTH, _CHUNKED, _CLOSE = range(4)

_CLOSE_HEADER = b"connection: close\r\n\r\n"
_KEEP_ALIVE_HEADER = b"connection: keep-alive\r\n\r\n"  # HTTP/1.0 clients need it said
_CHUNKED_HEADER = b"transfer-encoding: chunked\r\n"
_LAST_CHUNK = b"0\r\n\r\n"


class StreamResponder:
    __slots__ = ("_conn", "_head", "_mode", "_remaining", "_sent", "close", "ended", "request", "started")

    def __init__(self, conn: HttpServerProtocol, request: Request) -> None:
        self._conn = conn
        self.request = request
        self.started = False
        self.ended = False
        self.close = False  # the connection ends with this answer
        self._head = b""  # written with the first body piece
        self._mode = _NONE
        self._remaining = 0
        self._sent = 0

    def adopt(self, work: Coroutine[Any, Any, None]) -> None:
        """Runs the rest of this answer's work as the request's task (gateway/engine/http.py: Begin)."""
        self._conn.adopt(self, work)

    @property
    def bytes_sent(self) -> int:
        return self._sent

    @property
    def head_sent(self) -> bool:
        return self.started and not self._head

    def start(self, status: int, headers: Headers) -> None:
        if self.started:
            raise RuntimeError("the answer has already started")
        self._head = self._build(status, headers, None)

    def answer(self, status: int, headers: Headers, body: bytes) -> None:
        if self.started:
            raise RuntimeError("the answer has already started")
        head = self._build(status, headers, len(body))
        self.ended = True
        if self._mode == _NONE:
            self._conn.transport_write(head)
        else:
            self._sent = len(body)
            self._conn.transport_write(head + body)
        self._conn.answer_ended(self)

    async def write(self, chunk: bytes) -> None:
        if not self.started or self.ended:
            raise RuntimeError("write() belongs between start() and end()")
        conn = self._conn
        if conn.closed:
            raise ClientDisconnected("the client closed the connection")
        data = self._frame(chunk)
        if data:
            conn.transport_write(data)
        if conn.write_paused:
            await conn.drain()

    def end(self, chunk: bytes = b"") -> None:
        if not self.started or self.ended:
            raise RuntimeError("end() belongs after start(), once")
        self.ended = True
        data = self._frame(chunk, last=True)
        if self._mode == _LENGTH and self._remaining:
            # Fewer bytes than announced: the client must see a truncated answer, not wait for more.
            if data:
                self._conn.transport_write(data)
            self._conn.cut(self)
            return
        if data:
            self._conn.transport_write(data)
        self._conn.answer_ended(self)

    def _build(self, status: int, headers: Headers, whole: int | None) -> bytes:
        """The head; `whole` is the length of an `answer()` body (None from `start()`)."""
        if status < 200:
            raise ValueError(f"the engine sends no {status} answer (only 100 Continue, by itself)")
        request = self.request
        parts = [_STATUS_LINES.get(status) or b"HTTP/1.1 %d \r\n" % status]
        length = -1
        for name, value in headers:
            if name == b"content-length":
                if whole is not None:
                    raise ValueError("answer() adds content-length itself")
                length = int(value)
            parts += (name, b": ", value, b"\r\n")
        if status == 204 or status == 304:
            mode = _NONE  # and no content-length added (RFC 9110 8.6)
        else:
            if whole is not None:
                length = whole
                parts.append(b"content-length: %d\r\n" % whole)
            if request.method == "HEAD":
                mode = _NONE
            elif length >= 0:
                mode = _LENGTH
                self._remaining = length
            elif request.http_version == "1.1":
                mode = _CHUNKED
                parts.append(_CHUNKED_HEADER)
            else:
                mode = _CLOSE
        self._mode = mode
        if mode == _CLOSE or not request.keep_alive or self._conn.must_close(request):
            self.close = True
            parts.append(_CLOSE_HEADER)
        elif request.http_version == "1.0":
            parts.append(_KEEP_ALIVE_HEADER)
        else:
            parts.append(b"\r\n")
        self.started = True
        return b"".join(parts)

    def _frame(self, chunk: bytes, *, last: bool = False) -> bytes:
        """The bytes that carry `chunk` (and the head, if still held) on the wire."""
        head = self._head
        if head:
            self._head = b""
        size = len(chunk)
        mode = self._mode
        if mode == _CHUNKED:
            self._sent += size
            if size:
                tail = b"\r\n0\r\n\r\n" if last else b"\r\n"
                return b"".join((head, b"%x\r\n" % size, chunk, tail))
            return head + _LAST_CHUNK if last else head
        if mode == _NONE:
            return head
        if mode == _LENGTH:
            if size > self._remaining:
                self._conn.cut(self)
                raise RuntimeError(f"the body is longer than its content-length ({self._sent + size} bytes)")
            self._remaining -= size
        self._sent += size
        return head + chunk if head else chunk
