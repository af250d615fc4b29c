"""One route's pipeline, built once per route and snapshot: the plugins' access phases, then the answer
(a plugin's exit, a sandbox example, or the upstream's through `forward.py`), the response phases as
the answer's head is written, the lifecycle headers, and the log phases once the answer is sent.

A route's constants (its phases, its body limit, its lifecycle headers, its upstream) are looked up
here once, not on every request. A CORS preflight routed to the operation it asks about (routing.py)
must be answered by a plugin: otherwise it gets the 405 its path has for OPTIONS.
"""

from __future__ import annotations

import logging

from agora.errors import AgoraError
from gateway.config.model import Route, Service
from gateway.engine.http import Headers, Request, Responder
from gateway.errors import MethodNotAllowed, problem
from gateway.pipeline.context import RequestContext
from gateway.pipeline.fast import FastChain, FastHost, fast_chain
from gateway.pipeline.forward import Forward
from gateway.pipeline.headers import TrustedProxies
from gateway.pipeline.pdk import Kong
from gateway.pipeline.plugin_host import Chain
from gateway.pipeline.sandbox import sandbox_answer

__all__ = ["RoutePipeline"]

log = logging.getLogger("agora.gateway.plugins")
_EMPTY = Chain.of(())


def _unanswered(allow: tuple[str, ...]) -> MethodNotAllowed:
    return MethodNotAllowed("OPTIONS is not offered at this path", allow)


class RoutePipeline:
    __slots__ = (
        "access", "body_limit", "fast", "forward", "lifecycle", "log", "plugins", "response", "route",
        "service", "trusted",
    )  # fmt: skip

    def __init__(
        self,
        service: Service,
        route: Route,
        chain: Chain | None,
        *,
        lifecycle: Headers,
        forward: Forward | None,
        trusted: TrustedProxies,
        host: FastHost | None = None,
    ) -> None:
        chain = chain or _EMPTY
        self.service, self.route = service, route
        self.plugins = bool(chain.plugins)
        self.access, self.response, self.log = chain.access, chain.response, chain.log
        self.body_limit = min(chain.body_limit, service.max_body_bytes) if chain.body_limit else 0
        self.lifecycle = lifecycle  # Deprecation / Sunset / Link of a deprecated version
        self.forward = forward  # None: a sandbox-only version
        self.trusted = trusted
        # The plugins' fast steps (fast.py), when each plugin of the chain has them for this route.
        self.fast = fast_chain(chain, service, host) if host is not None and chain.plugins else None

    async def run(self, request: Request, responder: Responder, ctx: RequestContext) -> None:
        if not self.plugins:
            if ctx.preflight:
                raise _unanswered(ctx.preflight)
            await self._answer(request, responder, ctx, None)
            return
        start = 0
        if self.fast is not None:
            start = await self._fast(request, responder, ctx, self.fast)
            if start < 0:
                return
        kong = Kong(ctx, request, self.trusted)
        try:
            if self.body_limit and request.body is not None:
                from gateway.pipeline.body import check_declared, read_body

                check_declared(request.headers, self.body_limit, "this operation")
                ctx.body = await read_body(request.body, ctx, self.body_limit)
            for access in self.access[start:] if start else self.access:
                pending = access(kong)
                if pending is not None:
                    await pending
                if kong.exit is not None:
                    break
            if kong.exit is not None:
                answer = kong.exit
                await self._head(responder, ctx, answer.status, list(answer.headers), kong)
                responder.end(answer.body)
            elif ctx.preflight:
                raise _unanswered(ctx.preflight)
            else:
                await self._answer(request, responder, ctx, kong)
        finally:
            ctx.bytes_out = responder.bytes_sent
            kong.phase = "log"
            for name, log_phase in self.log:
                try:
                    pending = log_phase(kong)
                    if pending is not None:
                        await pending
                except Exception:
                    log.exception("log phase of plugin %s failed (request %s)", name, ctx.request_id)

    async def _fast(
        self, request: Request, responder: Responder, ctx: RequestContext, fast: FastChain
    ) -> int:
        """The route's fast chain (fast.py): -1 when it answered the request, else the index of the access
        step that declined (at once, or through the awaitable it returned), from which the PDK's access
        phases go on (the steps before it changed `ctx` as their PDK phases would have, and the one that
        declined changed nothing)."""
        declined = -1
        try:
            for index, step in enumerate(fast.access):
                done = step(ctx)
                if done is not True and (done is False or not await done):
                    declined = index
                    return declined
            if ctx.preflight:
                raise _unanswered(ctx.preflight)
            await self._answer(request, responder, ctx, None)
            return -1
        finally:
            if declined < 0:  # answered here (or failed): the log steps, as the PDK's log phases
                ctx.bytes_out = responder.bytes_sent
                for name, log_step in fast.log:
                    try:
                        log_step(ctx)
                    except Exception:
                        log.exception("log phase of plugin %s failed (request %s)", name, ctx.request_id)

    async def _answer(
        self, request: Request, responder: Responder, ctx: RequestContext, kong: Kong | None
    ) -> None:
        """The sandbox's or the upstream's answer; their errors (502, 503, 504, 413, 501) are answered
        here, through the response phase, as the upstream's own answers are."""
        try:
            if self.forward is not None and not ctx.sandbox:
                response, headers = await self.forward.send(request, ctx)
                try:
                    if kong is None or not self.response:  # no response phase: nothing to await
                        self._send_head(responder, ctx, response.status, headers)
                    else:
                        await self._head(responder, ctx, response.status, headers, kong)
                    whole = response.whole()
                    if whole is not None:  # the body has all arrived (small answers): one write
                        responder.end(whole)
                        return
                    while chunk := await response.read():
                        await responder.write(chunk)
                    responder.end()
                finally:
                    response.close()
                return
            ctx.sandbox = True
            status, headers, body = sandbox_answer(self.route, request.method, request.path)
        except AgoraError as error:
            if responder.started:
                raise
            status, headers, body = problem(error, instance=request.path, request_id=ctx.request_id)
        await self._head(responder, ctx, status, headers, kong)
        responder.end(body)

    async def _head(
        self, responder: Responder, ctx: RequestContext, status: int, headers: Headers, kong: Kong | None
    ) -> None:
        """Headers set by plugins before the answer, the response phases (which see and may change every
        header), the lifecycle headers and the request id; then the head goes out."""
        if ctx.response_headers:
            headers.extend(ctx.response_headers)
            ctx.response_headers = []
        ctx.status = status
        if kong is not None and self.response:
            kong.phase, kong.response_headers = "response", headers
            for response in self.response:
                pending = response(kong)
                if pending is not None:
                    await pending
            kong.response_headers = None
        self._send_head(responder, ctx, status, headers)

    def _send_head(self, responder: Responder, ctx: RequestContext, status: int, headers: Headers) -> None:
        """`_head` without response phases (nothing to await): the headers set by plugins before the
        answer (unless `_head` added them already), the lifecycle headers and the request id."""
        if ctx.response_headers:
            headers.extend(ctx.response_headers)
            ctx.response_headers = []
        ctx.status = status
        if self.lifecycle:
            headers.extend(self.lifecycle)
        headers.append((b"x-request-id", ctx.request_id.encode("ascii")))
        responder.start(status, headers)
