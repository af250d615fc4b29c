"""Circuit breakers, one per upstream origin and worker, wrapped around the transport.

    closed     requests pass; outcomes are counted (passive detection). It opens after
               `consecutive_failures` failures in a row, or when at least `min_calls` calls in the
               current `window` seconds failed at `failure_rate` or more. A failure is a connection
               error, a timeout or a 5xx answer of the upstream.
    open       requests are answered at once: 503 problem with `Retry-After`, the upstream is not called.
               Active probes that fail keep it open (gateway/upstream/health.py).
    half-open  after `cooldown` seconds: one trial request (or a successful active probe) closes it; a
               failed trial opens it again.

Per worker, on purpose: the request path must not wait on shared state, and every worker sees the same
upstream fail within a few requests or one probe interval. The per-request cost is two monotonic clock
reads and a few integer updates; no lock (one event loop per worker).

`CircuitTransport` is the seam: it wraps any `Transport` (gateway/upstream/transport.py), so the
proxy does not know breakers exist.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from gateway.config.model import Timeouts
from gateway.errors import BadGateway, GatewayTimeout, UpstreamUnavailable
from gateway.upstream.transport import (
    EncodedTransport,
    Transport,
    UpstreamRequest,
    UpstreamResponse,
    request_of,
)

__all__ = [
    "CLOSED",
    "HALF_OPEN",
    "OPEN",
    "Breaker",
    "BreakerPolicy",
    "Breakers",
    "CircuitTransport",
    "origin_of",
]

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half-open"


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerPolicy:
    consecutive_failures: int = 5
    window: float = 10.0
    min_calls: int = 20
    failure_rate: float = 0.5
    cooldown: float = 5.0
    probe_failures: int = 2  # failed active probes in a row that open the circuit


class Breaker:
    __slots__ = ("_window_start", "calls", "consecutive", "failures", "on_change", "opened", "opened_at",
                 "origin", "policy", "probe_streak", "probes", "probes_ok", "requests", "state", "trial",
                 "window_calls", "window_failures")  # fmt: skip

    def __init__(
        self, origin: str, policy: BreakerPolicy, on_change: Callable[[Breaker], None] | None = None
    ) -> None:
        self.origin, self.policy, self.on_change = origin, policy, on_change
        self.state = CLOSED
        self.opened_at = 0.0
        self.trial = False
        self.consecutive = self.probe_streak = 0
        self._window_start, self.window_calls, self.window_failures = 0.0, 0, 0
        # Since the last health sample (gateway/upstream/health.py takes and resets them).
        self.requests = self.failures = self.probes = self.probes_ok = self.calls = 0
        self.opened = False

    def _set(self, state: str, now: float) -> None:
        if state == OPEN:
            self.opened_at, self.opened = now, True
        if state != self.state:
            self.state = state
            self.trial = False
            self.consecutive = self.window_calls = self.window_failures = 0
            if self.on_change is not None:
                self.on_change(self)

    def allow(self, now: float) -> bool:
        state = self.state
        if state == CLOSED:
            return True
        if state == OPEN:
            if now - self.opened_at < self.policy.cooldown:
                return False
            self._set(HALF_OPEN, now)
        if self.trial:
            return False
        self.trial = True
        return True

    def retry_after(self, now: float) -> int:
        return max(1, math.ceil(self.policy.cooldown - (now - self.opened_at)))

    def record(self, ok: bool, now: float) -> None:
        """The outcome of a request that was let through."""
        self.requests += 1
        self.failures += not ok
        state = self.state
        if state == HALF_OPEN:
            self._set(CLOSED if ok else OPEN, now)
            return
        if state == OPEN:  # a request started before the circuit opened
            return
        if now - self._window_start >= self.policy.window:
            self._window_start, self.window_calls, self.window_failures = now, 0, 0
        self.window_calls += 1
        if ok:
            self.consecutive = 0
            return
        self.consecutive += 1
        self.window_failures += 1
        policy = self.policy
        if self.consecutive >= policy.consecutive_failures or (
            self.window_calls >= policy.min_calls
            and self.window_failures >= policy.failure_rate * self.window_calls
        ):
            self._set(OPEN, now)

    def abandon(self) -> None:
        """A let-through request ended without an outcome (the client left): free the trial slot."""
        if self.state == HALF_OPEN:
            self.trial = False

    def probe(self, ok: bool, now: float) -> None:
        """An active health check's result."""
        self.probes += 1
        self.probes_ok += ok
        if ok:
            self.probe_streak = 0
            if self.state == HALF_OPEN or (
                self.state == OPEN and now - self.opened_at >= self.policy.cooldown
            ):
                self._set(CLOSED, now)
            return
        self.probe_streak += 1
        if self.state == OPEN:
            self.opened_at = now  # still down: stay open, so no client request is sent to find out
        elif self.probe_streak >= self.policy.probe_failures:
            self._set(OPEN, now)


class Breakers:
    """The worker's breakers by origin, created on first use."""

    def __init__(
        self, policy: BreakerPolicy | None = None, on_change: Callable[[Breaker], None] | None = None
    ):
        self.policy = policy or BreakerPolicy()
        self.on_change = on_change
        self.by_origin: dict[str, Breaker] = {}

    def get(self, origin: str) -> Breaker:
        found = self.by_origin.get(origin)
        if found is None:
            found = self.by_origin[origin] = Breaker(origin, self.policy, self.on_change)
            if self.on_change is not None:
                self.on_change(found)  # its metrics series exist (healthy) before anything happens
        return found


def origin_of(url: str) -> str:
    """ "http://host:port/path?q" -> "http://host:port" (the URL is the proxy's, always absolute)."""
    end = url.find("/", url.find("//") + 2)
    return url if end < 0 else url[:end]


class CircuitTransport:
    def __init__(self, inner: Transport, breakers: Breakers) -> None:
        self.inner = inner
        # Decided once: isinstance against a runtime-checkable Protocol walks its members (~2 us a call).
        self._encoded = inner if isinstance(inner, EncodedTransport) else None
        self.breakers = breakers
        self.rejected = 0  # requests answered 503 by an open circuit (also in the metrics)

    async def start(self) -> None:
        await self.inner.start()

    async def aclose(self) -> None:
        await self.inner.aclose()

    # `send` and `send_encoded` hand back `_guarded`'s coroutine for the caller to await: one coroutine
    # frame fewer per request than awaiting it here.
    def send(self, request: UpstreamRequest) -> Coroutine[Any, Any, UpstreamResponse]:
        return self._guarded(origin_of(request.url), self.inner.send(request))

    def send_encoded(
        self,
        origin: str,
        method: str,
        target: str,
        headers: bytes,
        body: AsyncIterable[bytes] | None,
        timeouts: Timeouts,
        *,
        has_host: bool = False,
        has_length: bool = False,
    ) -> Coroutine[Any, Any, UpstreamResponse]:
        """The encoded entry of the upstream client (engine/upstream.py), behind the same breaker."""
        inner = self._encoded
        if inner is not None:
            call = inner.send_encoded(
                origin, method, target, headers, body, timeouts, has_host=has_host, has_length=has_length
            )
        else:
            call = self.inner.send(request_of(origin, method, target, headers, body, timeouts))
        return self._guarded(origin, call)

    def guard(
        self, origin: str, call: Coroutine[Any, Any, UpstreamResponse]
    ) -> Coroutine[Any, Any, UpstreamResponse]:
        """`call` (an exchange with `origin`) behind that origin's breaker, as `send` runs its own."""
        return self._guarded(origin, call)

    async def _guarded(self, origin: str, call: Coroutine[Any, Any, UpstreamResponse]) -> UpstreamResponse:
        breaker = self.breakers.get(origin)
        now = time.monotonic()
        if not breaker.allow(now):
            call.close()
            self.rejected += 1
            raise UpstreamUnavailable(
                "the upstream is failing; the gateway stopped calling it for a moment",
                breaker.retry_after(now),
            )
        try:
            response = await call
        except (BadGateway, GatewayTimeout):
            breaker.record(False, time.monotonic())
            raise
        except (Exception, asyncio.CancelledError):
            breaker.abandon()
            raise
        breaker.record(response.status < 500, time.monotonic())
        return response
