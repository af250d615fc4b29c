"""request-size-limiting through a running gateway against the real upstream, which counts what it
receives: declared lengths refused before anything is read, chunked bodies cut off at the limit
while streaming, Content-Length required when asked, and the API's own limit still in force."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway

from tests.plugins.helpers import route, service, snapshot

pytestmark = pytest.mark.integration


def limit(**config: Any) -> dict[str, Any]:
    return {"name": "request-size-limiting", "config": config}


@pytest.fixture(scope="module")
def gateway(start_gateway: StartGateway, upstream: str) -> GatewayProcess:
    upload = [route("POST", "/upload"), route("GET", "/echo")]
    return start_gateway(
        snapshot(
            [
                service(
                    "gov.small.v1",
                    upstream,
                    upload,
                    plugins=[limit(allowed_payload_size=2, size_unit="kilobytes")],
                ),
                service(
                    "gov.declared.v1",
                    upstream,
                    upload,
                    plugins=[
                        limit(allowed_payload_size=1, size_unit="megabytes", require_content_length=True)
                    ],
                ),
                # The plugin can lower the API's limit, never raise it.
                service(
                    "gov.capped.v1",
                    upstream,
                    upload,
                    max_body_bytes=1000,
                    plugins=[limit(allowed_payload_size=1)],
                ),
            ]
        )
    )


def chunks(*sizes: int) -> Iterator[bytes]:
    for size in sizes:
        yield b"x" * size  # httpx sends an iterator chunked, without Content-Length


def post(gateway: GatewayProcess, api: str, content: bytes | Iterator[bytes]) -> httpx.Response:
    return httpx.post(f"{gateway.url}/gov/{api}/v1/upload", content=content, timeout=10)


def test_a_declared_length_over_the_limit_is_refused_before_reading(
    gateway: GatewayProcess, upstream: str
) -> None:
    assert post(gateway, "small", b"x" * 2048).json() == {"bytes": 2048}
    before = httpx.get(upstream + "/stats").json()["requests"]
    refused = post(gateway, "small", b"x" * 2049)
    assert httpx.get(upstream + "/stats").json()["requests"] == before
    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "Request size limit exceeded"


def test_a_chunked_body_is_cut_off_at_the_limit(gateway: GatewayProcess) -> None:
    assert post(gateway, "small", chunks(1000, 1000)).json() == {"bytes": 2000}
    cut = post(gateway, "small", chunks(1000, 1000, 1000))
    assert cut.status_code == 413 and "2048" in cut.json()["detail"]


def test_content_length_required_when_asked_as_kong_requires_it(gateway: GatewayProcess) -> None:
    # Kong: 411 when there is neither a Content-Length nor chunked transfer coding, body or not.
    refused = httpx.get(f"{gateway.url}/gov/declared/v1/echo", timeout=10)
    assert (
        refused.status_code == 411 and refused.json()["detail"] == "A valid Content-Length header is required"
    )
    assert post(gateway, "declared", b"x" * 10).json() == {"bytes": 10}
    assert post(gateway, "declared", chunks(10)).json() == {"bytes": 10}  # chunked: judged while streaming


def test_expect_100_continue_over_the_limit_is_417(gateway: GatewayProcess) -> None:
    headers = {"Expect": "100-continue"}
    url = f"{gateway.url}/gov/small/v1/upload"
    refused = httpx.post(url, content=b"x" * 4096, headers=headers, timeout=10)
    assert refused.status_code == 417 and refused.json()["detail"] == "Request size limit exceeded"


def test_the_api_s_own_limit_still_applies(gateway: GatewayProcess) -> None:
    assert post(gateway, "capped", b"x" * 1000).json() == {"bytes": 1000}
    assert post(gateway, "capped", b"x" * 1001).status_code == 413
    assert post(gateway, "capped", chunks(600, 600)).status_code == 413
