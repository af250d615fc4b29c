"""`X-Request-ID`: kept from the client when it is sane, generated otherwise, returned on every answer.

This is the outermost HTTP piece, so it also creates the request's `RequestContext` and records on it
what the client was sent (status, body bytes): other pieces read `ctx.status` to know whether the
response has started.
"""

from __future__ import annotations

import os
import random
import re

from .context import RequestContext
from .types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RequestIdMiddleware"]

_SANE = re.compile(rb"[A-Za-z0-9._:@/+=-]{1,128}")


class _Ids:
    """Request ids: 128 random bits as 32 hex digits (a UUID4's shape), from a generator seeded from the
    kernel once per process.

    `uuid4()` reads the kernel's random source on every request, and that call releases the GIL: with a
    busy thread in the process (metering's flusher), the event loop then waits for it. An id needs to
    be unique and to say nothing (a counter would tell callers how busy the gateway is), not to be
    unguessable: clients choose their own ids anyway. A forked child reseeds, so workers never repeat
    each other's ids.
    """

    def __init__(self) -> None:
        self._random = random.Random()
        self.reseed()
        os.register_at_fork(after_in_child=self.reseed)

    def reseed(self) -> None:
        self._random.seed(os.urandom(32))

    def next(self) -> str:
        return f"{self._random.getrandbits(128):032x}"


_ids = _Ids()


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
        request_id = _incoming(scope) or _ids.next()
        client = scope.get("client")
        ctx = scope["agora"] = RequestContext(request_id=request_id, peer=client[0] if client else "")
        header = (b"x-request-id", request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.body":
                ctx.bytes_out += len(message.get("body", b""))
            elif message["type"] == "http.response.start":
                headers = [h for h in message.get("headers", ()) if h[0] != b"x-request-id"]
                # What plugins set with kong.response.set_header before the response, unless a response
                # phase took them (plugin_runner.py): added here, on the way out of every answer, so that
                # a chain without a response phase needs no send wrapper of its own.
                headers.extend(ctx.response_headers)
                headers.append(header)
                message["headers"] = headers
                ctx.status = message["status"]
            await send(message)

        await self.app(scope, receive, send_with_id)
