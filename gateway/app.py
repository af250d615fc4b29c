"""The gateway application: the ASGI stack, assembled in one place.

    RequestIdMiddleware      X-Request-ID; creates the request context, records status and bytes sent
    MetricsMiddleware        counts every answer for Prometheus (in-process counts, flushed each second)
    UsageMiddleware          per-request facts to the usage hooks, after the response
    ProblemMiddleware        errors -> problem+json
    RoutingMiddleware        path checks, route lookup in the current snapshot (404, 405)
    LifecycleMiddleware      410 for retired versions; Deprecation/Sunset/Link headers
    PluginMiddleware         access / response / log phases of the route's plugins
    ProblemMiddleware        errors of the upstream call -> problem+json, seen by plugins' response phase
    SandboxSwitch            sandbox answers from examples
    ProxyEndpoint            streams to and from the upstream through the injected transport

`/healthz` and `/readyz` are served by a small Starlette app; nothing else of the control plane is
reachable on this port. Operations (docs/operators/monitoring.md): every answer is counted by the
metrics middleware (metrics.py); with the shipped transport, each upstream gets a circuit breaker wrapped
around the transport (circuit.py) and active health checks (health.py).

`create_app()` with no argument reads `GatewaySettings.from_env()`: it is the factory uvicorn's
workers import (`gateway.app:create_app`).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import Sequence

from .circuit import Breaker, BreakerPolicy, Breakers, CircuitTransport
from .config import CompiledConfig, ConfigHolder
from .control import CONTROL_PATHS, control_app
from .engine.upstream import UpstreamClient
from .headers import TrustedProxies
from .health import PROBE_LIMITS, HealthMonitor
from .health_store import DatabaseSampleStore
from .lifecycle import LifecycleMiddleware
from .metrics import GatewayMetrics, MetricsMiddleware
from .plugin_host import PluginRegistry
from .plugin_runner import PluginMiddleware
from .problems import ProblemMiddleware
from .proxy import ProxyEndpoint
from .reloader import Reloader
from .request_id import RequestIdMiddleware
from .routing import RoutingMiddleware
from .sandbox import SandboxSwitch
from .settings import GatewaySettings
from .sources import DatabaseSource, FileSource, SnapshotSource
from .transport import Transport
from .types import Receive, Scope, Send
from .usage import UsageHook, UsageMiddleware

__all__ = ["Gateway", "create_app"]

log = logging.getLogger("agora.gateway")


_frozen = False


def _freeze_loaded_objects() -> None:
    """Once per process, at the first startup: what is loaded by then (modules, plugins, the first
    snapshot) lives as long as the worker. Kept out of the garbage collector's sight, a full collection
    under load scans only what requests left behind: a few milliseconds instead of 70-130 ms pauses
    (docs/benchmarks.md)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


class Gateway:
    def __init__(
        self,
        *,
        holder: ConfigHolder,
        transport: Transport,
        reloader: Reloader | None = None,
        trusted: TrustedProxies | None = None,
        hooks: Sequence[UsageHook] = (),
        source_description: str = "static",
        plugins: PluginRegistry | None = None,
        metrics: GatewayMetrics | None = None,
        health: HealthMonitor | None = None,
    ) -> None:
        self.holder = holder
        self.metrics = metrics
        self.health = health
        self._health_task: asyncio.Task[None] | None = None
        self._metrics_task: asyncio.Task[None] | None = None
        self.plugins = plugins  # told on shutdown, so plugins can flush what they buffer
        self.transport = transport
        self.reloader = reloader
        trusted = trusted or TrustedProxies()
        endpoint = ProblemMiddleware(SandboxSwitch(ProxyEndpoint(transport, trusted=trusted)))
        routed = RoutingMiddleware(LifecycleMiddleware(PluginMiddleware(endpoint, trusted=trusted)), holder)
        counted = UsageMiddleware(ProblemMiddleware(routed), hooks)
        self.http = RequestIdMiddleware(
            MetricsMiddleware(counted, metrics) if metrics is not None else counted
        )
        self.control = control_app(holder, source_description)
        self._poller: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if scope["path"] in CONTROL_PATHS:
                await self.control(scope, receive, send)
            else:
                await self.http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        elif kind == "websocket":
            await send({"type": "websocket.close", "code": 1003})

    async def startup(self) -> None:
        await self.transport.start()
        if self.reloader is not None:
            await self.reloader.start()
            self._poller = asyncio.create_task(self.reloader.run())
        if self.health is not None:
            self._health_task = asyncio.create_task(self.health.run())
        if self.metrics is not None:
            self._metrics_task = asyncio.create_task(self.metrics.run())
        _freeze_loaded_objects()

    async def shutdown(self) -> None:
        for task in (self._poller, self._health_task, self._metrics_task):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client.multiprocess import mark_process_dead

            mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]  # its live gauges leave the sums
        if self.plugins is not None:
            await self.plugins.shutdown()
        await self.transport.aclose()

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await self.startup()
                except Exception as exc:
                    log.exception("gateway failed to start")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return


def create_app(
    settings: GatewaySettings | None = None,
    *,
    transport: Transport | None = None,
    registry: PluginRegistry | None = None,
    source: SnapshotSource | None = None,
    config: CompiledConfig | None = None,
    hooks: Sequence[UsageHook] = (),
    health: bool | None = None,
) -> Gateway:
    """Wires a gateway. Pass `config` alone for a fixed configuration (tests), or let it poll
    `source` (default: the snapshot file if set, else the database). `health`: circuit breakers and
    health checks; by default on with the shipped transport, off with an injected one (tests' fakes)."""
    settings = settings or GatewaySettings.from_env()
    if registry is None:
        registry = PluginRegistry()
        for package in settings.plugin_packages:
            registry.specs.update(PluginRegistry.discover(package).specs)
    holder = ConfigHolder(config)
    reloader = None
    if config is None:
        if source is None:
            source = (
                FileSource(settings.snapshot) if settings.snapshot else DatabaseSource(settings.database_url)
            )
        reloader = Reloader(holder, source, registry, interval=settings.poll_interval, cache=settings.cache)
    metrics = GatewayMetrics(holder)
    monitor = None
    if health if health is not None else transport is None:

        def changed(breaker: Breaker) -> None:
            metrics.circuit_changed(breaker)
            if monitor is not None:
                monitor.state_changed()

        breakers = Breakers(BreakerPolicy(cooldown=settings.circuit_cooldown), on_change=changed)
        transport = CircuitTransport(transport or UpstreamClient(ca_file=settings.upstream_ca), breakers)
        store = DatabaseSampleStore(settings.database_url) if settings.health_samples else None
        monitor = HealthMonitor(
            holder,
            breakers,
            store=store,
            interval=settings.health_interval,
            active=settings.health_checks,
            client=UpstreamClient(ca_file=settings.upstream_ca, limits=PROBE_LIMITS),
        )
    return Gateway(
        holder=holder,
        transport=transport or UpstreamClient(ca_file=settings.upstream_ca),
        reloader=reloader,
        trusted=TrustedProxies(settings.trusted_proxies),
        hooks=hooks,
        source_description=source.description if source is not None else "static",
        plugins=registry,
        metrics=metrics,
        health=monitor,
    )
