"""Bodies stream both ways: 200 MB up and 200 MB down grow the gateway's RSS by less than 50 MB."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway, route, rss_bytes, service, snapshot

pytestmark = pytest.mark.integration

SIZE = 200 * 1024 * 1024
CHUNK = b"\1" * (1024 * 1024)
LIMIT = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def gateway(start_gateway: StartGateway, upstream: str) -> GatewayProcess:
    api = service(
        "gov.files.v1",
        upstream,
        [route("POST", "/upload"), route("GET", "/download")],
        max_body_bytes=SIZE + 1,
    )
    return start_gateway(snapshot([api]))


class PeakRss:
    """Samples a process's resident memory every 20 ms while the block runs."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.wait(0.02):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()


def _warm(gateway: GatewayProcess) -> int:
    """A few small exchanges first, so pools and buffers exist before the baseline."""
    for _ in range(3):
        httpx.post(gateway.url + "/gov/files/v1/upload", content=CHUNK * 2)
        httpx.get(gateway.url + "/gov/files/v1/download?size=2097152")
    return rss_bytes(gateway.pid)


def test_200_mb_upload_streams_through(gateway: GatewayProcess) -> None:
    baseline = _warm(gateway)

    def body() -> Iterator[bytes]:
        for _ in range(SIZE // len(CHUNK)):
            yield CHUNK

    started = time.monotonic()
    with PeakRss(gateway.pid) as rss:
        response = httpx.post(
            gateway.url + "/gov/files/v1/upload",
            content=body(),
            headers={"Content-Length": str(SIZE)},
            timeout=30,
        )
    assert response.status_code == 200
    assert response.json() == {"bytes": SIZE}
    print(f"RSS growth {(rss.peak - baseline) / 2**20:.1f} MiB (baseline {baseline / 2**20:.1f} MiB)")
    assert rss.peak - baseline < LIMIT, f"RSS grew by {(rss.peak - baseline) / 2**20:.1f} MiB"
    assert time.monotonic() - started < 30


def test_200_mb_download_streams_through(gateway: GatewayProcess) -> None:
    baseline = _warm(gateway)
    received = 0
    with PeakRss(gateway.pid) as rss:
        url = gateway.url + f"/gov/files/v1/download?size={SIZE}"
        with httpx.stream("GET", url, timeout=30) as response:
            assert response.status_code == 200
            assert response.headers["content-length"] == str(SIZE)
            for chunk in response.iter_raw(1024 * 1024):
                received += len(chunk)
    assert received == SIZE
    print(f"RSS growth {(rss.peak - baseline) / 2**20:.1f} MiB (baseline {baseline / 2**20:.1f} MiB)")
    assert rss.peak - baseline < LIMIT, f"RSS grew by {(rss.peak - baseline) / 2**20:.1f} MiB"
