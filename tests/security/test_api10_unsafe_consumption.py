"""API10:2023 Unsafe Consumption of APIs: the gateway consumes agencies' upstreams, which may be
compromised or broken, and must not trust their answers further than passing them on.

- A redirect is passed to the client, never followed by the gateway (an upstream cannot make the gateway
  fetch the cloud metadata service on its behalf).
- An oversized response header is a 502 problem, not a crash or an unbounded buffer.
- A body that breaks off, garbage instead of HTTP, a reset: 502 (tests/integration/faults covers each).
- Hop-by-hop headers of the upstream are not forwarded
  (tests/gateway/integration/test_gateway_proxy.py::test_hop_by_hop_response_headers_are_removed).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway, free_port, route, service, snapshot, stop

from tests.integration.topology.stack import wait_ready

pytestmark = pytest.mark.integration

FAULTY = Path(__file__).resolve().parents[1] / "integration" / "faults" / "faulty_upstream.py"


@pytest.fixture(scope="module")
def edge(start_gateway: StartGateway) -> Iterator[tuple[GatewayProcess, str]]:
    port = free_port()
    process = subprocess.Popen([sys.executable, str(FAULTY), str(port)])
    origin = f"http://127.0.0.1:{port}"
    try:
        wait_ready(origin + "/stats", process)
        routes = [route("GET", p) for p in ("/redirect", "/huge-header", "/ok")]
        gateway = start_gateway(snapshot([service("gov.third.v1", origin, routes)]))
        yield gateway, origin
    finally:
        stop(process)


def test_redirects_are_passed_on_not_followed(edge: tuple[GatewayProcess, str]) -> None:
    gateway, origin = edge
    response = httpx.get(gateway.url + "/gov/third/v1/redirect", timeout=10, follow_redirects=False)
    assert response.status_code == 302
    assert response.headers["location"] == "http://169.254.169.254/latest/meta-data/"
    calls = httpx.get(origin + "/stats", timeout=5).json()["calls"]
    assert calls.get("/redirect") == 1


def test_an_oversized_upstream_header_is_a_bad_gateway(edge: tuple[GatewayProcess, str]) -> None:
    gateway, _ = edge
    response = httpx.get(gateway.url + "/gov/third/v1/huge-header", timeout=10)
    assert response.status_code == 502
    assert response.headers["content-type"] == "application/problem+json"
    assert "hhhh" not in response.text
    assert httpx.get(gateway.url + "/gov/third/v1/ok", timeout=10).status_code == 200
