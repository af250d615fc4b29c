"""The exchange with the upstream: the request goes up as it arrives, the answer comes back as the
upstream sends it, both with back-pressure; nothing is held whole.

The request body is limited to the API's `max_body_bytes`, or less when a plugin lowered the limit for
this request in `kong.ctx.shared[BODY_LIMIT]` (request-size-limiting, for chunked bodies). A client
that disconnects cancels the handler's task: the upstream client then drops that connection.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable

from gateway.config.model import Service
from gateway.engine.http import Headers, Request
from gateway.pipeline.body import check_declared, once, streamed
from gateway.pipeline.context import RequestContext
from gateway.pipeline.headers import TrustedProxies, answer_headers, upstream_header_block
from gateway.upstream.transport import EncodedTransport, Transport, UpstreamResponse, request_of

__all__ = ["BODY_LIMIT", "Forward"]

BODY_LIMIT = "agora.max_body_bytes"


class Forward:
    """The forwarding step of one service's routes (built once per service and snapshot)."""

    __slots__ = (
        "_encoded", "_max_body", "_origin", "_path", "_prefix", "_timeouts", "_transport",
        "_trusted",
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
        query = request.query if ctx.upstream_query is None else ctx.upstream_query
        target = self._path + ctx.rest
        if query:
            target += "?" + query
        version = request.http_version
        block = upstream_header_block(
            request.headers, peer=ctx.peer, scheme=request.scheme, http_version=version,
            request_id=ctx.request_id, prefix=self._prefix, trusted=self._trusted,
            overrides=ctx.upstream_headers,
        )  # fmt: skip
        sent_at = time.perf_counter()
        try:
            if self._encoded is not None:
                overrides = ctx.upstream_headers
                if overrides and b"content-length" in overrides:  # a plugin's, in whatever case it wrote it
                    has_length = overrides[b"content-length"][1] is not None
                else:  # the client's (names are lower-cased): it goes with its body, or as 0 without one
                    has_length = block.startswith(b"content-length:") or b"\ncontent-length:" in block
                response = await self._encoded.send_encoded(
                    self._origin, request.method, target or "/", block, body, self._timeouts,
                    has_length=has_length, has_host=bool(overrides) and b"host" in overrides,
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
        ctx.upstream_latency = time.perf_counter() - sent_at
        headers = ctx.upstream_response_headers = answer_headers(response.headers, version)
        return response, headers
