"""`X-Request-ID`: kept from the client when it is sane, generated otherwise, returned on every answer.

This is the outermost HTTP piece, so it also creates the request's `RequestContext` and records on it
what the client was sent (status, body bytes): other pieces read `ctx.status` to know whether the
response has started.
"""

from __future__ import annotations

import re
import uuid

from .context import RequestContext
from .types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestIdMiddleware"]

_SANE = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")


def _incoming(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            return value.decode("ascii") if _SANE.fullmatch(value) else None
    return None


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming(scope) or uuid.uuid4().hex
        client = scope.get("client")
        ctx = scope["agora"] = RequestContext(request_id=request_id, peer=client[0] if client else "")
        header = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.body":
                ctx.bytes_out += len(message.get("body", b""))
            elif message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", ()) if h[0] != b"x-request-id"]
                headers.append(header)
                message["headers"] = headers
                ctx.status = message["status"]
            await send(message)

        await self.app(scope, receive, send_with_id)
