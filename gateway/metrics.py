"""Prometheus metrics of a gateway worker, fed by the usage hook after each response.

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

Per request: one dict lookup for the cached label children and three to five mmap value updates
(prometheus-client's lock per value, uncontended); no `labels()` call, no syscall.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from .circuit import CLOSED, HALF_OPEN, Breaker
from .config import CompiledConfig, ConfigHolder
from .usage import RequestFacts

__all__ = ["LATENCY_BUCKETS", "GatewayMetrics"]

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_API = ("agency", "api", "version")
_NONE = ("", "", "")  # a request that matched no API (404 and friends)
_STATE = {CLOSED: 0.0, HALF_OPEN: 1.0}


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
        self._config: CompiledConfig | None = None
        self._labels: dict[str, tuple[str, str, str]] = {}
        self._children: dict[tuple[tuple[str, str, str], int], tuple[Counter, Histogram, Histogram]] = {}

    def config_changed(self, config: CompiledConfig | None) -> None:
        self._config = config
        if config is None:
            return
        self._labels = {
            s.name: (str(s.raw.get("agency", "")), str(s.raw.get("api", "")), str(s.raw.get("version", "")))
            for s in config.snapshot.services
        }
        self.config_revision.set(config.snapshot.revision or 0)

    def observe(self, facts: RequestFacts) -> None:
        """The usage hook (gateway/usage.py): runs after every response, on the event loop."""
        config = self.holder.current
        if config is not self._config:
            self.config_changed(config)
        labels = self._labels.get(facts.service, _NONE) if facts.service is not None else _NONE
        status = facts.status
        children = self._children.get((labels, status))
        if children is None:
            children = self._children[(labels, status)] = (
                self.requests.labels(*labels, str(status)),
                self.latency.labels(*labels),
                self.upstream.labels(*labels),
            )
        children[0].inc()
        children[1].observe(facts.latency_total_ms / 1000)
        if facts.latency_upstream_ms is not None:
            children[2].observe(facts.latency_upstream_ms / 1000)
        if status == 429:
            self.rate_limited.labels(*labels).inc()
        elif status in (401, 403):
            self.auth_failures.labels(*labels, str(status)).inc()

    def circuit_changed(self, breaker: Breaker) -> None:
        """Breakers call this on every state change (rare), the health monitor when it first probes one."""
        self.upstream_healthy.labels(breaker.origin).set(1.0 if breaker.state == CLOSED else 0.0)
        self.circuit_state.labels(breaker.origin).set(_STATE.get(breaker.state, 2.0))
