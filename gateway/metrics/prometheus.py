"""Prometheus metrics of a gateway worker.

    agora_gateway_requests_total{agency,api,version,status}
    agora_gateway_request_duration_seconds{agency,api,version}     histogram, client-side latency
    agora_gateway_upstream_duration_seconds{agency,api,version}    histogram, upstream time to headers
    agora_gateway_rate_limited_total{agency,api,version}           429 answers
    agora_gateway_auth_failures_total{agency,api,version,status}   401 and 403 answers
    agora_gateway_config_revision{pid}                             the snapshot each worker serves
    agora_upstream_healthy{upstream}                               1 unless a worker has its circuit open
    agora_upstream_circuit_state{upstream}                         0 closed, 1 half-open, 2 open (worst)

Across processes: uvicorn's workers are separate processes, so each writes its values to memory-mapped
files in PROMETHEUS_MULTIPROC_DIR (prometheus-client's multiprocess mode; `agora gateway` sets it) and
whoever exposes them (metrics_server.py, or the admin's /metrics) sums the files. Counters and
histograms add up across workers; gauges say how to combine (`livemin`, `livemax`, `liveall`).

Per request, `record` (called by the pipeline after every answer) only adds to plain in-process counts
(a dict lookup, a `bisect` for the latency bucket, a few integer additions): no lock, no mmap write, no
object but the first of each (service, status). `flush()` moves the counts into the prometheus-client
values once a second (the gateway's startup runs it), so a scrape is at most a second behind. Measured
with `python -m loadtests.metrics_cost` (docs/operators/monitoring.md).
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_left
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from gateway.config.compiled import CompiledConfig, ConfigHolder
from gateway.pipeline.context import RequestContext
from gateway.upstream.circuit import CLOSED, HALF_OPEN, Breaker

__all__ = ["FLUSH_EVERY", "LATENCY_BUCKETS", "GatewayMetrics"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
FLUSH_EVERY = 1.0
_API = ("agency", "api", "version")
_NONE = ("", "", "")  # a request that matched no API (404 and friends)
_STATE = {CLOSED: 0.0, HALF_OPEN: 1.0}
_SLOTS = len(LATENCY_BUCKETS) + 1  # the last one is +Inf


class _Counts:
    __slots__ = ("calls", "latency", "latency_sum", "upstream", "upstream_sum")

    def __init__(self) -> None:
        self.calls = 0
        self.latency, self.upstream = [0] * _SLOTS, [0] * _SLOTS
        self.latency_sum = self.upstream_sum = 0.0


class GatewayMetrics:
    def __init__(self, holder: ConfigHolder, registry: CollectorRegistry | None = None) -> None:
        self.holder = holder
        # A registry of our own: several gateways in one process (tests) must not collide.
        self.registry = registry or CollectorRegistry(auto_describe=False)
        r = self.registry
        self.requests = Counter("agora_gateway_requests", "Answers", [*_API, "status"], registry=r)
        self.latency = Histogram(
            "agora_gateway_request_duration_seconds", "Time from request to the end of the answer",
            _API, buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.upstream = Histogram(
            "agora_gateway_upstream_duration_seconds", "Time from calling the upstream to its headers",
            _API, buckets=LATENCY_BUCKETS, registry=r,
        )  # fmt: skip
        self.rate_limited = Counter("agora_gateway_rate_limited", "429 answers", _API, registry=r)
        self.auth_failures = Counter(
            "agora_gateway_auth_failures", "401 and 403 answers", [*_API, "status"], registry=r
        )
        self.config_revision = Gauge(
            "agora_gateway_config_revision",
            "Snapshot revision served",
            registry=r,
            multiprocess_mode="liveall",
        )
        self.upstream_healthy = Gauge(
            "agora_upstream_healthy", "1 while the upstream's circuit is closed", ["upstream"], registry=r,
            multiprocess_mode="livemin",
        )  # fmt: skip
        self.circuit_state = Gauge(
            "agora_upstream_circuit_state", "0 closed, 1 half-open, 2 open", ["upstream"], registry=r,
            multiprocess_mode="livemax",
        )  # fmt: skip
        self._pending: dict[tuple[str | None, int], _Counts] = {}
        self._config: CompiledConfig | None = None
        self._labels: dict[str, tuple[str, str, str]] = {}

    def record(self, ctx: RequestContext) -> None:
        """After every response, on the event loop: in-process counts only."""
        service = ctx.service
        key = (service.name if service is not None else None, ctx.status)
        counts = self._pending.get(key)
        if counts is None:
            counts = self._pending[key] = _Counts()
        counts.calls += 1
        total = time.perf_counter() - ctx.started
        counts.latency[bisect_left(LATENCY_BUCKETS, total)] += 1
        counts.latency_sum += total
        upstream = ctx.upstream_latency
        if upstream is not None:
            counts.upstream[bisect_left(LATENCY_BUCKETS, upstream)] += 1
            counts.upstream_sum += upstream

    def flush(self) -> None:
        """Moves the pending counts into the exported values (a second's worth: a few mmap writes)."""
        config = self.holder.current
        if config is not self._config:
            self._config_changed(config)
        pending, self._pending = self._pending, {}
        for (name, status), counts in pending.items():
            labels = self._labels.get(name, _NONE) if name is not None else _NONE
            self.requests.labels(*labels, str(status)).inc(counts.calls)
            _add(self.latency.labels(*labels), counts.latency, counts.latency_sum)
            _add(self.upstream.labels(*labels), counts.upstream, counts.upstream_sum)
            if status == 429:
                self.rate_limited.labels(*labels).inc(counts.calls)
            elif status in (401, 403):
                self.auth_failures.labels(*labels, str(status)).inc(counts.calls)

    async def run(self) -> None:
        try:
            while True:
                await asyncio.sleep(FLUSH_EVERY)
                self.flush()
        finally:
            self.flush()  # on shutdown: nothing counted is lost

    def _config_changed(self, config: CompiledConfig | None) -> None:
        self._config = config
        if config is None:
            return
        self._labels = {
            s.name: (str(s.raw.get("agency", "")), str(s.raw.get("api", "")), str(s.raw.get("version", "")))
            for s in config.snapshot.services
        }
        self.config_revision.set(config.snapshot.revision or 0)

    def circuit_changed(self, breaker: Breaker) -> None:
        """Breakers call this on every state change (rare), and once when created."""
        self.upstream_healthy.labels(breaker.origin).set(1.0 if breaker.state == CLOSED else 0.0)
        self.circuit_state.labels(breaker.origin).set(_STATE.get(breaker.state, 2.0))


def _add(histogram: Any, buckets: list[int], total: float) -> None:
    # prometheus-client's Histogram has no "add n observations": its per-bucket values are updated
    # directly (the non-cumulative counts it keeps, as `observe` does one at a time). Pinned version;
    # tests/gateway/test_gateway_metrics.py reads the result back through the text format.
    if not any(buckets):
        return
    histogram._sum.inc(total)
    for index, count in enumerate(buckets):
        if count:
            histogram._buckets[index].inc(count)
