"""Request bodies for plugins that read them (`kong.request.get_raw_body()`), replayed to the upstream.

The gateway streams bodies and never holds one whole, except on a route whose chain has a plugin
declaring `body_limit` (bytes; Agora's addition, Kong ignores it): there the plugin runner reads the
body before the access phase, up to the largest such limit capped by the API's `max_body_bytes`
(413 beyond it, declared or counted), and the proxy then receives the same bytes as one ASGI
message. Other routes keep streaming, untouched.
"""

from __future__ import annotations

from .context import RequestContext
from .errors import PayloadTooLarge
from .types import Headers, Message, Receive

__all__ = ["read_body", "replaying"]


def _declared_length(headers: Headers) -> int | None:
    for name, value in headers:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def read_body(receive: Receive, headers: Headers, ctx: RequestContext, limit: int) -> bytes | None:
    """The whole body, or None when the client went away while sending it."""
    declared = _declared_length(headers)
    if declared is not None and declared > limit:
        raise PayloadTooLarge(
            f"the request body ({declared} bytes) exceeds this operation's limit of {limit}"
        )
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message.get("body", b"")
        ctx.bytes_in += len(chunk)
        if ctx.bytes_in > limit:
            raise PayloadTooLarge(f"the request body exceeds this operation's limit of {limit} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replaying(receive: Receive, body: bytes, ctx: RequestContext) -> Receive:
    """A `receive` that hands out `body` once, then the client's own messages (its disconnect)."""
    pending = True

    async def replay() -> Message:
        nonlocal pending
        if pending:
            pending = False
            ctx.bytes_in -= len(body)  # the proxy counts these bytes again as it forwards them
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
