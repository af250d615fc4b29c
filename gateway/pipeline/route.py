"""One route's pipeline, built once per route and snapshot: the plugins' access phases, then the answer
(a plugin's exit, a sandbox example, or the upstream's through `forward.py`), the response phases as
the answer's head is written, the lifecycle headers, and the log phases once the answer is sent.

A route's constants (its phases, its body limit, its lifecycle headers, its upstream) are looked up
here once, not on every request. A CORS preflight routed to the operation it asks about (routing.py)
must be answered by a plugin: otherwise it gets the 405 its path has for OPTIONS.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine
from typing import TYPE_CHECKING, Any

from agora.errors import AgoraError
from gateway.config.model import Route, Service
from gateway.engine.http import DirectResponder, Headers, Request, Responder
from gateway.errors import MethodNotAllowed, problem
from gateway.pipeline.context import RequestContext
from gateway.pipeline.direct import DirectExchange, WaitingStep, raise_again
from gateway.pipeline.fast import FastChain, FastHost, fast_chain
from gateway.pipeline.forward import Forward
from gateway.pipeline.headers import TrustedProxies
from gateway.pipeline.pdk import Kong
from gateway.pipeline.plugin_host import Chain
from gateway.pipeline.sandbox import sandbox_answer
from gateway.upstream.transport import UpstreamResponse

if TYPE_CHECKING:
    from gateway.pipeline.entry import Pipeline as Entry

__all__ = ["RoutePipeline"]

log = logging.getLogger("agora.gateway.plugins")
_EMPTY = Chain.of(())


def _unanswered(allow: tuple[str, ...]) -> MethodNotAllowed:
    return MethodNotAllowed("OPTIONS is not offered at this path", allow)


class RoutePipeline:
    __slots__ = (
        "access", "body_limit", "direct", "fast", "forward", "lifecycle", "log", "plugins", "response",
        "route", "service", "trusted",
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
        # Whether `begin` may run the route's common case without a task: an upstream, and plugins (if
        # any) that all have fast steps, so nothing there has a response phase or reads the body.
        self.direct = forward is not None and (not chain.plugins or self.fast is not None)

    def begin(
        self, request: Request, responder: DirectResponder, ctx: RequestContext, entry: Entry
    ) -> Coroutine[Any, Any, None] | DirectExchange | WaitingStep:
        """The route's common case without a task (direct.py): the fast access steps, then the request
        sent upstream from here, its answer relayed by callbacks. Whatever does not fit (a step that
        declines or waits, a body, a sandbox call, no idle upstream connection...) goes on in the task
        path from where the lane stopped: `run` from the access step that did not pass at once."""
        if not self.direct or ctx.preflight:
            return entry.guard(request, responder, ctx, self.run(request, responder, ctx))
        return self.go_on(request, responder, ctx, entry, 0)

    def go_on(
        self, request: Request, responder: DirectResponder, ctx: RequestContext, entry: Entry, first: int
    ) -> Coroutine[Any, Any, None] | DirectExchange | WaitingStep:
        """The lane from the fast access step `first` on. A step whose answer is a pending future (a
        Redis call) is waited for by a `WaitingStep`, which carries on from here when it resolves."""
        fast = self.fast
        if fast is not None:
            steps = fast.access[first:] if first else fast.access
            try:
                for step in steps:
                    done = step(ctx)
                    if done is not True:
                        if isinstance(done, asyncio.Future) and not done.done():
                            return WaitingStep(self, entry, request, responder, ctx, first, done)
                        work = self.run(request, responder, ctx, first, done)
                        return entry.guard(request, responder, ctx, work)
                    first += 1
            except Exception as error:  # answered (or logged) by the task path, as if raised there
                return entry.guard(request, responder, ctx, self.then_log(responder, ctx, raise_again(error)))
        forward = self.forward
        assert forward is not None  # self.direct
        try:
            begun = None if ctx.sandbox else forward.begin(request, ctx)
        except AgoraError:  # nothing was sent: `send` raises it again, and it is answered as there
            begun = None
        if begun is None:
            return entry.guard(request, responder, ctx, self.run(request, responder, ctx, first))
        return DirectExchange(self, entry, request, responder, ctx, begun)

    async def run(
        self,
        request: Request,
        responder: Responder,
        ctx: RequestContext,
        first: int = 0,
        outcome: bool | Awaitable[bool] | None = None,
    ) -> None:
        """The route's pipeline for one request, in its task. `first` and `outcome` carry on a request
        the direct lane began: the fast access steps from `first` on, `outcome` the result of the one at
        `first`, which has run."""
        if not self.plugins:
            if ctx.preflight:
                raise _unanswered(ctx.preflight)
            await self.answer(request, responder, ctx, None)
            return
        start = 0
        if self.fast is not None:
            start = await self._fast(request, responder, ctx, self.fast, first, outcome)
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
                await self.answer(request, responder, ctx, kong)
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
        self,
        request: Request,
        responder: Responder,
        ctx: RequestContext,
        fast: FastChain,
        first: int = 0,
        outcome: bool | Awaitable[bool] | None = None,
    ) -> int:
        """The route's fast chain (fast.py): -1 when it answered the request, else the index of the access
        step that declined (at once, or through the awaitable it returned), from which the PDK's access
        phases go on (the steps before it changed `ctx` as their PDK phases would have, and the one that
        declined changed nothing)."""
        declined = -1
        try:
            access = fast.access
            for index in range(first, len(access)):
                if outcome is None:
                    done = access[index](ctx)
                else:
                    done, outcome = outcome, None
                if done is not True and (done is False or not await done):
                    declined = index
                    return declined
            if ctx.preflight:
                raise _unanswered(ctx.preflight)
            await self.answer(request, responder, ctx, None)
            return -1
        finally:
            if declined < 0:  # answered here (or failed): the log steps, as the PDK's log phases
                self.log_fast(responder, ctx)

    def log_fast(self, responder: Responder, ctx: RequestContext) -> None:
        """The fast chain's log steps, once the answer is sent (or failed)."""
        fast = self.fast
        if fast is None:
            return
        ctx.bytes_out = responder.bytes_sent
        for name, log_step in fast.log:
            try:
                log_step(ctx)
            except Exception:
                log.exception("log phase of plugin %s failed (request %s)", name, ctx.request_id)

    async def then_log(self, responder: Responder, ctx: RequestContext, work: Awaitable[None]) -> None:
        """The rest of a request the direct lane began, then the log steps (as `_fast` runs them)."""
        try:
            await work
        finally:
            self.log_fast(responder, ctx)

    async def stream(self, responder: Responder, response: UpstreamResponse) -> None:
        """The body of an answer whose head is out, as it arrives."""
        try:
            while chunk := await response.read():
                await responder.write(chunk)
            responder.end()
        finally:
            response.close()

    async def answer(
        self,
        request: Request,
        responder: Responder,
        ctx: RequestContext,
        kong: Kong | None,
        sending: Awaitable[tuple[UpstreamResponse, Headers]] | None = None,
    ) -> None:
        """The sandbox's or the upstream's answer; their errors (502, 503, 504, 413, 501) are answered
        here, through the response phase, as the upstream's own answers are. `sending`: the exchange
        with the upstream when the direct lane began it, else `forward.send`."""
        try:
            if self.forward is not None and not ctx.sandbox:
                response, headers = await (sending or self.forward.send(request, ctx))
                try:
                    if kong is None or not self.response:  # no response phase: nothing to await
                        self.send_head(responder, ctx, response.status, headers)
                    else:
                        await self._head(responder, ctx, response.status, headers, kong)
                    whole = response.whole()
                    if whole is not None:  # the body has all arrived (small answers): one write
                        responder.end(whole)
                        return
                    await self.stream(responder, response)
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
        self.send_head(responder, ctx, status, headers)

    def send_head(self, responder: Responder, ctx: RequestContext, status: int, headers: Headers) -> None:
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
