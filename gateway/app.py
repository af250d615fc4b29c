"""The gateway application: the ASGI stack, assembled in one place.

    RequestIdMiddleware      X-Request-ID; creates the request context, records status and bytes sent
    UsageMiddleware          per-request facts to the usage hooks, after the response
    ProblemMiddleware        errors -> problem+json
    RoutingMiddleware        path checks, route lookup in the current snapshot (404, 405)
    LifecycleMiddleware      410 for retired versions; Deprecation/Sunset/Link headers
    PluginMiddleware         access / response / log phases of the route's plugins
    ProblemMiddleware        errors of the upstream call -> problem+json, seen by plugins' response phase
    SandboxSwitch            sandbox answers from examples
    ProxyEndpoint            streams to and from the upstream through the injected transport

`/healthz` and `/readyz` are served by a small Starlette app; nothing else of the control plane is
reachable on this port. `create_app()` with no argument reads `GatewaySettings.from_env()`: it is
the factory uvicorn's workers import (`gateway.app:create_app`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from .config import CompiledConfig, ConfigHolder
from .control import CONTROL_PATHS, control_app
from .headers import TrustedProxies
from .lifecycle import LifecycleMiddleware
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
from .transport_aiohttp import AiohttpTransport
from .types import Receive, Scope, Send
from .usage import UsageHook, UsageMiddleware

__all__ = ["Gateway", "create_app"]

log = logging.getLogger("agora.gateway")


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
    ) -> None:
        self.holder = holder
        self.plugins = plugins  # told on shutdown, so plugins can flush what they buffer
        self.transport = transport
        self.reloader = reloader
        trusted = trusted or TrustedProxies()
        endpoint = ProblemMiddleware(SandboxSwitch(ProxyEndpoint(transport, trusted=trusted)))
        routed = RoutingMiddleware(LifecycleMiddleware(PluginMiddleware(endpoint, trusted=trusted)), holder)
        self.http = RequestIdMiddleware(UsageMiddleware(ProblemMiddleware(routed), hooks))
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

    async def shutdown(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
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
) -> Gateway:
    """Wires a gateway. Pass `config` alone for a fixed configuration (tests), or let it poll
    `source` (default: the snapshot file if set, else the database)."""
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
    return Gateway(
        holder=holder,
        transport=transport or AiohttpTransport(),
        reloader=reloader,
        trusted=TrustedProxies(settings.trusted_proxies),
        hooks=hooks,
        source_description=source.description if source is not None else "static",
        plugins=registry,
    )
