"""Runs a route's plugins in priority order: `access` before the upstream call, `response` when the
response headers are known (before they are sent), `log` after the response has been sent.

A plugin's `kong.response.exit` in access stops the chain and answers instead of the upstream. An
exception in a log phase is logged and never reaches the client, whose response is already gone.
A chain with a plugin that declares `body_limit` has the request body read first (gateway/body.py).
A CORS preflight routed to the operation it asks about (routing.py) must be answered by a plugin:
otherwise it gets the 405 its path has for OPTIONS, and never reaches the upstream or the sandbox.
"""

from __future__ import annotations

import logging

from .body import read_body, replaying
from .context import context_of
from .errors import MethodNotAllowed
from .headers import TrustedProxies
from .pdk import Kong
from .types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["PluginMiddleware"]

log = logging.getLogger("agora.gateway.plugins")


def _unanswered(allow: tuple[str, ...]) -> MethodNotAllowed:
    return MethodNotAllowed("OPTIONS is not offered at this path", allow)


class PluginMiddleware:
    def __init__(self, app: ASGIApp, *, trusted: TrustedProxies | None = None) -> None:
        self.app = app
        self.trusted = trusted or TrustedProxies()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = context_of(scope)
        config, route = ctx.config, ctx.route
        chain = config.chains.get(route) if config is not None and route is not None else None
        if chain is None:
            if ctx.preflight:
                raise _unanswered(ctx.preflight)
            await self.app(scope, receive, send)
            return
        kong = Kong(ctx, scope, self.trusted)
        responders = chain.response

        async def send_with_response_phase(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The response phase sees, and may change, every header: the answer's and those set
                # before it (taken from ctx, which request_id.py would otherwise add on the way out).
                headers = list(message.get("headers", ()))
                headers.extend(ctx.response_headers)
                ctx.response_headers = []
                ctx.status = message["status"]
                kong.phase, kong.response_headers = "response", headers
                for response in responders:
                    pending = response(kong)
                    if pending is not None:
                        await pending
                kong.response_headers = None
                message["headers"] = headers
            await send(message)

        # Without a response phase nothing needs to see the answer on its way out: no wrapper.
        downstream = send_with_response_phase if responders else send

        try:
            if chain.body_limit and ctx.service is not None:
                limit = min(chain.body_limit, ctx.service.max_body_bytes)
                ctx.body = await read_body(receive, scope["headers"], ctx, limit)
                if ctx.body is None:  # the client left while sending: nobody to answer
                    ctx.status = 499
                    return
                receive = replaying(receive, ctx.body, ctx)
            for access in chain.access:
                pending = access(kong)
                if pending is not None:
                    await pending
                if kong.exit is not None:
                    break
            if kong.exit is not None:
                answer = kong.exit
                headers = [*answer.headers, (b"content-length", str(len(answer.body)).encode())]
                await downstream({"type": "http.response.start", "status": answer.status, "headers": headers})
                await downstream({"type": "http.response.body", "body": answer.body})
            elif ctx.preflight:
                raise _unanswered(ctx.preflight)
            else:
                await self.app(scope, receive, downstream)
        finally:
            kong.phase = "log"
            for name, log_phase in chain.log:
                try:
                    pending = log_phase(kong)
                    if pending is not None:
                        await pending
                except Exception:
                    log.exception("log phase of plugin %s failed (request %s)", name, ctx.request_id)
