"""The metrics middleware's counts, once flushed: labels from the snapshot's services, refusals counted
apart, latency histograms, config revision and circuit gauges; read with prometheus-client's parser."""

from __future__ import annotations

import time
from typing import Any

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from gateway.config.compiled import CompiledConfig, ConfigHolder, compile_snapshot
from gateway.engine.http import Request
from gateway.metrics.prometheus import GatewayMetrics
from gateway.pipeline.context import RequestContext
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.upstream.circuit import OPEN, Breaker, BreakerPolicy

DOC = {
    "format": 1,
    "id": "sha256:x",
    "services": [
        {"name": "gov.x.v1", "prefix": "/gov/x/v1", "upstream": "http://up:1", "agency": "gov", "api": "x",
         "version": "1.4.0", "routes": [{"operation_id": "a", "method": "GET", "path": "/a"}]},
    ],
}  # fmt: skip


def answered(
    config: CompiledConfig, status: int, *, routed: bool = True, upstream: float | None = 0.008
) -> Any:
    """The request context of one answer, as the stack leaves it."""
    request = Request("GET", "/gov/x/v1/x", "", [])
    ctx = RequestContext("r", request, "127.0.0.1", started=time.perf_counter() - 0.012)
    ctx.service = config.snapshot.services[0] if routed else None
    ctx.status, ctx.upstream_latency = status, upstream
    return ctx


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
    config = compile_snapshot(DOC, PluginRegistry(), revision=7)
    metrics = GatewayMetrics(ConfigHolder(config))
    for status in (200, 200, 200, 429, 401, 403, 502):
        metrics.record(answered(config, status, upstream=None if status in (429, 401, 403) else 0.008))
    metrics.record(answered(config, 404, routed=False, upstream=None))
    assert samples(metrics).get(("agora_gateway_requests_total", ())) is None  # not flushed yet
    metrics.flush()
    metrics.record(answered(config, 200, upstream=0.3))
    metrics.flush()  # a second flush adds to the first
    found = samples(metrics)
    api = {"agency": "gov", "api": "x", "version": "1.4.0"}
    assert value(found, "agora_gateway_requests_total", **api, status="200") == 4
    assert value(found, "agora_gateway_requests_total", agency="", api="", version="", status="404") == 1
    assert value(found, "agora_gateway_rate_limited_total", **api) == 1
    assert value(found, "agora_gateway_auth_failures_total", **api, status="403") == 1
    assert value(found, "agora_gateway_request_duration_seconds_count", **api) == 8
    assert value(found, "agora_gateway_upstream_duration_seconds_count", **api) == 5
    assert value(found, "agora_gateway_request_duration_seconds_bucket", **api, le="0.01") == 0
    assert value(found, "agora_gateway_request_duration_seconds_bucket", **api, le="0.025") == 8
    assert value(found, "agora_gateway_upstream_duration_seconds_bucket", **api, le="0.01") == 4
    assert value(found, "agora_gateway_upstream_duration_seconds_bucket", **api, le="0.25") == 4
    assert value(found, "agora_gateway_upstream_duration_seconds_bucket", **api, le="0.5") == 5
    assert value(found, "agora_gateway_upstream_duration_seconds_sum", **api) == pytest.approx(0.332)
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
