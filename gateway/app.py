"""The gateway, assembled in one place: the engine's handler (pipeline/entry.py) and what runs beside it.

    engine/       HTTP/1.1 server and upstream client on asyncio protocols (the sockets)
    pipeline/     entry.py (request id, routing, errors, metrics, usage) -> route.py (plugins, sandbox)
                  -> forward.py (the upstream exchange)
    reloader.py   polls the snapshot source and swaps compiled configs in (config.py)
    health.py     active health checks; circuit.py: a breaker per upstream around the transport
    metrics.py    Prometheus counts, flushed once a second

Only `/healthz` and `/readyz` of the control plane are reachable on this port (control.py).
`create_app()` with no argument reads `GatewaySettings.from_env()`: each worker builds its gateway so.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import Awaitable, Coroutine, Sequence
from typing import Any

from agora.addresses import connect_check
from gateway.config.compiled import CompiledConfig, ConfigHolder
from gateway.config.reloader import Reloader
from gateway.config.sources import DatabaseSource, FileSource, SnapshotSource
from gateway.engine.http import DirectResponder, InFlight, Request, Responder
from gateway.engine.upstream import UpstreamClient
from gateway.metrics.prometheus import GatewayMetrics
from gateway.pipeline.entry import Pipeline
from gateway.pipeline.headers import TrustedProxies
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.pipeline.usage import UsageHook
from gateway.settings import GatewaySettings
from gateway.upstream.circuit import Breaker, BreakerPolicy, Breakers, CircuitTransport
from gateway.upstream.health import PROBE_LIMITS, HealthMonitor
from gateway.upstream.health_store import DatabaseSampleStore
from gateway.upstream.transport import Transport

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
        fast_path: bool = True,
    ) -> None:
        self.holder = holder
        self.metrics = metrics
        self.health = health
        self._health_task: asyncio.Task[None] | None = None
        self._metrics_task: asyncio.Task[None] | None = None
        self.plugins = plugins  # told on shutdown, so plugins can flush what they buffer
        self.transport = transport
        self.reloader = reloader
        self.pipeline = Pipeline(
            holder, transport, trusted=trusted, hooks=hooks, metrics=metrics,
            source_description=source_description, fast_path=fast_path,
        )  # fmt: skip
        self._poller: asyncio.Task[None] | None = None

    def __call__(self, request: Request, responder: Responder) -> Awaitable[None]:
        """The engine's handler (gateway/engine/http.py)."""
        return self.pipeline(request, responder)

    def begin(self, request: Request, responder: DirectResponder) -> Coroutine[Any, Any, None] | InFlight:
        """The engine's fast entry (gateway/engine/http.py: Begin)."""
        return self.pipeline.begin(request, responder)

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


def _client(settings: GatewaySettings) -> UpstreamClient:
    """The shipped upstream client; a name is connected to only at an address the policy allows."""
    return UpstreamClient(
        ca_file=settings.upstream_ca, address_check=connect_check(settings.allowed_upstream_hosts)
    )


def create_app(
    settings: GatewaySettings | None = None,
    *,
    transport: Transport | None = None,
    registry: PluginRegistry | None = None,
    source: SnapshotSource | None = None,
    config: CompiledConfig | None = None,
    hooks: Sequence[UsageHook] = (),
    health: bool | None = None,
    fast_path: bool = True,
) -> Gateway:
    """Wires a gateway. Pass `config` alone for a fixed configuration (tests), or let it poll
    `source` (default: the snapshot file if set, else the database). `health`: circuit breakers and
    health checks; by default on with the shipped transport, off with an injected one (tests' fakes).
    `fast_path`: False runs every plugin through the PDK (gateway/pipeline/fast.py; for comparisons)."""
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
        transport = CircuitTransport(transport or _client(settings), breakers)
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
        transport=transport or _client(settings),
        reloader=reloader,
        trusted=TrustedProxies(settings.trusted_proxies),
        hooks=hooks,
        source_description=source.description if source is not None else "static",
        plugins=registry,
        metrics=metrics,
        health=monitor,
        fast_path=fast_path,
    )
