"""Per-request facts for metering and log plugins, and the hook that hands them out.

`UsageMiddleware` sits outside error handling, so every answer is counted (404s and 502s too). Its
hooks run after the response has been sent; a hook must not block (hand the facts to a queue).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields
from typing import Any

from .context import context_of
from .types import ASGIApp, Receive, Scope, Send

__all__ = ["RequestFacts", "UsageHook", "UsageMiddleware", "facts_of"]

log = logging.getLogger("agora.gateway.usage")


@dataclass(frozen=True, slots=True)
class RequestFacts:
    request_id: str
    method: str
    path: str
    status: int
    service: str | None
    route: str | None  # operation id, or "METHOD /path" without one
    consumer: str | None
    credential: str | None
    client_ip: str
    bytes_in: int
    bytes_out: int
    latency_total_ms: float
    latency_upstream_ms: float | None
    sandbox: bool
    started_at: float  # Unix time

    def as_dict(self) -> dict[str, Any]:
        # Every field is a scalar, so a shallow copy equals `dataclasses.asdict` (a recursive deep copy,
        # ~20 us): this runs for every request a log plugin (usage-metering) serializes.
        return {name: getattr(self, name) for name in _FIELDS}


_FIELDS = tuple(f.name for f in fields(RequestFacts))
UsageHook = Callable[[RequestFacts], Awaitable[None] | None]


def facts_of(scope: Scope) -> RequestFacts:
    ctx = context_of(scope)
    now = time.perf_counter()
    route = ctx.route
    return RequestFacts(
        request_id=ctx.request_id,
        method=scope["method"],
        path=scope["path"],
        status=ctx.status,
        service=ctx.service.name if ctx.service else None,
        route=(route.operation_id or f"{route.method} {route.path}") if route else None,
        consumer=str(ctx.consumer.get("id")) if ctx.consumer else None,
        credential=str(ctx.credential.get("id")) if ctx.credential else None,
        client_ip=ctx.peer,
        bytes_in=ctx.bytes_in,
        bytes_out=ctx.bytes_out,
        latency_total_ms=(now - ctx.started) * 1000,
        latency_upstream_ms=ctx.upstream_latency * 1000 if ctx.upstream_latency is not None else None,
        sandbox=ctx.sandbox,
        started_at=time.time() - (now - ctx.started),
    )


class UsageMiddleware:
    def __init__(self, app: ASGIApp, hooks: Sequence[UsageHook] = ()) -> None:
        self.app = app
        self.hooks = tuple(hooks)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not self.hooks:
            await self.app(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            facts = facts_of(scope)
            for hook in self.hooks:
                try:
                    result = hook(facts)
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("usage hook %r failed (request %s)", hook, facts.request_id)
