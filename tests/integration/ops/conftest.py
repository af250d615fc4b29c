"""One operations stack for the module tests here (starting it costs ~10 s), and the traffic they read
back: every answer's status counted on the client side, which is the ground truth."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.ops.stack import OpsStack, start_ops_stack

# (agency, api, path under the API's prefix, needs the demo key)
CALLS = [
    ("cadastre", "addresses", "/addresses?q=rue", False),
    ("cadastre", "addresses", "/municipalities", False),
    ("commerce", "companies", "/companies", True),
]


@dataclass
class Traffic:
    counts: Counter[tuple[str, str, int]]  # (agency, api, status) -> answers

    def total(self, agency: str | None = None) -> int:
        return sum(n for (a, _, _), n in self.counts.items() if agency in (None, a))


@pytest.fixture(scope="session")
def ops(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpsStack]:
    stack = start_ops_stack(tmp_path_factory.mktemp("ops"))
    try:
        yield stack
    finally:
        stack.stop()


@pytest.fixture(scope="session")
def traffic(ops: OpsStack) -> Traffic:
    """~150 calls on fresh connections (so both workers serve some): open and keyed APIs, a wrong key
    (401), and more calls per second than the plans allow (429)."""
    counts: Counter[tuple[str, str, int]] = Counter()
    key = ops.credentials["demo_api_key"]
    for round_ in range(20):
        for agency, api, path, keyed in CALLS:
            headers = {"apikey": key} if keyed else {}
            response = httpx.get(f"{ops.gateway_url}/{agency}/{api}/v1{path}", headers=headers, timeout=10)
            counts[(agency, api, response.status_code)] += 1
        if round_ % 5 == 0:
            bad = httpx.get(
                f"{ops.gateway_url}/commerce/companies/v1/companies", headers={"apikey": "agora_0_x"}
            )
            counts[("commerce", "companies", bad.status_code)] += 1

    # A burst over the free plan's 5 calls per second (the node's workers count together): 429s.
    async def burst() -> list[int]:
        limits = httpx.Limits(max_keepalive_connections=0)
        async with httpx.AsyncClient(limits=limits, timeout=10) as client:
            url = f"{ops.gateway_url}/commerce/companies/v1/companies"
            answers = await asyncio.gather(*(client.get(url, headers={"apikey": key}) for _ in range(30)))
            return [a.status_code for a in answers]

    for status in asyncio.run(burst()):
        counts[("commerce", "companies", status)] += 1
    return Traffic(counts)


def gateway_requests(metrics_text: str) -> Counter[tuple[str, str, int]]:
    """agora_gateway_requests_total from a Prometheus text page, by (agency, api, status)."""
    found: Counter[tuple[str, str, int]] = Counter()
    for family in text_string_to_metric_families(metrics_text):
        for sample in family.samples:
            if sample.name == "agora_gateway_requests_total" and sample.labels["agency"]:
                labels = sample.labels
                found[(labels["agency"], labels["api"], int(labels["status"]))] += int(sample.value)
    return found


def eventually(check: object, timeout: float = 20.0, every: float = 0.5) -> object:
    """Polls `check()` until it returns a truthy value (bounded): usage is written in batches every
    second and rolled up every second, so figures arrive a moment after the traffic."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()  # type: ignore[operator]
        if result or time.monotonic() > deadline:
            return result
        time.sleep(every)


ARTIFACTS = Path(__file__).resolve().parents[3] / "artifacts" / "ops"
