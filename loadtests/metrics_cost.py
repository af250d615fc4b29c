"""What the metrics cost per request, measured in process (the machine's load moves wrk figures by more
than the effect):

    PROMETHEUS_MULTIPROC_DIR=$(mktemp -d) python -m loadtests.metrics_cost [--requests 20000]

Runs the whole gateway pipeline (request id, routing, plugins, forwarding, usage) over an in-memory
transport, interleaving batches with and without the metrics hook and with and without the circuit
breaker, and prints the median time per request of each and the differences. Set
PROMETHEUS_MULTIPROC_DIR to measure the multiprocess (mmap) values the workers use.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from typing import Any

from gateway.app import create_app
from gateway.config.compiled import compile_snapshot
from gateway.engine.http import Request
from gateway.engine.inprocess import RecordingResponder
from gateway.pipeline.plugin_host import PluginRegistry
from gateway.settings import GatewaySettings
from gateway.upstream.circuit import Breakers, CircuitTransport
from gateway.upstream.transport import UpstreamRequest

__all__ = ["run"]

DOC = {
    "format": 1,
    "services": [
        {"name": "gov.bench.v1", "prefix": "/gov/bench/v1", "upstream": "http://up:1", "agency": "gov",
         "api": "bench", "version": "1.0.0",
         "routes": [{"operation_id": "hi", "method": "GET", "path": "/hi"}]}
    ],
}  # fmt: skip


class _Response:
    status = 200

    def __init__(self) -> None:
        self.headers = [(b"content-length", b"6")]
        self.body = b"hello\n"

    async def read(self) -> bytes:
        body, self.body = self.body, b""
        return body

    def whole(self) -> bytes | None:
        body, self.body = self.body, b""
        return body

    def close(self) -> None:
        pass


class _Transport:
    async def start(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    async def send(self, request: UpstreamRequest) -> _Response:
        return _Response()


async def _batch(app: Any, n: int) -> float:
    request = Request("GET", "/gov/bench/v1/hi", "", [(b"host", b"gw")], peer="127.0.0.1")
    started = time.perf_counter()
    for _ in range(n):
        await app(request, RecordingResponder())
    if app.metrics is not None:
        app.metrics.flush()  # once a second in the gateway; here once per batch, counted in
    return (time.perf_counter() - started) / n


def run(requests: int, rounds: int = 7) -> dict[str, float]:
    registry = PluginRegistry()
    config = compile_snapshot(DOC, registry)
    variants: dict[str, Any] = {}
    for name, with_metrics, with_breaker in (
        ("bare", False, False), ("metrics", True, False), ("metrics+breaker", True, True),
    ):  # fmt: skip
        transport: Any = _Transport()
        if with_breaker:
            transport = CircuitTransport(transport, Breakers())
        app = create_app(
            GatewaySettings(), registry=registry, config=config, transport=transport, health=False
        )
        if not with_metrics:
            app.pipeline.metrics = app.metrics = None
        variants[name] = app
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, app in variants.items():
            times[name].append(asyncio.run(_batch(app, requests // rounds)))
    return {name: statistics.median(values) * 1e6 for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20_000)
    medians = run(parser.parse_args().requests)
    for name, micros in medians.items():
        print(f"{name:16} {micros:8.1f} us/request")
    print(f"metrics          {medians['metrics'] - medians['bare']:+8.1f} us/request")
    print(f"circuit breaker  {medians['metrics+breaker'] - medians['metrics']:+8.1f} us/request")


if __name__ == "__main__":
    main()
