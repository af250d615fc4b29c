"""The engine's request/response interface: what the HTTP server hands a handler, and what the handler
answers through. It is the one seam between sockets and the gateway's logic:

    server.py (HTTP/1.1 on asyncio protocols, httptools)  --Request, Responder-->  handler (the pipeline)

The pipeline knows nothing of sockets and the server nothing of plugins; in-process tests drive a
handler with the same objects (`testing.py`), without a socket.

Header names are lower-cased bytes and values raw bytes, in order, repeats kept (as ASGI carried them):
the pipeline compares names without decoding them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

__all__ = [
    "AnswerCut", "Begin", "Body", "ClientDisconnected", "DirectResponder", "Handler", "Headers", "InFlight",
    "Request", "Responder",
]  # fmt: skip

Headers = list[tuple[bytes, bytes]]


class AnswerCut(Exception):
    """Raised by a handler whose answer failed after its head was sent (an upstream that broke off its
    body): the server cuts the connection, as it does for any error then, without logging it again."""


class ClientDisconnected(Exception):
    """The client went away (or was cut off by a timeout) before its body was read whole."""


class Body(Protocol):
    """A request body as it arrives. Reading pauses the client's socket while nobody reads (back-pressure);
    the first read answers `100 Continue` to a client that sent `Expect: 100-continue`."""

    async def read(self) -> bytes:
        """The next chunk, b"" once the body is complete. Raises `ClientDisconnected`."""
        ...

    @property
    def complete(self) -> bool:
        """True once every byte of the body has been handed out."""
        ...


class Request:
    """One request's head, parsed by the server. Plain attributes: the hot path reads them directly."""

    __slots__ = ("body", "headers", "http_version", "keep_alive", "method", "path", "peer", "query", "scheme")

    def __init__(
        self,
        method: str,
        path: str,
        query: str,
        headers: Headers,
        *,
        http_version: str = "1.1",
        peer: str = "",
        scheme: str = "http",
        body: Body | None = None,
        keep_alive: bool = True,
    ) -> None:
        self.method = method  # "GET"
        self.path = path  # the raw target path, still percent-encoded, as sent (latin-1)
        self.query = query  # the raw query without "?", "" when none
        self.headers = headers
        self.http_version = http_version  # "1.1" or "1.0"
        self.peer = peer  # the TCP peer's address
        self.scheme = scheme
        self.body = body  # None: the request has no body (no Content-Length > 0, no chunked)
        self.keep_alive = keep_alive  # the client allows the connection to serve another request


class Responder(Protocol):
    """How a handler answers. The server frames the body: `content-length` when the handler gives one,
    else chunked (HTTP/1.1) or close-delimited (HTTP/1.0); no body after HEAD, 1xx, 204 and 304; it adds
    `connection: close` when the connection ends with this answer. Hop-by-hop headers are the
    handler's to remove."""

    @property
    def started(self) -> bool:
        """True once the head has been written (an error can then only cut the connection)."""
        ...

    @property
    def bytes_sent(self) -> int:
        """Body bytes written so far (not counting framing)."""
        ...

    def start(self, status: int, headers: Headers) -> None:
        """Writes the status line and headers."""
        ...

    async def write(self, chunk: bytes) -> None:
        """Writes a piece of the body; waits while the client's socket buffer is full."""
        ...

    def end(self, chunk: bytes = b"") -> None:
        """Writes the last piece of the body (if any) and ends the answer."""
        ...

    def answer(self, status: int, headers: Headers, body: bytes) -> None:
        """A whole answer at once (problem documents, sandbox examples, a plugin's exit): the server adds
        `content-length`, which `headers` must not hold."""
        ...


# Called once per request, as its own task; the server cancels that task if the client disconnects
# before the answer ended. An exception before `start` becomes a bare 500; after it, the connection
# is cut (the client sees a truncated body, never a wrong one).
Handler = Callable[[Request, Responder], Awaitable[None]]


class InFlight(Protocol):
    """A request a handler's `begin` is answering from callbacks, without a task (the direct lane): the
    server cancels it as it would cancel the request's task (the client left, the server stops)."""

    def done(self) -> bool: ...

    def cancel(self) -> bool: ...


class DirectResponder(Responder, Protocol):
    """The server's responder, as `begin` gets it: it can also hand the request's remaining work to a task
    of its own, which the server then treats as the request's task."""

    def adopt(self, work: Coroutine[Any, Any, None]) -> None: ...


# The optional fast entry of a handler (its `begin` attribute), called where the server would create the
# request's task: it returns the coroutine to run as that task, or an `InFlight` request that callbacks
# carry on. It must not answer before it returns, nor raise.
Begin = Callable[[Request, DirectResponder], "Coroutine[Any, Any, None] | InFlight"]
