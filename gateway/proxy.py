"""The forwarding endpoint: streams the request to the route's upstream and the answer back.

Nothing is buffered whole: request chunks go upstream as ASGI delivers them, response chunks go
to the client as the upstream sends them, and both sides apply back-pressure. A client that
disconnects cancels the upstream call (the connection is dropped, not returned to the pool).

The request body is limited to the API's `max_body_bytes`, or less when a plugin lowered the limit
for this request in `kong.ctx.shared[BODY_LIMIT]` (request-size-limiting, for chunked bodies).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from .context import RequestContext, context_of
from .errors import PayloadTooLarge
from .headers import VIA, TrustedProxies, strip_hop_by_hop, upstream_headers
from .transport import Transport, UpstreamRequest
from .types import Headers, Receive, Scope, Send

__all__ = ["BODY_LIMIT", "ProxyEndpoint"]

BODY_LIMIT = "agora.max_body_bytes"


class _Exchange:
    """Disconnect bookkeeping of one request: a watcher task cancels the handler if the client leaves."""

    __slots__ = ("disconnected", "error", "finishing", "task", "watcher")

    def __init__(self) -> None:
        self.disconnected = False
        self.finishing = False  # the last message is being sent: a "disconnect" now means "done"
        self.error: PayloadTooLarge | None = None
        self.task = asyncio.current_task()
        self.watcher: asyncio.Task[None] | None = None

    def watch(self, receive: Receive) -> None:
        self.watcher = asyncio.ensure_future(self._watch(receive))

    async def _watch(self, receive: Receive) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        if not self.finishing and self.task is not None:
            self.disconnected = True
            self.task.cancel()

    def stop(self) -> None:
        watcher, self.watcher = self.watcher, None
        if watcher is not None and not watcher.done():
            watcher.cancel()


def _content_length(headers: Headers) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _has_body(headers: Headers) -> bool:
    return any(
        (name == b"content-length" and value.strip() != b"0") or name == b"transfer-encoding"
        for name, value in headers
    )


async def _request_body(
    receive: Receive, ctx: RequestContext, limit: int, exchange: _Exchange
) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            exchange.disconnected = True
            raise ConnectionResetError("client disconnected")
        chunk: bytes = message.get("body", b"")
        ctx.bytes_in += len(chunk)
        if ctx.bytes_in > limit:
            exchange.error = PayloadTooLarge(f"the request body exceeds this API's limit of {limit} bytes")
            raise exchange.error
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            break
    exchange.watch(receive)  # body done: the next message can only be a disconnect


class ProxyEndpoint:
    def __init__(self, transport: Transport, *, trusted: TrustedProxies | None = None) -> None:
        self.transport = transport
        self.trusted = trusted or TrustedProxies()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = context_of(scope)
        service = ctx.service
        assert service is not None and service.upstream_origin is not None
        headers: Headers = scope["headers"]
        limit = min(service.max_body_bytes, ctx.shared.get(BODY_LIMIT, service.max_body_bytes))
        declared = _content_length(headers)
        if declared is not None and declared > limit:
            raise PayloadTooLarge(f"the request body ({declared} bytes) exceeds this API's limit of {limit}")
        exchange = _Exchange()
        body = _request_body(receive, ctx, limit, exchange) if _has_body(headers) else None
        if body is None:
            exchange.watch(receive)
        query = scope.get("query_string", b"").decode("latin-1")
        if ctx.upstream_query is not None:  # a plugin rewrote it (e.g. key-auth hiding the key)
            query = ctx.upstream_query
        url = service.upstream_origin + service.upstream_path + ctx.rest
        if query:
            url += "?" + query
        http_version = scope.get("http_version", "1.1")
        request = UpstreamRequest(
            method=scope["method"],
            url=url,
            headers=upstream_headers(
                headers,
                peer=ctx.peer,
                scheme=scope.get("scheme", "http"),
                http_version=http_version,
                request_id=ctx.request_id,
                prefix=service.prefix,
                trusted=self.trusted,
                overrides=ctx.upstream_headers,
            ),
            body=body,
            timeouts=service.timeouts,
        )
        try:
            await self._exchange(request, send, ctx, http_version, exchange)
        except asyncio.CancelledError:
            if not exchange.disconnected or exchange.task is None:
                raise
            exchange.task.uncancel()  # we cancelled ourselves because the client left
            ctx.status = ctx.status or 499
        except Exception:
            if exchange.error is not None:
                raise exchange.error from None
            if not exchange.disconnected:
                raise
            if exchange.task is not None and exchange.task.cancelling():
                exchange.task.uncancel()
            ctx.status = ctx.status or 499
        finally:
            exchange.stop()

    async def _exchange(
        self, request: UpstreamRequest, send: Send, ctx: RequestContext, version: str, exchange: _Exchange
    ) -> None:
        sent_at = time.perf_counter()
        response = await self.transport.send(request)
        ctx.upstream_latency = time.perf_counter() - sent_at
        try:
            headers = strip_hop_by_hop(response.headers)
            ctx.upstream_response_headers = headers
            via = f"{version} {VIA}".encode()
            for i, (name, value) in enumerate(headers):
                if name == b"via":
                    headers[i] = (name, value + b", " + via)
                    break
            else:
                headers.append((b"via", via))
            await send({"type": "http.response.start", "status": response.status, "headers": headers})
            while True:
                chunk = await response.read()
                # The last chunk ends the response: one send fewer per request.
                last = not chunk or response.at_eof()
                exchange.finishing = last
                await send({"type": "http.response.body", "body": chunk, "more_body": not last})
                if last:
                    return
        finally:
            response.close()
