"""10,000 idle keep-alive client connections cost the gateway less than 100 MB of RSS, and another
client's calls are still answered while they stay open (issue 12)."""

from __future__ import annotations

import asyncio
import resource
import statistics
import time

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway, route, rss_bytes, service, snapshot

pytestmark = [pytest.mark.integration, pytest.mark.solo]  # alone: 20,000 sockets on one machine

IDLE = 10_000
LIMIT = 100 * 1024 * 1024


@pytest.fixture(scope="module")
def gateway(start_gateway: StartGateway, upstream: str) -> GatewayProcess:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < IDLE + 1000:  # each side (this process, the gateway) holds IDLE sockets
        pytest.fail(f"this machine allows {hard} open files: raise the hard limit to run this test")
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the gateway inherits it
    return start_gateway(snapshot([service("gov.idle.v1", upstream + "/echo", [route("GET", "/items")])]))


async def _open_idle(port: int) -> list[asyncio.StreamWriter]:
    """Connections that each made one request and then wait, kept alive (in batches: the backlog)."""
    writers: list[asyncio.StreamWriter] = []

    async def one() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"GET /healthz HTTP/1.1\r\nHost: idle\r\n\r\n")
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(15)  # {"status":"ok"}
        writers.append(writer)

    for start in range(0, IDLE, 500):
        await asyncio.gather(*(one() for _ in range(start, min(IDLE, start + 500))))
    return writers


def _latencies(client: httpx.Client, count: int = 100) -> list[float]:
    out = []
    for _ in range(count):
        started = time.perf_counter()
        assert client.get("/gov/idle/v1/items").status_code == 200
        out.append(time.perf_counter() - started)
    return out


def test_ten_thousand_idle_connections(gateway: GatewayProcess) -> None:
    port = int(gateway.url.rsplit(":", 1)[1])
    with httpx.Client(base_url=gateway.url, timeout=10) as client:
        before = statistics.median(_latencies(client))
        baseline = rss_bytes(gateway.pid)

        async def scenario() -> tuple[int, list[float]]:
            writers = await _open_idle(port)
            try:
                grown = rss_bytes(gateway.pid) - baseline
                during = await asyncio.to_thread(_latencies, client)
                return grown, during
            finally:
                for writer in writers:
                    writer.close()

        grown, during = asyncio.run(scenario())
    print(f"{IDLE} idle connections: RSS +{grown / 2**20:.1f} MiB; median call {before * 1e3:.2f} ms before, "
          f"{statistics.median(during) * 1e3:.2f} ms while they stay open")  # fmt: skip
    assert grown < LIMIT, f"RSS grew by {grown / 2**20:.1f} MiB"
    # Every call answered (asserted in _latencies); a loose bound, not a benchmark: a gateway that scanned
    # its connections per request would be tens of times slower with 10,000 of them.
    assert statistics.median(during) < max(10 * before, 0.05)
