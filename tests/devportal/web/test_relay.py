"""The console's relay to the gateway: method, path, query, body and safe headers go through; the
portal's cookies never do; the gateway's answer comes back (without its cookies)."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import httpx
import uvicorn
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient
from uvicorn.logging import AccessFormatter

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer
from tests.devportal.browser.stack import free_port

CONSOLE = {"x-agora-console": "1", "sec-fetch-mode": "cors", "sec-fetch-dest": "empty"}


def test_relay_forwards_to_the_gateway_without_cookies(
    sessions: sessionmaker[Session], settings: Settings, seeded: dict[str, str], tmp_path: Path
) -> None:
    seen: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"ok": True}, headers={"set-cookie": "gw=1", "x-request-id": "abc"})

    app = create_portal_app(
        settings,
        sessions,
        site_dir=tmp_path,
        mailer=OutboxMailer(tmp_path),
        relay_transport=httpx.MockTransport(gateway),
    )
    with TestClient(app, base_url="http://127.0.0.1:8002") as client:
        client.cookies.set("agora_portal", "session-secret")
        answer = client.post(
            "/gateway/commerce/companies/v1/companies/RC1/filings?draft=true",
            headers={
                "apikey": "agora_12345678_x",
                "content-type": "application/json",
                "x-evil": "1",
                **CONSOLE,
            },
            content=b'{"kind": "accounts"}',
        )
    assert answer.status_code == 201 and answer.json() == {"ok": True}
    assert "set-cookie" not in answer.headers and answer.headers["x-request-id"] == "abc"
    sent = seen[0]
    assert str(sent.url) == "http://127.0.0.1:8000/commerce/companies/v1/companies/RC1/filings?draft=true"
    assert sent.method == "POST" and sent.content == b'{"kind": "accounts"}'
    assert sent.headers["apikey"] == "agora_12345678_x" and "cookie" not in sent.headers
    assert "x-evil" not in sent.headers


def test_the_portals_access_log_never_holds_a_relayed_identifier(
    sessions: sessionmaker[Session], settings: Settings, seeded: dict[str, str], tmp_path: Path
) -> None:
    """The portal served by uvicorn, as `agora portal serve` does: the console tries the benefits
    example's personal-data operation, whose path names the person; the access log line keeps the
    API's prefix only (the gateway still receives the whole path)."""
    nir = "284127510804236"
    seen: list[str] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"entitlements": []})

    app = create_portal_app(
        settings, sessions, site_dir=tmp_path, mailer=OutboxMailer(tmp_path),
        relay_transport=httpx.MockTransport(gateway),
    )  # fmt: skip
    lines: list[str] = []
    handler = logging.Handler()
    formatter = AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)
    handler.emit = lambda record: lines.append(formatter.format(record))  # type: ignore[method-assign]
    logging.getLogger("uvicorn.access").addHandler(handler)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level="info", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive()
            time.sleep(0.02)
        path = f"/gateway/benefits/entitlements/v1/beneficiaries/{nir}/entitlements"
        answer = httpx.get(f"http://127.0.0.1:{port}{path}?at=2025-01-01", headers=CONSOLE, timeout=10)
        assert answer.status_code == 200, answer.text
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        logging.getLogger("uvicorn.access").removeHandler(handler)
    assert seen == [f"/benefits/entitlements/v1/beneficiaries/{nir}/entitlements"]
    relayed = [line for line in lines if "/gateway/" in line]
    assert len(relayed) == 1 and relayed[0].startswith("127.0.0.1:")
    assert '"GET /gateway/benefits/entitlements/v1/[redacted] HTTP/1.1" 200' in relayed[0]
    assert not any(nir in line for line in lines)
