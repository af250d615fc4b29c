"""Active health checks of every upstream, and the health samples that uptime is computed from.

Each worker probes each distinct upstream of its snapshot every `interval` seconds (5): GET the
service's `health_path` (snapshot, from the spec's `x-agora-gateway.health_path`; healthy on 2xx/3xx),
else its base URL (healthy below 500: any answer proves the server is up). A failed probe is confirmed
one second later rather than a whole interval later, so an upstream that dies is seen in about 1-6 s
with no traffic at all; with traffic the breaker's passive detection usually opens it first.

In every worker rather than in one place: the circuit breakers that act on the results are per worker
(gateway/upstream/circuit.py), and a probe every 5 s per worker is negligible load for an upstream.
The results feed the breakers; the breakers' counts (probes, requests, failures, whether the circuit
opened) are folded every `flush_every` seconds, and at once on a state change, into one row per
(minute, service) written off the event loop through a `SampleStore` (gateway/upstream/health_store.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from gateway.config.compiled import CompiledConfig, ConfigHolder
from gateway.config.model import Timeouts
from gateway.engine.upstream import PoolLimits, UpstreamClient
from gateway.errors import BadGateway, GatewayTimeout
from gateway.upstream.circuit import CLOSED, Breakers
from gateway.upstream.health_store import SampleStore
from gateway.upstream.transport import UpstreamRequest

__all__ = ["PROBE_LIMITS", "HealthMonitor", "Target", "targets"]

log = logging.getLogger("agora.gateway.health")
CONFIRM_AFTER = 1.0  # seconds before a failed probe is repeated
PROBE_LIMITS = PoolLimits(max_connections=4, max_idle=1)
_PROBE_HEADERS = (("User-Agent", "agora-gateway-health"), ("Accept", "*/*"))


@dataclass(frozen=True, slots=True)
class Target:
    url: str
    origin: str
    explicit: bool  # a declared health path: only 2xx/3xx is healthy
    services: tuple[tuple[str, str, str], ...]  # (service name, agency, api)


def targets(config: CompiledConfig | None) -> list[Target]:
    found: dict[str, tuple[str, bool, list[tuple[str, str, str]]]] = {}
    for service in config.snapshot.services if config is not None else ():
        origin = service.upstream_origin
        if origin is None or service.status == "retired":
            continue
        path = service.raw.get("health_path")
        explicit = isinstance(path, str) and path.startswith("/")
        url = origin + (service.upstream_path + str(path) if explicit else service.upstream_path or "/")
        entry = found.setdefault(url, (origin, explicit, []))
        entry[2].append((service.name, str(service.raw.get("agency", "")), str(service.raw.get("api", ""))))
    return [Target(url, o, e, tuple(s)) for url, (o, e, s) in sorted(found.items())]


class HealthMonitor:
    def __init__(
        self,
        holder: ConfigHolder,
        breakers: Breakers,
        *,
        store: SampleStore | None = None,
        interval: float = 5.0,
        timeout: float = 2.0,
        flush_every: float = 10.0,
        active: bool = True,
        client: UpstreamClient | None = None,
    ) -> None:
        self.holder, self.breakers, self.store, self.active = holder, breakers, store, active
        # Its own client, not the data plane's: probes neither wait behind nor count against the
        # traffic's connection limits. Pass one to share settings (a private CA).
        self.client = client or UpstreamClient(limits=PROBE_LIMITS)
        self.interval, self.timeout, self.flush_every = interval, timeout, flush_every
        self.worker = f"{socket.gethostname()}:{os.getpid()}"[:80]
        self.changed = asyncio.Event()
        self._due: dict[str, float] = {}
        self._rows: dict[tuple[datetime, str], dict[str, Any]] = {}
        self._services: dict[str, tuple[tuple[str, str, str], ...]] = {}

    def state_changed(self) -> None:
        """A breaker changed state: write the samples now, not at the next flush."""
        self.changed.set()

    async def run(self) -> None:
        client = self.client
        await client.start()
        next_flush = time.monotonic() + self.flush_every
        try:
            while True:
                await self._probe_due(client)
                now = time.monotonic()
                if now >= next_flush or self.changed.is_set():
                    self.changed.clear()
                    next_flush = now + self.flush_every
                    await self.flush()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.changed.wait(), 0.25)
        finally:
            await client.aclose()
            with contextlib.suppress(Exception):
                await asyncio.shield(self.flush())

    async def _probe_due(self, client: UpstreamClient) -> None:
        current = targets(self.holder.current)
        self._services = {}
        now = time.monotonic()
        due = []
        for target in current:
            self._services[target.origin] = self._services.get(target.origin, ()) + target.services
            if self.active and now >= self._due.setdefault(target.url, now):
                self._due[target.url] = now + self.interval  # a failure shortens it below
                due.append(target)
        if due:
            await asyncio.gather(*(self._probe(client, t) for t in due))

    async def _probe(self, client: UpstreamClient, target: Target) -> None:
        timeouts = Timeouts(connect=self.timeout, read=self.timeout, write=self.timeout)
        request = UpstreamRequest("GET", target.url, list(_PROBE_HEADERS), None, timeouts)
        try:
            async with asyncio.timeout(self.timeout):
                response = await client.send(request)
                response.close()  # the status is the verdict; an unread body just drops the connection
            ok = response.status < 400 if target.explicit else response.status < 500
        except (BadGateway, GatewayTimeout, TimeoutError):
            ok = False
        self.breakers.get(target.origin).probe(ok, time.monotonic())
        if not ok:
            self._due[target.url] = time.monotonic() + CONFIRM_AFTER

    async def flush(self) -> None:
        """Folds the breakers' counts into this minute's rows and writes the rows that changed."""
        now = datetime.now(UTC)
        minute = now.replace(second=0, microsecond=0)
        touched = []
        for origin, breaker in list(self.breakers.by_origin.items()):
            counts = (breaker.probes, breaker.probes_ok, breaker.requests, breaker.failures)
            breaker.probes = breaker.probes_ok = breaker.requests = breaker.failures = 0
            circuit_bad = breaker.opened or breaker.state != CLOSED
            breaker.opened = False
            for name, agency, api in self._services.get(origin, ()):
                row = self._rows.get((minute, name))
                if row is None:
                    row = self._rows[(minute, name)] = {
                        "minute": minute, "service": name[:140], "agency": agency, "api": api,
                        "upstream": origin[:300], "worker": self.worker, "probes": 0, "probes_ok": 0,
                        "requests": 0, "failures": 0, "healthy": True,
                    }  # fmt: skip
                for key, value in zip(("probes", "probes_ok", "requests", "failures"), counts, strict=True):
                    row[key] += value
                # Healthy minute: the circuit never left `closed` and most of its probes succeeded.
                row["closed_all_along"] = row.get("closed_all_along", True) and not circuit_bad
                row["healthy"] = row["closed_all_along"] and row["probes_ok"] * 2 >= row["probes"]
                row["circuit"], row["updated_at"] = breaker.state, now
                touched.append(row)
        if self.store is None or not touched:
            self._forget_before(minute)
            return
        try:
            rows = [{k: v for k, v in r.items() if k != "closed_all_along"} for r in self._rows.values()]
            await asyncio.to_thread(self.store.write, rows)
        except Exception as exc:  # kept in memory and sent again with the next flush
            log.warning("cannot write health samples: %s", exc)
            return
        self._forget_before(minute)

    def _forget_before(self, minute: datetime) -> None:
        for key in [k for k in self._rows if k[0] < minute]:
            del self._rows[key]
