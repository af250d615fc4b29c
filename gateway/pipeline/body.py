"""Request bodies: streamed to the upstream with a byte limit, or read whole for a plugin that asks.

The gateway never holds a body whole, except on a route whose chain has a plugin declaring
`body_limit` (bytes; Agora's addition, Kong ignores it): there the route's pipeline reads the body
before the access phase (`kong.request.get_raw_body()`), up to the largest such limit capped by the
API's `max_body_bytes` (413 beyond it, declared or counted), and then sends those bytes upstream.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from gateway.engine.http import Body, Headers
from gateway.errors import PayloadTooLarge
from gateway.pipeline.context import RequestContext

__all__ = ["check_declared", "declared_length", "once", "read_body", "streamed"]


def declared_length(headers: Headers) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def check_declared(headers: Headers, limit: int, what: str) -> None:
    declared = declared_length(headers)
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"the request body ({declared} bytes) exceeds {what}'s limit of {limit}")


async def read_body(body: Body, ctx: RequestContext, limit: int) -> bytes:
    """The whole body; raises `PayloadTooLarge` past `limit` (and `ClientDisconnected`)."""
    chunks: list[bytes] = []
    while chunk := await body.read():
        ctx.bytes_in += len(chunk)
        if ctx.bytes_in > limit:
            raise PayloadTooLarge(f"the request body exceeds this operation's limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def streamed(body: Body, ctx: RequestContext, limit: int) -> AsyncIterator[bytes]:
    """The body as it arrives, counted; `PayloadTooLarge` past `limit` (kept on ctx for the answer:
    the upstream client sees it as a failed body and gives its own error)."""
    while chunk := await body.read():
        ctx.bytes_in += len(chunk)
        if ctx.bytes_in > limit:
            ctx.body_error = PayloadTooLarge(f"the request body exceeds this API's limit of {limit} bytes")
            raise ctx.body_error
        yield chunk


async def once(data: bytes) -> AsyncIterator[bytes]:
    """A body already read (for a plugin), sent upstream as it was received."""
    yield data
