"""API8:2023 Security Misconfiguration.

- Portal and admin answers carry security headers (CSP with frame-ancestors, nosniff, a referrer
  policy). The portal's own test of every answer is tests/devportal/web/test_headers_errors.py; here the
  admin process, pages and API alike, and the portal's error and account pages.
- CORS is per API and never reflects an arbitrary origin with credentials (a real gateway process).
- HTTP desync: conflicting `Content-Length` and `Transfer-Encoding`, duplicated lengths and obfuscated
  transfer codings are refused at the gateway's edge (raw sockets), and what is accepted reaches the
  upstream as exactly one request.
- Encoded path traversal cannot leave an API's prefix (more spellings than
  tests/gateway/integration/test_gateway_proxy.py::test_path_escapes_are_refused).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gateway_harness import GatewayProcess, StartGateway, route, service, snapshot
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer
from tests.registry.admin.conftest import World
from tests.security.raw_http import exchange

EVIL = "https://evil.example"
GOOD = "https://app.example.gov"


def _check_headers(headers: httpx.Headers, where: str) -> None:
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, where
    assert headers.get("x-content-type-options") == "nosniff", where
    assert headers.get("referrer-policy") in (
        "same-origin",
        "strict-origin-when-cross-origin",
        "no-referrer",
    ), where


def test_admin_answers_carry_security_headers(world: World) -> None:
    c = world.client
    for path, headers in [
        ("/admin/ui/signin", {}),  # a page
        ("/admin/ui/", {}),  # a redirect to sign in
        ("/admin/agencies", world.platform),  # the JSON API
        ("/admin/agencies", {}),  # a 401 problem
        ("/admin/openapi.json", {}),
        ("/admin/no-such-route", world.platform),  # a 404 problem
    ]:
        response = c.get(path, headers=headers, follow_redirects=False)
        _check_headers(response.headers, f"admin {path} ({response.status_code})")
    page = c.get("/admin/ui/signin")
    assert "script-src 'self'" in page.headers["content-security-policy"], "pages keep their own policy"


def test_portal_pages_and_errors_carry_security_headers(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    app = create_portal_app(settings, sessions, site_dir=tmp_path / "site", mailer=OutboxMailer(tmp_path))
    with TestClient(app, base_url="http://127.0.0.1:8002") as client:
        for path in ("/account/signin", "/account/signup", "/account/apps", "/account/api/usage", "/nowhere"):
            response = client.get(path, follow_redirects=False)
            _check_headers(response.headers, f"portal {path} ({response.status_code})")


@pytest.fixture(scope="module")
def edge(start_gateway: StartGateway, upstream: str) -> Iterator[GatewayProcess]:
    items = [route("GET", "/items"), route("POST", "/items")]
    listed = {"name": "cors", "config": {"origins": [GOOD], "credentials": True}}
    star = {"name": "cors", "config": {"origins": ["*"], "credentials": True}}
    pattern = {"name": "cors", "config": {"origins": [r"https://.*\.example\.gov"], "credentials": True}}
    document = snapshot(
        [
            service("gov.listed.v1", upstream + "/echo", items, plugins=[listed]),
            service("gov.star.v1", upstream + "/echo", items, plugins=[star]),
            service("gov.pattern.v1", upstream + "/echo", items, plugins=[pattern]),
            service("gov.nocors.v1", upstream + "/echo", items),
            service("gov.other.v1", upstream + "/echo/base", items),
        ]
    )
    yield start_gateway(document)


def _cors(gateway: GatewayProcess, api: str, origin: str, preflight: bool = False) -> httpx.Headers:
    url = f"{gateway.url}/gov/{api}/v1/items"
    if preflight:
        headers = {"Origin": origin, "Access-Control-Request-Method": "POST"}
        return httpx.options(url, headers=headers, timeout=10).headers
    return httpx.get(url, headers={"Origin": origin}, timeout=10).headers


@pytest.mark.integration
def test_cors_is_per_api_and_never_reflects_any_origin_with_credentials(edge: GatewayProcess) -> None:
    allowed = _cors(edge, "listed", GOOD)
    assert allowed["access-control-allow-origin"] == GOOD
    assert allowed["access-control-allow-credentials"] == "true"
    for api in ("listed", "star", "pattern", "nocors"):
        for preflight in (False, True):
            headers = _cors(edge, api, EVIL, preflight)
            assert headers.get("access-control-allow-origin") != EVIL, (api, preflight)
            if headers.get("access-control-allow-origin") == "*":
                assert headers.get("access-control-allow-credentials") != "true", (api, preflight)
    # A pattern is matched whole: a look-alike origin that merely contains an allowed one is refused.
    for trick in ("https://evil.example.gov.evil.example", "https://app.example.gov@evil.example", "null"):
        assert _cors(edge, "pattern", trick).get("access-control-allow-origin") != trick
    # Per API: the origin one API allows is nothing to another.
    assert "access-control-allow-origin" not in _cors(edge, "nocors", GOOD)


def _post(*headers: str, body: bytes, eol: bytes = b"\r\n") -> bytes:
    head = eol.join([b"POST {p} HTTP/1.1", b"Host: x", *(h.encode() for h in headers)])
    return head + eol + eol + body


SMUGGLING = {
    "CL.TE": _post("Content-Length: 6", "Transfer-Encoding: chunked", body=b"0\r\n\r\nG"),
    "TE.CL": _post("Transfer-Encoding: chunked", "Content-Length: 4", body=b"5c\r\nGPOST"),
    "CL.CL": _post("Content-Length: 0", "Content-Length: 44", body=b""),
    "TE obfuscated": _post("Content-Length: 4", "Transfer-Encoding: xchunked", body=b"1\r\nZ"),
    "TE space": _post("Content-Length: 4", "Transfer-Encoding : chunked", body=b"1\r\nZ"),
    "TE twice": _post(
        "Transfer-Encoding: chunked", "Transfer-Encoding: identity", "Content-Length: 4", body=b"1\r\nZ"
    ),
    "CL sign": _post("Content-Length: +4", body=b"ZZZZ"),
    "bare LF": _post("Content-Length: 4", "Transfer-Encoding: chunked", body=b"1\nZ", eol=b"\n"),
}


def _upstream_requests(upstream: str) -> int:
    count: int = httpx.get(upstream + "/stats", timeout=5).json()["requests"]
    return count


@pytest.mark.integration
@pytest.mark.parametrize("name", list(SMUGGLING))
def test_conflicting_message_lengths_are_refused(edge: GatewayProcess, upstream: str, name: str) -> None:
    before = _upstream_requests(upstream)
    payload = SMUGGLING[name].replace(b"{p}", b"/gov/nocors/v1/items")
    smuggled = b"GET /gov/nocors/v1/items HTTP/1.1\r\nHost: x\r\nX-Smuggled: 1\r\n\r\n"
    answer = exchange(edge.url, payload + smuggled, timeout=5)
    assert answer.status == 400, (name, answer.data[:200])
    assert answer.data.count(b"HTTP/1.1 ") == 1, "one answer: nothing smuggled was served"
    assert answer.closed
    assert _upstream_requests(upstream) == before, "nothing reached the upstream"


@pytest.mark.integration
def test_an_accepted_chunked_body_is_one_request_upstream(edge: GatewayProcess, upstream: str) -> None:
    before = _upstream_requests(upstream)
    payload = _post("Transfer-Encoding: chunked", "Connection: close", body=b"4\r\nabcd\r\n0\r\n\r\n")
    payload = payload.replace(b"{p}", b"/gov/nocors/v1/items")
    answer = exchange(edge.url, payload, timeout=5)
    assert answer.status == 200 and b'"bytes": 4' in answer.data
    assert _upstream_requests(upstream) == before + 1


TRAVERSALS = [
    "/gov/other/v1/..%2f..%2fnocors/v1/items",
    "/gov/other/v1/%2e%2e/%2e%2e/nocors/v1/items",
    "/gov/other/v1/%2E%2E%2F%2E%2E%2Fnocors%2Fv1%2Fitems",
    "/gov/other/v1/..%5c..%5cnocors/v1/items",
    "/gov/other/v1/items/..%00/x",
    "/gov/other/v1/.%2e/items",
]
ENCODED_TWICE = [
    "/gov/other/v1/%252e%252e/%252e%252e/items",
    "/gov/other/v1/%c0%ae%c0%ae/items",
    "/gov/other/v1/..;/..;/items",
    "/gov/other/v1/%ef%bc%8e%ef%bc%8e/items",
]


@pytest.mark.integration
@pytest.mark.parametrize("path", TRAVERSALS)
def test_encoded_traversal_is_refused(edge: GatewayProcess, path: str) -> None:
    answer = exchange(edge.url, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert answer.status == 400, answer.data[:300]


@pytest.mark.integration
@pytest.mark.parametrize("path", ENCODED_TWICE)
def test_what_is_not_a_dot_segment_stays_under_the_apis_upstream_path(
    edge: GatewayProcess, upstream: str, path: str
) -> None:
    """Not a traversal once decoded: either no operation matches (404), or it is forwarded verbatim
    under the API's upstream path, never above it."""
    before = _upstream_requests(upstream)
    answer = exchange(edge.url, f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert answer.status in (400, 404), answer.data[:300]
    assert _upstream_requests(upstream) == before
