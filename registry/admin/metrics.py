"""`GET /metrics` on the admin port: Prometheus text format for the control plane, and for the gateways
of this host when their metrics directory is shared with it.

    agora_config_revision                 the newest compiled snapshot revision
    agora_upstream_up{service,...}        each service's upstream as the gateways last reported it (DB)
    agora_job_*{job=rollup|prune}         the analytics jobs: runs, failures, last success
    agora_gateway_* / agora_upstream_*    the gateways' own metrics (gateway/metrics/prometheus.py), all
                                          workers summed, read from AGORA_GATEWAY_METRICS_DIR
                                          (prometheus-client's multiprocess files) when it is set

Gateways on other hosts are scraped directly on their metrics listener (`agora gateway --metrics-port`),
which serves the same multiprocess sum; deploy/prometheus/prometheus.yml does both. Reading needs an
admin token that sees every agency (platform-admin or ops): Prometheus sends it as a bearer token.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from registry import snapshots
from registry.admin.authz import require_read
from registry.admin.context import caller, context
from registry.analytics.scheduler import JobStatus
from registry.analytics.uptime import current_health
from registry.unit_of_work import read

__all__ = ["GATEWAY_METRICS_DIR_ENV", "ControlPlaneCollector", "metrics_registry", "routes"]

GATEWAY_METRICS_DIR_ENV = "AGORA_GATEWAY_METRICS_DIR"


class ControlPlaneCollector(Collector):
    """Figures read from the registry at scrape time (a scrape every 15 s costs two small queries)."""

    def __init__(self, sessions: sessionmaker[Session], jobs: dict[str, JobStatus] | None) -> None:
        self.sessions = sessions
        self.jobs = jobs or {}

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        with read(self.sessions) as session:
            latest = snapshots.latest(session)
            health = current_health(session)
        revision = GaugeMetricFamily("agora_config_revision", "Newest compiled gateway snapshot revision")
        revision.add_metric([], float(latest.revision) if latest else 0.0)
        yield revision
        up = GaugeMetricFamily(
            "agora_upstream_up",
            "1 when every gateway worker that reported in the last 90 s has the upstream's circuit closed",
            labels=["service", "agency", "api", "upstream"],
        )
        for entry in health:
            labels = [entry["service"], entry["agency"], entry["api"], entry["upstream"]]
            up.add_metric(labels, 1.0 if entry["healthy"] else 0.0)
        yield up
        runs = CounterMetricFamily("agora_job_runs", "Runs of the analytics jobs", labels=["job"])
        failures = CounterMetricFamily(
            "agora_job_failures", "Failed runs of the analytics jobs", labels=["job"]
        )
        last = GaugeMetricFamily(
            "agora_job_last_success_timestamp_seconds", "When the job last succeeded", labels=["job"]
        )
        for job, status in sorted(self.jobs.items()):
            runs.add_metric([job], status.runs)
            failures.add_metric([job], status.failures)
            if status.last_success is not None:
                last.add_metric([job], status.last_success)
        yield from (runs, failures, last)


def metrics_registry(
    sessions: sessionmaker[Session], jobs: dict[str, JobStatus] | None, gateway_dir: Path | None
) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ControlPlaneCollector(sessions, jobs))
    if gateway_dir is not None:
        gateway_dir.mkdir(parents=True, exist_ok=True)  # the admin may start before any gateway
        MultiProcessCollector(registry, path=str(gateway_dir))  # type: ignore[no-untyped-call]
    return registry


def _registry(request: Request) -> CollectorRegistry:
    state = request.app.state
    found: CollectorRegistry | None = getattr(state, "metrics_registry", None)
    if found is None:
        scheduler = getattr(state, "scheduler", None)
        raw_dir = os.environ.get(GATEWAY_METRICS_DIR_ENV)
        found = metrics_registry(
            context(request).sessions,
            scheduler.status if scheduler is not None else None,
            Path(raw_dir) if raw_dir else None,
        )
        state.metrics_registry = found
    return found


async def get_metrics(request: Request) -> Response:
    who = await caller(request)
    require_read(who, None, "the platform's metrics")
    body = await run_in_threadpool(generate_latest, _registry(request))
    return Response(body, media_type=CONTENT_TYPE_LATEST)


routes = [Route("/metrics", get_metrics, methods=["GET"])]
