"""Per-request facts for metering and log plugins, and the hooks that receive them.

The pipeline's entry runs the hooks after every answer (404s and 502s too), once the answer is sent;
a hook must not block (hand the facts to a queue).
"""

from __future__ import annotations

import inspect
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple
from urllib.parse import unquote

from gateway.pipeline.context import RequestContext

__all__ = ["RequestFacts", "UsageHook", "facts_of", "run_hooks"]

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


def facts_of(ctx: RequestContext) -> RequestFacts:
    """The request's facts, computed once the response has started: by the first log plugin, else by
    the usage hooks (every later reader gets the same figures). Before that, each call computes them
    afresh."""
    if ctx.facts is not None:
        return ctx.facts  # type: ignore[no-any-return]
    now = time.perf_counter()
    route, consumer, credential, upstream = ctx.route, ctx.consumer, ctx.credential, ctx.upstream_latency
    elapsed = now - ctx.started
    request = ctx.request
    path = request.path
    facts = RequestFacts(
        ctx.request_id,
        request.method,
        unquote(path) if "%" in path else path,
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


def run_hooks(hooks: tuple[UsageHook, ...], ctx: RequestContext) -> Awaitable[None] | None:
    """Hands the facts to every hook after the answer; a hook's failure is logged, never raised. Returns
    a coroutine only when a hook is async (the shipped ones are not: they queue)."""
    facts = facts_of(ctx)
    pending: list[Awaitable[None]] = []
    for hook in hooks:
        try:
            result = hook(facts)
        except Exception:
            log.exception("usage hook %r failed (request %s)", hook, facts.request_id)
            continue
        if result is not None and inspect.isawaitable(result):
            pending.append(result)
    return _await_all(pending, facts.request_id) if pending else None


async def _await_all(pending: list[Awaitable[None]], request_id: str) -> None:
    for result in pending:
        try:
            await result
        except Exception:
            log.exception("usage hook failed (request %s)", request_id)
