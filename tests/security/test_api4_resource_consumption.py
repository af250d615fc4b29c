"""API4:2023 Unrestricted Resource Consumption.

At the gateway's edge (a real gateway process, raw sockets): bodies over the API's limit are 413
(declared or streamed), a request target over 8 KiB is 414, headers over 32 KiB or 100 fields are 431,
and a client that sends its request head too slowly (slowloris) or not at all is cut off with 408.
On the portal: sign-up and sign-in are limited per client address.
"""

from __future__ import annotations

import time
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
from tests.devportal.helpers import PASSWORD, csrf
from tests.security.raw_http import exchange

HEAD_TIMEOUT = 1.0
LIMIT = 64 * 1024


@pytest.fixture(scope="module")
def edge(start_gateway: StartGateway, upstream: str) -> Iterator[GatewayProcess]:
    document = snapshot(
        [
            service(
                "gov.limits.v1",
                upstream + "/echo",
                [route("GET", "/items"), route("POST", "/items")],
                max_body_bytes=LIMIT,
            )
        ]
    )
    yield start_gateway(document, env={"AGORA_HTTP_HEAD_TIMEOUT": str(HEAD_TIMEOUT)})


PATH = "/gov/limits/v1/items"


@pytest.mark.integration
def test_a_sane_request_passes(edge: GatewayProcess) -> None:
    answer = exchange(edge.url, f"GET {PATH} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
    assert answer.status == 200


@pytest.mark.integration
def test_body_over_the_limit_is_413_declared_or_streamed(edge: GatewayProcess) -> None:
    declared = httpx.post(edge.url + PATH, content=b"x" * (LIMIT + 1), timeout=10)
    assert declared.status_code == 413
    assert declared.headers["content-type"] == "application/problem+json"

    def chunks() -> Iterator[bytes]:
        for _ in range(LIMIT // 1024 + 8):
            yield b"y" * 1024

    streamed = httpx.post(edge.url + PATH, content=chunks(), timeout=10)  # chunked: no Content-Length
    assert streamed.status_code == 413


@pytest.mark.integration
def test_long_request_target_is_414(edge: GatewayProcess) -> None:
    target = PATH + "?q=" + "a" * 9000
    answer = exchange(edge.url, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    assert answer.status == 414 and answer.closed


@pytest.mark.integration
@pytest.mark.parametrize(
    "headers",
    [
        "X-Big: " + "a" * 40_000 + "\r\n",
        "".join(f"X-Many-{i}: 1\r\n" for i in range(150)),
        "".join(f"X-Wide-{i}: {'b' * 4000}\r\n" for i in range(10)),
    ],
    ids=["one-huge-header", "too-many-fields", "too-many-bytes"],
)
def test_oversized_headers_are_431(edge: GatewayProcess, headers: str) -> None:
    answer = exchange(edge.url, f"GET {PATH} HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode())
    assert answer.status == 431 and answer.closed


@pytest.mark.integration
def test_an_endless_header_line_is_cut_before_it_ends(edge: GatewayProcess) -> None:
    # Never finishes its line: the server must not keep buffering it until a CRLF that never comes.
    payload = f"GET {PATH} HTTP/1.1\r\nHost: x\r\nX-Endless: ".encode() + b"z" * 200_000
    answer = exchange(edge.url, payload, timeout=5)
    assert answer.status == 431 and answer.closed


@pytest.mark.integration
def test_slowloris_head_times_out(edge: GatewayProcess) -> None:
    # One byte every 0.2 s: the head would take ~10 s; the gateway closes after HEAD_TIMEOUT.
    head = f"GET {PATH} HTTP/1.1\r\nHost: x\r\nX-Slow: {'s' * 40}\r\n\r\n".encode()
    answer = exchange(edge.url, head, drip=0.2, timeout=8)
    assert answer.closed
    assert answer.seconds < HEAD_TIMEOUT + 2
    assert answer.status in (408, None)  # 408 unless the close raced the answer


@pytest.mark.integration
def test_a_silent_connection_is_closed(edge: GatewayProcess) -> None:
    answer = exchange(edge.url, b"", timeout=6)
    assert answer.closed and answer.status == 408
    assert HEAD_TIMEOUT - 0.2 <= answer.seconds < HEAD_TIMEOUT + 2


@pytest.mark.integration
def test_keep_alive_requests_each_get_a_fresh_head_deadline(edge: GatewayProcess) -> None:
    # A client that is simply slow between requests is governed by keep-alive, not cut mid-request.
    with httpx.Client(base_url=edge.url, timeout=10) as client:
        for _ in range(3):
            assert client.get(PATH).status_code == 200
            time.sleep(HEAD_TIMEOUT * 0.8)


def _portal(sessions: sessionmaker[Session], settings: Settings, where: Path, address: str) -> TestClient:
    app = create_portal_app(
        settings, sessions, site_dir=where / "site", mailer=OutboxMailer(where / "outbox")
    )
    return TestClient(app, base_url="http://127.0.0.1:8002", client=(address, 40000))


def test_sign_in_is_limited_per_address(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    from registry.services import accounts
    from registry.unit_of_work import change

    with change(sessions) as session:
        developer = accounts.sign_up(session, email="victim@example.org", password=PASSWORD).developer
        accounts.mark_verified(session, developer.id, developer.email)
    attacker = _portal(sessions, settings, tmp_path, "203.0.113.50")
    token = csrf(attacker, "/account/signin")
    guess = {"csrf_token": token, "email": "victim@example.org", "password": "not the password"}
    statuses = [attacker.post("/account/signin", data=guess).status_code for _ in range(10)]
    assert 429 not in statuses
    refused = attacker.post("/account/signin", data={**guess, "password": PASSWORD})
    assert refused.status_code == 429, "the right password is refused too once the address is over"
    assert int(refused.headers["retry-after"]) >= 1 and "Too many sign-in attempts" in refused.text
    # Another address is not affected (the counter is per address, in this app's memory without Redis).
    other = _portal(sessions, settings, tmp_path, "198.51.100.60")
    ok = other.post(
        "/account/signin",
        data={
            "csrf_token": csrf(other, "/account/signin"),
            "email": "victim@example.org",
            "password": PASSWORD,
        },
    )
    assert ok.status_code == 200 and ok.url.path == "/account/"


def test_sign_up_is_limited_per_address(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    bot = _portal(sessions, settings, tmp_path, "203.0.113.51")
    token = csrf(bot, "/account/signup")
    statuses = [
        bot.post(
            "/account/signup",
            data={"csrf_token": token, "email": f"bot{i}@example.org", "password": PASSWORD},
        ).status_code
        for i in range(6)
    ]
    assert statuses == [200] * 5 + [429]
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 5, "no mail for the refused sign-up"
