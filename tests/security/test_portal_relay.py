"""Issue 14, items 1 and 8: the portal's "try it" relay (`/gateway/{path}`).

- Item 1: an agency controls what its upstream answers; the portal's origin must never render it. The
  relay answers only the console's fetches, only for published operations, and serves what comes back
  inert (sandbox CSP, nosniff, a non-renderable type, no `Location`). The same attack in Chromium is
  tests/devportal/browser/test_relay_attack.py.
- Item 8: a large body is refused on its `Content-Length` before it is read, and a chunked one is
  counted while it streams: the portal never holds it whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer
from devportal.web.relay import MAX_BODY_BYTES

CONSOLE = {"x-agora-console": "1", "sec-fetch-mode": "cors", "sec-fetch-dest": "empty"}
COMPANY = "/gateway/commerce/companies/v1/companies/RC1"
FILINGS = COMPANY + "/filings"
ATTACK = (
    b"<!doctype html><script src='/gateway/commerce/companies/v1/companies/js'></script>"
    b"<p>read the CSRF token, create a key</p>"
)


@pytest.fixture
def upstream_calls() -> list[httpx.Request]:
    return []


@pytest.fixture
def portal(
    sessions: sessionmaker[Session],
    settings: Settings,
    seeded: dict[str, str],
    tmp_path: Path,
    upstream_calls: list[httpx.Request],
) -> Starlette:
    async def gateway(request: httpx.Request) -> httpx.Response:
        upstream_calls.append(request)
        body = b""
        if request.method == "POST":
            async for chunk in request.stream:  # type: ignore[union-attr]
                body += chunk
        return httpx.Response(
            200,
            content=ATTACK,
            headers={
                "content-type": "text/html; charset=utf-8",
                "location": "https://evil.example/",
                "content-security-policy": "script-src *",
                "x-body-bytes": str(len(body)),
            },
        )

    return create_portal_app(
        settings,
        sessions,
        site_dir=tmp_path,
        mailer=OutboxMailer(tmp_path),
        relay_transport=httpx.MockTransport(gateway),
    )


@pytest.fixture
def client(portal: Starlette) -> Iterator[TestClient]:
    with TestClient(portal, base_url="http://127.0.0.1:8002") as test_client:
        yield test_client


def test_relayed_html_is_served_inert(client: TestClient) -> None:
    answer = client.get(COMPANY, headers=CONSOLE)
    assert answer.status_code == 200 and answer.content == ATTACK
    assert answer.headers["content-type"] == "text/plain; charset=utf-8"
    policies = answer.headers.get_list("content-security-policy")
    assert any(p.startswith("sandbox") for p in policies) and "script-src *" not in policies
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "location" not in answer.headers


@pytest.mark.parametrize(
    ("headers", "why"),
    [
        ({}, "no console header: a link, a <script src>, an <img>"),
        ({**CONSOLE, "sec-fetch-mode": "navigate", "sec-fetch-dest": "document"}, "a navigation"),
        ({**CONSOLE, "sec-fetch-mode": "no-cors", "sec-fetch-dest": "script"}, "a script load"),
        ({**CONSOLE, "sec-fetch-site": "cross-site"}, "another site's fetch"),
    ],
)
def test_only_the_consoles_fetches_are_relayed(
    client: TestClient, upstream_calls: list[httpx.Request], headers: dict[str, str], why: str
) -> None:
    answer = client.get(COMPANY, headers=headers)
    assert answer.status_code == 403, why
    assert answer.headers["content-type"] == "application/problem+json"
    assert upstream_calls == []


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/gateway/commerce/companies/v1/no-such-operation", 404),
        ("DELETE", COMPANY, 404),  # the spec declares no DELETE there
        ("GET", "/gateway/nobody/nothing/v1/x", 404),
        ("GET", COMPANY + "%2Fofficers", 422),  # an encoded slash reaching another operation
        ("GET", "/gateway/commerce/companies/v1/companies/%2e%2e/x", 422),
        ("OPTIONS", COMPANY, 405),
    ],
)
def test_only_published_operations_are_relayed(
    client: TestClient, upstream_calls: list[httpx.Request], method: str, path: str, status: int
) -> None:
    answer = client.request(method, path, headers=CONSOLE)
    assert answer.status_code == status, answer.text
    assert upstream_calls == []


def _scope(headers: dict[str, str]) -> dict[str, Any]:
    path = FILINGS
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8002),
    }


async def _call(app: Starlette, headers: dict[str, str], chunks: int) -> tuple[int, int]:
    """(status, body chunks the portal pulled) for a POST of `chunks` MiB, pulled lazily."""
    pulled = 0
    status = 0
    chunk = b"x" * (1024 * 1024)

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": chunk, "more_body": pulled < chunks}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(_scope({**CONSOLE, "content-type": "application/json", **headers}), receive, send)
    return status, pulled


def test_a_declared_large_body_is_refused_before_it_is_read(
    portal: Starlette, upstream_calls: list[httpx.Request]
) -> None:
    size = 400 * 1024 * 1024
    status, pulled = asyncio.run(_call(portal, {"content-length": str(size)}, chunks=400))
    assert status == 413
    assert pulled == 0, "the body was read before the refusal"
    assert upstream_calls == []


def test_a_chunked_large_body_is_refused_while_it_streams(portal: Starlette) -> None:
    status, pulled = asyncio.run(_call(portal, {"transfer-encoding": "chunked"}, chunks=400))
    assert status == 413
    assert pulled <= MAX_BODY_BYTES // (1024 * 1024) + 2, f"{pulled} MiB pulled for a 10 MiB limit"


def test_a_body_under_the_limit_streams_through(client: TestClient) -> None:
    body = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    answer = client.post(FILINGS, headers={**CONSOLE, "content-type": "application/json"}, content=body)
    assert answer.status_code == 200 and answer.headers["x-body-bytes"] == str(len(body))
