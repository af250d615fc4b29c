"""Routing, forwarding, headers, limits and failures, through a real gateway to a real upstream."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway, free_port, route, service, snapshot

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def gateway(start_gateway: StartGateway, upstream: str) -> Iterator[GatewayProcess]:
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there: connection refused
    document = snapshot(
        [
            service(
                "gov.echo.v1",
                upstream + "/echo",
                [
                    route("GET", "/items"),
                    route("POST", "/items"),
                    route("GET", "/items/{id}"),
                    route("DELETE", "/items/{id}"),
                    route("GET", "/items/{id}/parts/{part}"),
                    route("GET", "/files/{name}.{ext}"),
                ],
            ),
            service("gov.small.v1", upstream + "/echo", [route("POST", "/items")], max_body_bytes=1024),
            service(
                "gov.files.v1",
                upstream,
                [route("GET", "/slow"), route("GET", "/hang"), route("GET", "/hop")],
                timeouts={"connect": 1.0, "read": 0.5},
            ),
            service("gov.down.v1", closed, [route("GET", "/items")]),
        ]
    )
    yield start_gateway(document)


def test_forwards_templated_operation_to_the_versions_upstream(gateway: GatewayProcess) -> None:
    response = httpx.get(gateway.url + "/gov/echo/v1/items/42?x=1&y=%20", headers={"X-Custom": "kept"})
    assert response.status_code == 200
    echoed = response.json()
    assert echoed["method"] == "GET"
    assert echoed["raw_path"] == "/echo/items/42?x=1&y=%20"
    headers = {k.lower(): v for k, v in echoed["headers"]}
    assert headers["x-custom"] == "kept"
    assert headers["host"].startswith("127.0.0.1:")


def test_static_and_segment_templates_and_body(gateway: GatewayProcess) -> None:
    assert httpx.get(gateway.url + "/gov/echo/v1/items").json()["path"] == "/echo/items"
    assert httpx.get(gateway.url + "/gov/echo/v1/files/report.pdf").json()["path"] == "/echo/files/report.pdf"
    assert httpx.get(gateway.url + "/gov/echo/v1/items/1/parts/2").status_code == 200
    posted = httpx.post(gateway.url + "/gov/echo/v1/items", content=b"x" * 5000).json()
    assert posted["method"] == "POST" and posted["bytes"] == 5000


def test_unknown_path_is_404_problem(gateway: GatewayProcess) -> None:
    for path in ("/nobody/here/v1/items", "/gov/echo/v1/nothing", "/gov/echo/v2/items", "/"):
        response = httpx.get(gateway.url + path)
        assert response.status_code == 404, path
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["status"] == 404


def test_wrong_method_is_405_with_allow(gateway: GatewayProcess) -> None:
    response = httpx.put(gateway.url + "/gov/echo/v1/items/42")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["allow"] == ["DELETE", "GET"]


def test_head_falls_back_to_get(gateway: GatewayProcess) -> None:
    assert httpx.head(gateway.url + "/gov/echo/v1/items").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/gov/echo/v1/items/..%2F..%2F..%2Fsmall%2Fv1%2Fitems",
        "/gov/echo/v1/items/%2e%2e",
        "/gov/echo/v1/items/a%00",
    ],
)
def test_path_escapes_are_refused(gateway: GatewayProcess, path: str) -> None:
    # httpx would normalise a literal "..", so the raw request goes over a socket.
    raw = _raw_request(gateway.url, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 400"), raw[:80]
    raw = _raw_request(gateway.url, "GET /gov/echo/v1/items/../../small/v1/items HTTP/1.1\r\nHost: x\r\n\r\n")
    assert raw.startswith(b"HTTP/1.1 400"), raw[:80]


def _raw_request(url: str, request: str) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(request.encode())
        return sock.recv(65536)


def test_forwarding_headers_request_id_and_via(gateway: GatewayProcess) -> None:
    response = httpx.get(
        gateway.url + "/gov/echo/v1/items",
        headers={"X-Forwarded-For": "6.6.6.6", "Connection": "keep-alive, X-Secret", "X-Secret": "hop"},
    )
    headers = {k.lower(): v for k, v in response.json()["headers"]}
    assert headers["x-forwarded-for"] == "127.0.0.1"  # a client is not a trusted proxy
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == gateway.url.removeprefix("http://")
    assert headers["x-forwarded-prefix"] == "/gov/echo/v1"
    assert headers["via"] == "1.1 agora"
    assert "x-secret" not in headers
    generated = response.headers["x-request-id"]
    assert len(generated) == 32 and headers["x-request-id"] == generated
    assert "agora" in response.headers["via"]

    kept = httpx.get(gateway.url + "/gov/echo/v1/items", headers={"X-Request-ID": "abc-123"})
    assert kept.headers["x-request-id"] == "abc-123"
    assert {k.lower(): v for k, v in kept.json()["headers"]}["x-request-id"] == "abc-123"
    problem = httpx.get(gateway.url + "/nowhere/at/all")
    assert len(problem.headers["x-request-id"]) == 32
    assert problem.json()["request_id"] == problem.headers["x-request-id"]


def test_hop_by_hop_response_headers_are_removed(gateway: GatewayProcess) -> None:
    response = httpx.get(gateway.url + "/gov/files/v1/hop")
    assert response.text == "hop"
    assert response.headers["x-kept"] == "yes"
    assert "x-private" not in response.headers
    assert "keep-alive" not in response.headers


def test_body_over_the_limit_is_413(gateway: GatewayProcess) -> None:
    assert httpx.post(gateway.url + "/gov/small/v1/items", content=b"x" * 1024).status_code == 200
    declared = httpx.post(gateway.url + "/gov/small/v1/items", content=b"x" * 1025)
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while streaming
        for _ in range(4):
            yield b"y" * 512

    streamed = httpx.post(gateway.url + "/gov/small/v1/items", content=chunks())
    assert streamed.status_code == 413


def test_refused_connection_is_502(gateway: GatewayProcess) -> None:
    response = httpx.get(gateway.url + "/gov/down/v1/items")
    assert response.status_code == 502
    assert response.json()["type"].endswith("/bad-gateway")


def test_slow_upstream_is_504_after_the_apis_read_timeout(gateway: GatewayProcess) -> None:
    started = time.monotonic()
    response = httpx.get(gateway.url + "/gov/files/v1/slow?delay=3")
    assert response.status_code == 504
    assert 0.4 < time.monotonic() - started < 2.5
    assert httpx.get(gateway.url + "/gov/files/v1/slow?delay=0.1").status_code == 200


def test_client_disconnect_cancels_the_upstream_call(gateway: GatewayProcess, upstream: str) -> None:
    before = httpx.get(upstream + "/stats").json()["cancelled"]
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(gateway.url + "/gov/files/v1/hang", timeout=0.3)
    deadline = time.monotonic() + 3
    while httpx.get(upstream + "/stats").json()["cancelled"] == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert httpx.get(upstream + "/stats").json()["cancelled"] == before + 1


def test_control_surface_is_only_health_and_readiness(gateway: GatewayProcess, tmp_path: Path) -> None:
    assert httpx.get(gateway.url + "/healthz").json() == {"status": "ok"}
    ready = httpx.get(gateway.url + "/readyz").json()
    assert ready["status"] == "ready" and ready["snapshot"]["routes"] == 11
    for path in ("/admin", "/admin/apis", "/docs", "/openapi.json", "/metrics"):
        assert httpx.get(gateway.url + path).status_code == 404, path
