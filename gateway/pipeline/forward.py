"""The exchange with the upstream: the request goes up as it arrives, the answer comes back as the
upstream sends it, both with back-pressure; nothing is held whole.

The request body is limited to the API's `max_body_bytes`, or less when a plugin lowered the limit for
this request in `kong.ctx.shared[BODY_LIMIT]` (request-size-limiting, for chunked bodies). A client
that disconnects cancels the handler's task: the upstream client then drops that connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, Coroutine
from typing import Any, NamedTuple

from gateway.config.model import Service
from gateway.engine.http import Headers, Request
from gateway.engine.upstream import UpstreamClient
from gateway.engine.upstream_connection import UpstreamConnection
from gateway.engine.upstream_response import UpstreamResponse as EngineResponse
from gateway.pipeline.body import check_declared, once, streamed
from gateway.pipeline.context import RequestContext
from gateway.pipeline.headers import TrustedProxies, answer_headers, upstream_header_block
from gateway.upstream.circuit import CLOSED, Breaker, CircuitTransport
from gateway.upstream.transport import EncodedTransport, Transport, UpstreamResponse, request_of

__all__ = ["BODY_LIMIT", "Begun", "Forward"]

BODY_LIMIT = "agora.max_body_bytes"


class Forward:
    """The forwarding step of one service's routes (built once per service and snapshot)."""

    __slots__ = (
        "_breakers", "_client", "_encoded", "_max_body", "_origin", "_path", "_prefix", "_timeouts",
        "_transport", "_trusted",
    )  # fmt: skip

    def __init__(self, service: Service, transport: Transport, trusted: TrustedProxies) -> None:
        assert service.upstream_origin is not None
        self._origin, self._path = service.upstream_origin, service.upstream_path
        # The shipped upstream client takes header lines as bytes; a test's transport may take pairs.
        self._encoded = transport if isinstance(transport, EncodedTransport) else None
        self._prefix = service.prefix
        self._max_body = service.max_body_bytes
        self._timeouts = service.timeouts
        self._transport = transport
        self._trusted = trusted
        # The direct lane's way to the shipped upstream client (begin), behind its breakers if any.
        inner = transport.inner if isinstance(transport, CircuitTransport) else transport
        self._client = inner if isinstance(inner, UpstreamClient) else None
        self._breakers = transport.breakers if isinstance(transport, CircuitTransport) else None

    async def send(self, request: Request, ctx: RequestContext) -> tuple[UpstreamResponse, Headers]:
        """Sends the request and returns the upstream's answer once its head arrived, with the headers
        to pass on (hop-by-hop removed, `Via` added). The caller streams the body and closes it."""
        limit = self._max_body
        if ctx.shared:
            limit = min(limit, ctx.shared.get(BODY_LIMIT, limit))
        body: AsyncIterable[bytes] | None = None
        if ctx.body is not None:  # read for a plugin already
            body = once(ctx.body) if ctx.body else None
        elif request.body is not None:
            check_declared(request.headers, limit, "this API")
            body = streamed(request.body, ctx, limit)
        target, block = self._target(request, ctx), self._block(request, ctx)
        sent_at = time.perf_counter()
        try:
            if self._encoded is not None:
                overrides = ctx.upstream_headers
                response = await self._encoded.send_encoded(
                    self._origin, request.method, target, block, body, self._timeouts,
                    has_length=_has_length(overrides, block),
                    has_host=bool(overrides) and b"host" in overrides,
                )  # fmt: skip
            else:
                upstream = request_of(
                    self._origin, request.method, target or "/", block, body, self._timeouts
                )
                response = await self._transport.send(upstream)
        except Exception:
            if ctx.body_error is not None:  # the body broke the limit while it streamed: that is the answer
                raise ctx.body_error from None
            raise
        return response, self.answered(request, ctx, response, sent_at)

    def answered(
        self, request: Request, ctx: RequestContext, response: UpstreamResponse, sent_at: float
    ) -> Headers:
        """The answer's head arrived: its latency noted, the headers to pass on."""
        ctx.upstream_latency = time.perf_counter() - sent_at
        headers = ctx.upstream_response_headers = answer_headers(response.headers, request.http_version)
        return headers

    def begin(self, request: Request, ctx: RequestContext) -> Begun | None:
        """`send` without a coroutine (the direct lane, direct.py), for a request without a body when the
        shipped upstream client has an idle connection and the origin's breaker is closed: the request
        is written, and its answer's head comes through `Begun.waiter`. None, with nothing sent, when
        any of that does not hold: `send` then does it all. Raises what `send` raises before it sends
        (`BadGateway` for a plugin's header or target that cannot be sent)."""
        client = self._client
        if client is None or ctx.body is not None:
            return None
        breaker = None
        if self._breakers is not None:
            # Closed: letting the request through changes nothing in the breaker (a half-open one
            # counts its trial, which `send` must then be the one to take).
            breaker = self._breakers.get(self._origin)
            if breaker.state != CLOSED:
                return None
        overrides = ctx.upstream_headers
        block = self._block(request, ctx)
        sent_at = time.perf_counter()
        sent = client.begin_encoded(
            self._origin, request.method, self._target(request, ctx), block, self._timeouts,
            has_length=_has_length(overrides, block), has_host=bool(overrides) and b"host" in overrides,
        )  # fmt: skip
        if sent is None:
            return None
        return Begun(sent[0], sent[1], sent[2], breaker, sent_at)

    async def resend(
        self, request: Request, ctx: RequestContext, begun: Begun
    ) -> tuple[UpstreamResponse, Headers]:
        """`send`'s retry of a request `begin` sent on a connection the upstream had just closed."""
        assert self._client is not None
        call: Coroutine[Any, Any, UpstreamResponse] = self._client.resend(
            self._origin, begun.head, request.method, self._timeouts
        )
        if isinstance(self._transport, CircuitTransport):
            call = self._transport.guard(self._origin, call)
        response = await call
        return response, self.answered(request, ctx, response, begun.sent_at)

    def _target(self, request: Request, ctx: RequestContext) -> str:
        query = request.query if ctx.upstream_query is None else ctx.upstream_query
        target = self._path + ctx.rest
        if query:
            target += "?" + query
        return target or "/"

    def _block(self, request: Request, ctx: RequestContext) -> bytes:
        return upstream_header_block(
            request.headers, peer=ctx.peer, scheme=request.scheme, http_version=request.http_version,
            request_id=ctx.request_id, prefix=self._prefix, trusted=self._trusted,
            overrides=ctx.upstream_headers,
        )  # fmt: skip


def _has_length(overrides: dict[bytes, tuple[str, str | None]], block: bytes) -> bool:
    """Whether the header lines sent upstream hold a Content-Length."""
    if overrides and b"content-length" in overrides:  # a plugin's, in whatever case it wrote it
        return overrides[b"content-length"][1] is not None
    # the client's (names are lower-cased): it goes with its body, or as 0 without one
    return block.startswith(b"content-length:") or b"\ncontent-length:" in block


class Begun(NamedTuple):
    """A request `Forward.begin` sent: its connection, the future of its answer's head, the request's
    bytes (for a retry), the origin's breaker (None without breakers) and when it was sent."""

    conn: UpstreamConnection
    waiter: asyncio.Future[EngineResponse]
    head: bytes
    breaker: Breaker | None
    sent_at: float
