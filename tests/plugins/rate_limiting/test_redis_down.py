"""Redis stopped under a running gateway: `fault_tolerant` serves uncounted calls or refuses them with
503, the outage is logged (once, not per call), and limiting resumes by itself when Redis is back.
The Redis is a private one (stopping the machine's would break other tests)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gateway_harness import REPO, free_port, stop, wait_for, write_snapshot

from plugins.rate_limiting.policies.redis import WARN_EVERY
from tests.plugins.helpers import route, service, snapshot
from tests.plugins.rate_limiting.redis_server import PrivateRedis

pytestmark = pytest.mark.integration

LIMITS = {"second": None, "minute": None, "hour": None, "day": 1000, "month": None}


class Gateway:
    """A gateway process whose log (stderr) the test reads."""

    def __init__(self, url: str, process: subprocess.Popen[bytes], log: Path) -> None:
        self.url, self.process, self.log = url, process, log

    def get(self, api: str) -> httpx.Response:
        return httpx.get(f"{self.url}/gov/{api}/v1/items", timeout=30)

    def lines(self, text: str) -> list[str]:
        return [line for line in self.log.read_text().splitlines() if text in line]


@pytest.fixture(scope="module")
def gateway(
    private_redis: PrivateRedis, upstream: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    where = tmp_path_factory.mktemp("redis-down")

    def api(name: str, **config: object) -> dict[str, object]:
        plugin = {"name": "rate-limiting", "config": {"limit_by": "ip", "limits": LIMITS, **config}}
        return service(name, upstream + "/echo", [route("GET", "/items")], plugins=[plugin])

    path = where / "snapshot.json"
    write_snapshot(path, snapshot([api("gov.tolerant.v1"), api("gov.strict.v1", fault_tolerant=False)]))
    port = free_port()
    log = where / "gateway.log"
    env = {**os.environ, "PYTHONPATH": str(REPO), "AGORA_REDIS_URL": private_redis.url}
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway", "--port", str(port), "--snapshot", str(path)],
            cwd=where, env=env, stderr=stderr,
        )  # fmt: skip
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        yield Gateway(f"http://127.0.0.1:{port}", process, log)
    finally:
        stop(process)


def test_fault_tolerant_decides_and_limiting_resumes_by_itself(
    gateway: Gateway, private_redis: PrivateRedis
) -> None:
    for api in ("tolerant", "strict"):
        answer = gateway.get(api)
        assert answer.status_code == 200 and answer.headers["x-ratelimit-remaining-day"] == "999"

    private_redis.stop()
    started = time.monotonic()
    served = [gateway.get("tolerant") for _ in range(20)]
    refused = [gateway.get("strict") for _ in range(20)]
    outage = time.monotonic() - started  # (test_redis.py times the policy itself: no call waits)
    assert all(a.status_code == 200 and "x-ratelimit-limit-day" not in a.headers for a in served)
    assert all(a.status_code == 503 for a in refused)
    problem = refused[0].json()
    assert problem["status"] == 503 and "try again" in problem["detail"]
    assert refused[0].headers["content-type"] == "application/problem+json"
    assert refused[0].headers["retry-after"] == "1"
    warnings = gateway.lines("unreachable")
    # 40 uncounted calls, one log line per 10 s of outage (a loaded machine may stretch the 40 calls).
    assert 1 <= len(warnings) <= 1 + outage // WARN_EVERY, warnings
    assert f"127.0.0.1:{private_redis.port}" in warnings[0]

    private_redis.start()  # empty: no counters, no script
    deadline = time.monotonic() + 30
    while (answer := gateway.get("strict")).status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert answer.status_code == 200, "limiting did not resume"
    assert answer.headers["x-ratelimit-remaining-day"] == "999"  # counted in the new Redis
    assert gateway.get("tolerant").headers["x-ratelimit-remaining-day"] == "999"
    assert len(gateway.lines("reachable again")) == 1
    with private_redis.client() as client:
        assert sorted(int(client.get(key) or 0) for key in client.scan_iter(match="agora:rl:*")) == [1, 1]
