"""The console's relay to the gateway: method, path, query, body and safe headers go through; the
portal's cookies never do; the gateway's answer comes back (without its cookies)."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer

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
