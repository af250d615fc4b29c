"""The upstream seam: the proxy speaks to upstreams only through a `Transport`.

A transport sends one request and returns the upstream's status and headers with a body stream;
it raises `BadGateway` (refused, reset, malformed) or `GatewayTimeout` (connect or read too slow)
and nothing else, so the client library's exceptions never leak past it. Tests may pass any object
with this shape; the gateway ships `UpstreamClient` (`engine/upstream.py`, docs/gateway.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from gateway.config.model import Timeouts
from gateway.types import Headers

__all__ = ["EncodedTransport", "Transport", "UpstreamRequest", "UpstreamResponse", "request_of"]


@dataclass(slots=True)
class UpstreamRequest:
    method: str
    url: str  # already percent-encoded: sent as is
    headers: list[tuple[str, str]]
    body: AsyncIterable[bytes] | None
    timeouts: Timeouts


class UpstreamResponse(Protocol):
    status: int
    headers: Headers  # raw, as received

    async def read(self) -> bytes:
        """The next chunk of the body as it arrives, b"" at the end; raises `BadGateway` or
        `GatewayTimeout` mid-stream. (A method, not an async generator: those cost a task each
        when left early.)"""
        ...

    def whole(self) -> bytes | None:
        """The rest of the body at once when all of it has arrived (a small answer, usually with its
        head), which lets the proxy answer in one write; None, taking nothing, while some is to come."""
        ...

    def close(self) -> None:
        """Gives the connection back to the pool (or drops it if the body was not read whole)."""
        ...


@runtime_checkable
class EncodedTransport(Protocol):
    """A transport that also takes the request head's header lines as bytes (engine/upstream.py): the
    gateway's hot path, which never decodes a header."""

    async def send_encoded(
        self,
        origin: str,
        method: str,
        target: str,
        headers: bytes,
        body: AsyncIterable[bytes] | None,
        timeouts: Timeouts,
        *,
        has_host: bool = False,
        has_length: bool = False,
    ) -> UpstreamResponse: ...


class Transport(Protocol):
    async def start(self) -> None:
        """Called in the running event loop before the first request."""
        ...

    async def send(self, request: UpstreamRequest) -> UpstreamResponse: ...

    async def aclose(self) -> None: ...


def request_of(
    origin: str,
    method: str,
    target: str,
    headers: bytes,
    body: AsyncIterable[bytes] | None,
    timeouts: Timeouts,
) -> UpstreamRequest:
    """An encoded request as an `UpstreamRequest`, for a transport that takes text pairs (a test's)."""
    pairs = (line.split(": ", 1) for line in headers.decode("latin-1").split("\r\n") if line)
    return UpstreamRequest(method, origin + target, [(name, value) for name, value in pairs], body, timeouts)
