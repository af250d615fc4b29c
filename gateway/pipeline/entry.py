"""Where every request enters the gateway's logic (the engine's `Handler`):

    request id      X-Request-ID kept from the client when sane, else generated (request_id.py)
    control paths   /healthz and /readyz, answered here (control.py)
    routing         path checks (routing.py), the route table of the current snapshot (routes.py):
                    404 unknown path, 405 with Allow, 410 for a retired version (lifecycle.py)
    route           the matched route's pipeline (route.py), built once per route and snapshot
    errors          an `AgoraError` becomes its problem document (errors.py); anything else a 500 and a
                    log line; once the answer has started, the connection is cut instead
    afterwards      metrics (metrics.py) and usage hooks (usage.py) for every answer, 404s included

A request keeps the snapshot it started with: a reload never changes the rules under it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Coroutine, Sequence
from typing import Any

from agora.errors import AgoraError, NotFound, Unavailable
from gateway.config.compiled import CompiledConfig, ConfigHolder
from gateway.config.model import Route, Service
from gateway.engine.http import AnswerCut, ClientDisconnected, DirectResponder, InFlight, Request, Responder
from gateway.errors import Gone, MethodNotAllowed, problem
from gateway.metrics.prometheus import GatewayMetrics
from gateway.pipeline.context import RequestContext
from gateway.pipeline.control import CONTROL_PATHS, control_answer
from gateway.pipeline.fast import FastHost
from gateway.pipeline.forward import Forward
from gateway.pipeline.headers import TrustedProxies
from gateway.pipeline.lifecycle import deprecation_headers, successor_of
from gateway.pipeline.request_id import request_id_of
from gateway.pipeline.route import RoutePipeline
from gateway.pipeline.routing import check_path, preflight_match
from gateway.pipeline.usage import UsageHook, run_hooks
from gateway.upstream.transport import Transport

__all__ = ["Pipeline"]

log = logging.getLogger("agora.gateway")


class Pipeline:
    def __init__(
        self,
        holder: ConfigHolder,
        transport: Transport,
        *,
        trusted: TrustedProxies | None = None,
        hooks: Sequence[UsageHook] = (),
        metrics: GatewayMetrics | None = None,
        source_description: str = "static",
        fast_path: bool = True,
    ) -> None:
        self.holder = holder
        self.transport = transport
        self.trusted = trusted or TrustedProxies()
        self.hooks = tuple(hooks)
        self.metrics = metrics
        self.source_description = source_description
        # The routes' pipelines of one snapshot, built on a route's first request under it.
        self._built_for: CompiledConfig | None = None
        self._routes: dict[Route, RoutePipeline] = {}
        self._forwards: dict[Service, Forward] = {}
        # The plugins' fast steps where a route's plugins all offer them (fast.py); off: the PDK always.
        self._host = FastHost(self.trusted) if fast_path else None
        self._pending: set[asyncio.Future[None]] = set()  # async usage hooks after direct-lane answers

    def __call__(self, request: Request, responder: Responder) -> Coroutine[Any, Any, None]:
        # A plain call returning the coroutine: one frame fewer per request than an `async def` awaiting it.
        if request.path in CONTROL_PATHS:
            return self._control(request, responder)
        ctx = RequestContext(request_id_of(request.headers), request, request.peer)
        return self.guard(request, responder, ctx)

    async def _control(self, request: Request, responder: Responder) -> None:
        status, headers, body = control_answer(request.path, self.holder, self.source_description)
        responder.answer(status, headers, body)

    def begin(self, request: Request, responder: DirectResponder) -> Coroutine[Any, Any, None] | InFlight:
        """The engine's fast entry (gateway/engine/http.py: Begin): a routed request without a body goes
        to its route's direct lane (direct.py); the rest, and every error, to the task path."""
        if request.body is not None or request.path in CONTROL_PATHS:
            return self(request, responder)
        ctx = RequestContext(request_id_of(request.headers), request, request.peer)
        try:
            pipeline = self._pipeline(request, ctx)
        except Exception:  # answered by the task path, which meets it again
            return self.guard(request, responder, ctx)
        return pipeline.begin(request, responder, ctx, self)

    async def guard(
        self, request: Request, responder: Responder, ctx: RequestContext, work: Awaitable[None] | None = None
    ) -> None:
        """Runs a request's `work` (by default: routing it and its route's pipeline), answers its
        errors, and records it once answered."""
        try:
            if work is None:
                await self._pipeline(request, ctx).run(request, responder, ctx)
            else:
                await work
        except AgoraError as error:
            if responder.started:
                # Nothing can be said once the head is out: the client sees a truncated body, never a
                # wrong one. One line for the operators, not a traceback.
                log.warning("request %s: %s; its answer was cut", ctx.request_id, error.detail)
                raise AnswerCut(error.detail) from error
            self._problem(request, responder, ctx, error)
        except (asyncio.CancelledError, ClientDisconnected):
            ctx.status = ctx.status or 499  # the client left: nobody to answer
            raise
        except Exception:
            log.exception("unexpected error in request %s", ctx.request_id)
            if responder.started:
                raise
            self._problem(request, responder, ctx, AgoraError("the gateway failed; quote the request id"))
        finally:
            pending = self.finish(responder, ctx)
            if pending is not None:
                await pending

    def finish(self, responder: Responder, ctx: RequestContext) -> Awaitable[None] | None:
        """After the answer: metrics and usage hooks; what an async hook still has to do, if any."""
        ctx.bytes_out = responder.bytes_sent
        if self.metrics is not None:
            self.metrics.record(ctx)
        if self.hooks:
            return run_hooks(self.hooks, ctx)
        return None

    def keep(self, pending: Awaitable[None]) -> None:
        """Runs what a usage hook still has to do after a direct-lane answer, in a task kept till done."""
        task = asyncio.ensure_future(pending)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _pipeline(self, request: Request, ctx: RequestContext) -> RoutePipeline:
        """The pipeline of the route `request` goes to, `ctx` filled with what routing found; raises
        the 404, 405, 410 or 503 it gets instead."""
        config = ctx.config = self.holder.current
        if config is None:
            raise Unavailable("the gateway has not loaded a configuration yet")
        path, method = request.path, request.method
        check_path(path)
        match = config.table.lookup(method, path)
        if match is None:
            raise NotFound(f"no API is published at {path}")
        if match.route is None and match.allow and method == "OPTIONS":
            asked = preflight_match(config.table, request.headers, path)
            if asked is not None:
                match, ctx.preflight = asked, match.allow
        service, route = match.service, match.route
        ctx.service, ctx.route, ctx.params, ctx.rest = service, route, match.params, match.rest
        if service.status == "retired":
            successor = successor_of(service, config.by_name)
            where = f"; use {successor}" if successor else ""
            raise Gone(f"{service.name} has been retired{where}", successor)
        if route is None:
            if match.allow:
                raise MethodNotAllowed(f"{method} is not offered at this path", match.allow)
            raise NotFound(f"{service.name} has no operation at {match.rest or '/'}")
        if config is not self._built_for:
            self._built_for, self._routes, self._forwards = config, {}, {}
        pipeline = self._routes.get(route)
        if pipeline is None:
            pipeline = self._routes[route] = self._build(config, service, route)
        return pipeline

    def _build(self, config: CompiledConfig, service: Service, route: Route) -> RoutePipeline:
        forward = None
        if service.upstream_origin is not None:
            forward = self._forwards.get(service)
            if forward is None:
                forward = self._forwards[service] = Forward(service, self.transport, self.trusted)
        lifecycle = []
        if service.status != "published" or service.sunset is not None:
            lifecycle = deprecation_headers(service, successor_of(service, config.by_name))
        return RoutePipeline(
            service, route, config.chains.get(route), lifecycle=list(lifecycle), forward=forward,
            trusted=self.trusted, host=self._host,
        )  # fmt: skip

    def _problem(
        self, request: Request, responder: Responder, ctx: RequestContext, error: AgoraError
    ) -> None:
        status, headers, body = problem(error, instance=request.path, request_id=ctx.request_id)
        if ctx.response_headers:  # set by a plugin before it refused (e.g. rate-limiting's headers)
            headers.extend(ctx.response_headers)
        headers.append((b"x-request-id", ctx.request_id.encode("ascii")))
        ctx.status = status
        responder.answer(status, headers, body)
