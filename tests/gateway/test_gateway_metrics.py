"""The metrics hook: labels from the snapshot's services, refusals counted apart, latency histograms,
config revision and circuit gauges; read back with prometheus-client's own parser."""

from __future__ import annotations

from typing import Any

from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.circuit import OPEN, Breaker, BreakerPolicy
from gateway.config import ConfigHolder, compile_snapshot
from gateway.metrics import GatewayMetrics
from gateway.plugin_host import PluginRegistry
from gateway.usage import RequestFacts

DOC = {
    "format": 1,
    "id": "sha256:x",
    "services": [
        {"name": "gov.x.v1", "prefix": "/gov/x/v1", "upstream": "http://up:1", "agency": "gov", "api": "x",
         "version": "1.4.0", "routes": [{"operation_id": "a", "method": "GET", "path": "/a"}]},
    ],
}  # fmt: skip


def facts(status: int, service: str | None = "gov.x.v1", upstream_ms: float | None = 8.0) -> RequestFacts:
    return RequestFacts(
        request_id="r", method="GET", path="/gov/x/v1/a", status=status, service=service, route="a",
        consumer=None, credential=None, client_ip="127.0.0.1", bytes_in=0, bytes_out=10,
        latency_total_ms=12.0, latency_upstream_ms=upstream_ms, sandbox=False, started_at=0.0,
    )  # fmt: skip


def samples(metrics: GatewayMetrics) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict[Any, float], name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


def test_requests_latency_refusals_and_config_revision() -> None:
    registry = PluginRegistry()
    holder = ConfigHolder(compile_snapshot(DOC, registry, revision=7))
    metrics = GatewayMetrics(holder)
    for status in (200, 200, 200, 429, 401, 403, 502):
        metrics.observe(facts(status, upstream_ms=None if status in (429, 401, 403) else 8.0))
    metrics.observe(facts(404, service=None, upstream_ms=None))
    found = samples(metrics)
    api = {"agency": "gov", "api": "x", "version": "1.4.0"}
    assert value(found, "agora_gateway_requests_total", **api, status="200") == 3
    assert value(found, "agora_gateway_requests_total", agency="", api="", version="", status="404") == 1
    assert value(found, "agora_gateway_rate_limited_total", **api) == 1
    assert value(found, "agora_gateway_auth_failures_total", **api, status="403") == 1
    assert value(found, "agora_gateway_request_duration_seconds_count", **api) == 7
    assert value(found, "agora_gateway_upstream_duration_seconds_count", **api) == 4
    assert value(found, "agora_gateway_request_duration_seconds_bucket", **api, le="0.025") == 7
    assert value(found, "agora_gateway_config_revision") == 7


def test_circuit_gauges() -> None:
    metrics = GatewayMetrics(ConfigHolder())
    breaker = Breaker("http://up:1", BreakerPolicy(), metrics.circuit_changed)
    metrics.circuit_changed(breaker)
    assert value(samples(metrics), "agora_upstream_healthy", upstream="http://up:1") == 1.0
    breaker.probe(False, 1.0)
    breaker.probe(False, 2.0)
    assert breaker.state == OPEN
    found = samples(metrics)
    assert value(found, "agora_upstream_healthy", upstream="http://up:1") == 0.0
    assert value(found, "agora_upstream_circuit_state", upstream="http://up:1") == 2.0
