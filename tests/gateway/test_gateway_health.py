"""Active health checks against a real upstream on loopback: probe targets from the snapshot, an
upstream that stops is seen and its circuit opened within seconds, one that comes back closes it, and
the samples written carry both."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from gateway.config.compiled import ConfigHolder, compile_snapshot
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.upstream.circuit import CLOSED, OPEN, BreakerPolicy, Breakers
from gateway.upstream.health import HealthMonitor, targets


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _doc(port: int) -> dict[str, Any]:
    def service(name: str, **extra: Any) -> dict[str, Any]:
        agency, api, major = name.split(".")
        return {"name": name, "prefix": f"/{agency}/{api}/{major}", "agency": agency, "api": api,
                "version": "1.0.0", "routes": [], **extra}  # fmt: skip

    return {
        "format": 1,
        "services": [
            service("gov.a.v1", upstream=f"http://127.0.0.1:{port}/base", health_path="/health"),
            service("gov.a.v2", upstream=f"http://127.0.0.1:{port}/base", health_path="/health"),
            service("gov.b.v1", upstream=f"http://127.0.0.1:{port}"),
            service("gov.c.v1", upstream=None),
        ],
    }


class Store:
    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        self.rows.extend(rows)

    def close(self) -> None:
        pass


def test_targets_dedupe_and_use_the_health_path() -> None:
    found = targets(compile_snapshot(_doc(9), PluginRegistry()))
    assert [(t.url, t.explicit, [s[0] for s in t.services]) for t in found] == [
        ("http://127.0.0.1:9/", False, ["gov.b.v1"]),
        ("http://127.0.0.1:9/base/health", True, ["gov.a.v1", "gov.a.v2"]),
    ]


def test_down_is_seen_within_seconds_and_up_closes_the_circuit() -> None:
    port = _port()

    async def scenario() -> tuple[float, float, Store, Breakers]:
        async def health(_: web.Request) -> web.Response:
            return web.json_response({"status": "ok"})

        app = web.Application()
        app.router.add_get("/base/health", health)
        app.router.add_get("/", health)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        store = Store()
        breakers = Breakers(BreakerPolicy(cooldown=1.0))
        holder = ConfigHolder(compile_snapshot(_doc(port), PluginRegistry()))
        monitor = HealthMonitor(holder, breakers, store=store, interval=0.5, timeout=0.5, flush_every=0.5)
        task = asyncio.create_task(monitor.run())
        origin = f"http://127.0.0.1:{port}"
        await asyncio.sleep(1.0)
        assert breakers.get(origin).state == CLOSED
        await runner.cleanup()  # the upstream stops
        stopped = time.monotonic()
        while breakers.get(origin).state != OPEN:
            await asyncio.sleep(0.05)
            assert time.monotonic() - stopped < 5
        to_open = time.monotonic() - stopped
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        restarted = time.monotonic()
        while breakers.get(origin).state != CLOSED:
            await asyncio.sleep(0.05)
            assert time.monotonic() - restarted < 6
        to_close = time.monotonic() - restarted
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await runner.cleanup()
        return to_open, to_close, store, breakers

    to_open, to_close, store, _ = asyncio.run(scenario())
    assert to_open < 2.5 and to_close < 4.0
    services = {r["service"] for r in store.rows}
    assert services == {"gov.a.v1", "gov.a.v2", "gov.b.v1"}
    assert any(r["circuit"] == "open" and not r["healthy"] for r in store.rows)
    assert all(r["probes"] >= r["probes_ok"] for r in store.rows)
    assert store.rows[-1]["circuit"] == "closed"
