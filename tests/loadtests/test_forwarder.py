"""The bench's bare Python forwarders (loadtests/forwarder.py on uvicorn + aiohttp, loadtests/rawforwarder.py
on raw protocols), real processes in front of the real echo upstream: they must forward what a proxy
forwards, or the ceilings they measure would be a cheat's."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Iterator

import httpx
import pytest
from gateway_harness import free_port, serving

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["forwarder", "rawforwarder"])
def forwarder(request: pytest.FixtureRequest, upstream: str) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    module = f"loadtests.{request.param}"
    with serving([sys.executable, "-m", module, "--port", str(port), "--upstream", upstream], url + "/stats"):
        yield url


def test_method_path_query_headers_and_body_reach_the_upstream(forwarder: str) -> None:
    body = b"x" * 100_000
    answer = httpx.post(
        forwarder + "/echo/a%2Fb?q=1&q=2", content=body, headers={"X-Test": "yes", "Connection": "keep-alive"}
    )
    assert answer.status_code == 200
    seen = answer.json()
    headers = {k.lower(): v for k, v in seen["headers"]}
    assert seen["method"] == "POST" and seen["raw_path"] == "/echo/a%2Fb?q=1&q=2"
    assert seen["bytes"] == len(body) and seen["sha256"] == hashlib.sha256(body).hexdigest()
    assert headers["x-test"] == "yes"
    assert headers["host"] != forwarder.removeprefix("http://")  # the upstream's own, set by the client


def test_the_upstreams_status_and_headers_come_back(forwarder: str) -> None:
    missing = httpx.get(forwarder + "/no/such/path")
    assert missing.status_code == 404
    answer = httpx.get(forwarder + "/echo")
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["method"] == "GET" and answer.json()["bytes"] == 0


def test_keep_alive_connections_carry_many_requests(forwarder: str) -> None:
    with httpx.Client(base_url=forwarder) as client:
        for n in range(20):
            answer = client.post("/echo", content=b"y" * n)
            assert answer.status_code == 200 and answer.json()["bytes"] == n
