"""Per-request facts for metering and log plugins, and the hook that hands them out.

`UsageMiddleware` sits outside error handling, so every answer is counted (404s and 502s too). Its
hooks run after the response has been sent; a hook must not block (hand the facts to a queue).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, NamedTuple

from .context import context_of
from .types import ASGIApp, Receive, Scope, Send

__all__ = ["RequestFacts", "UsageHook", "UsageMiddleware", "facts_of"]

log = logging.getLogger("agora.gateway.usage")


class RequestFacts(NamedTuple):
    """What happened to one request. A tuple: made for every request that has a log plugin, and a
    tuple is built at a fraction of a frozen dataclass's cost (whose fields are set one by one)."""

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
        # Every field is a scalar: a fresh shallow dict is a full copy, which the caller may change.
        return dict(zip(self._fields, self, strict=True))


UsageHook = Callable[[RequestFacts], Awaitable[None] | None]


def facts_of(scope: Scope) -> RequestFacts:
    """The request's facts, computed once the response has started: by the first log plugin, else by
    the usage hooks (every later reader gets the same figures). Before that (an error the outer
    problem middleware has yet to answer), each call computes them afresh."""
    ctx = context_of(scope)
    if ctx.facts is not None:
        return ctx.facts  # type: ignore[no-any-return]
    now = time.perf_counter()
    route, consumer, credential, upstream = ctx.route, ctx.consumer, ctx.credential, ctx.upstream_latency
    elapsed = now - ctx.started
    facts = RequestFacts(
        ctx.request_id,
        scope["method"],
        scope["path"],
        ctx.status,
        ctx.service.name if ctx.service else None,
        (route.operation_id or f"{route.method} {route.path}") if route else None,
        str(consumer.get("id")) if consumer else None,
        str(credential.get("id")) if credential else None,
        ctx.peer,
        ctx.bytes_in,
        ctx.bytes_out,
        elapsed * 1000,
        upstream * 1000 if upstream is not None else None,
        ctx.sandbox,
        time.time() - elapsed,
    )
    if ctx.status:
        ctx.facts = facts
    return facts


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
