"""Upstreams that hang, reset connections, answer slowly, break off their body or answer garbage, behind a
real gateway process: each gets its timeout or 502/504 problem, a failing upstream trips its circuit
breaker (503 with Retry-After, the upstream left alone) which closes again by itself, and rounds of such
calls leave the gateway with no more open sockets or memory than the first round did."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway, free_port, route, rss_bytes, service, snapshot, stop

from tests.integration.topology.stack import wait_ready

pytestmark = pytest.mark.integration

UPSTREAM = Path(__file__).with_name("faulty_upstream.py")
TIMEOUT = 1.0  # the API's connect and read timeouts
PROBLEM = "application/problem+json"
COOLDOWN = 3  # seconds an open circuit answers 503 before its trial call


@pytest.fixture(scope="module")
def faulty() -> Iterator[list[str]]:
    """Two faulty upstreams: two origins, so two circuit breakers."""
    processes, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            processes.append(subprocess.Popen([sys.executable, str(UPSTREAM), str(port)]))
            urls.append(f"http://127.0.0.1:{port}")
            wait_ready(urls[-1] + "/stats", processes[-1])
        yield urls
    finally:
        for process in processes:
            stop(process)


@pytest.fixture(scope="module")
def gateway(start_gateway: StartGateway, faulty: list[str]) -> GatewayProcess:
    timeouts = {"connect": TIMEOUT, "read": TIMEOUT}
    paths = ["/ok", "/hang", "/reset", "/slow", "/half", "/garbage"]
    document = snapshot(
        [
            service("gov.faulty.v1", faulty[0], [route("GET", p) for p in paths], timeouts=timeouts),
            service("gov.flaky.v1", faulty[1], [route("GET", "/flaky")], timeouts=timeouts),
        ]
    )
    return start_gateway(document, env={"AGORA_GATEWAY_CIRCUIT_COOLDOWN": str(COOLDOWN)})


def _stats(upstream: str) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(upstream + "/stats", timeout=5).json()
    return stats


def _timed(url: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(url, timeout=10)
    return response, time.monotonic() - started


def _problem(response: httpx.Response, status: int) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM


def test_each_fault_gets_its_answer(gateway: GatewayProcess) -> None:
    base = gateway.url + "/gov/faulty/v1"

    def ok() -> bool:
        return httpx.get(base + "/ok", timeout=5).status_code == 200

    # A success between faults keeps this origin's circuit closed: each fault is seen for itself.
    hang, took = _timed(base + "/hang")
    _problem(hang, 504)
    assert TIMEOUT - 0.1 <= took < TIMEOUT + 2
    assert ok()
    _problem(_timed(base + "/reset")[0], 502)
    assert ok()
    slow, took = _timed(base + "/slow?delay=0.2")
    assert slow.status_code == 200 and slow.text == "slow"
    too_slow, took = _timed(base + "/slow?delay=3")
    _problem(too_slow, 504)
    assert took < TIMEOUT + 2
    assert ok()
    _problem(_timed(base + "/garbage")[0], 502)
    assert ok()
    # Headers already sent when the body breaks off: the client must see a broken body, never a short one.
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(base + "/half", timeout=5).read()
    assert ok()


def test_a_failing_upstream_trips_its_breaker_which_closes_by_itself(
    gateway: GatewayProcess, faulty: list[str]
) -> None:
    pytest.importorskip("gateway.upstream.circuit", reason="the circuit breaker (ops) is not in this tree")
    upstream, url = faulty[1], gateway.url + "/gov/flaky/v1/flaky"
    httpx.post(upstream + "/break", timeout=5)
    statuses = [httpx.get(url, timeout=5).status_code for _ in range(5)]
    assert statuses == [500] * 5  # the upstream's own answers, passed through, counted as failures
    calls = _stats(upstream)["calls"]["/flaky"]
    with httpx.Client(timeout=5) as client:  # well within the cooldown
        opened = [client.get(url) for _ in range(10)]
    for response in opened:
        _problem(response, 503)
        assert int(response.headers["retry-after"]) >= 1
    assert _stats(upstream)["calls"]["/flaky"] == calls, "an open circuit does not call the upstream"
    # The other upstream is unaffected: one breaker per origin.
    assert httpx.get(gateway.url + "/gov/faulty/v1/ok", timeout=5).status_code == 200
    httpx.post(upstream + "/mend", timeout=5)
    time.sleep(COOLDOWN + 0.2)  # the next call is the trial
    assert [httpx.get(url, timeout=5).status_code for _ in range(5)] == [200] * 5


def _round(base: str, calls: int, concurrency: int) -> Counter[int | str]:
    paths = ["/hang", "/reset", "/slow?delay=3", "/half", "/garbage", "/ok", "/slow?delay=0.1"]

    async def run() -> Counter[int | str]:
        seen: Counter[int | str] = Counter()
        gate = asyncio.Semaphore(concurrency)
        async with httpx.AsyncClient(base_url=base, timeout=10) as client:

            async def one(path: str) -> None:
                async with gate:
                    try:
                        response = await client.get(path)
                        seen[response.status_code] += 1
                    except httpx.HTTPError as exc:
                        seen[type(exc).__name__] += 1
                        if not isinstance(exc, httpx.RemoteProtocolError):  # which fault led to it
                            seen[f"{type(exc).__name__} on {path}"] += 1

            await asyncio.gather(*(one(paths[i % len(paths)]) for i in range(calls)))
        return seen

    return asyncio.run(run())


def _open_fds(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/fd").iterdir()))


def test_faults_leak_no_sockets_and_no_memory(gateway: GatewayProcess, faulty: list[str]) -> None:
    base = gateway.url + "/gov/faulty/v1"
    measures = []
    for _ in range(3):
        outcomes = _round(base, calls=140, concurrency=28)
        time.sleep(1.5)  # in-flight upstream calls end (their timeouts), closed sockets are released
        measures.append((_open_fds(gateway.pid), rss_bytes(gateway.pid), outcomes))
    for fds, rss, outcomes in measures:
        print(f"\nround: {dict(outcomes)}; gateway fds {fds}, RSS {rss / 2**20:.1f} MiB")
    assert set(measures[0][2]) <= {200, 502, 503, 504, "RemoteProtocolError"}
    (fds1, rss1, _), _, (fds3, rss3, _) = measures
    assert fds3 <= fds1 + 5, "open sockets grow with faulty calls"
    assert rss3 <= rss1 + 8 * 2**20, "memory grows with faulty calls"
    stats = _stats(faulty[0])
    assert stats["hanging"] == 0, "the gateway left upstream connections hanging"
    assert stats["open"] <= 28 + 2  # at most the pool's idle keep-alive connections (one per concurrent call)
