"""Small steps the portal tests share: read a CSRF token, read the outbox, sign up and verify."""

from __future__ import annotations

import re
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from starlette.testclient import TestClient

PASSWORD = "correct horse battery"


def csrf(client: TestClient, path: str = "/account/signup") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def mails(outbox: Path) -> list[EmailMessage]:
    files = sorted(outbox.glob("*.eml")) if outbox.exists() else []
    out = []
    for path in files:
        parsed = message_from_bytes(path.read_bytes(), policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        out.append(parsed)
    return out


def last_link(outbox: Path) -> str:
    body = mails(outbox)[-1].get_content()
    match = re.search(r"https?://\S+", body)
    assert match, body
    return match.group(0)


def sign_up(client: TestClient, outbox: Path, email: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/account/signup", data={"csrf_token": csrf(client), "email": email, "password": password}
    )
    assert response.status_code == 200, response.text
    link = last_link(outbox)
    verified = client.get(link.replace("http://127.0.0.1:8002", ""))
    assert verified.status_code == 200 and verified.url.path == "/account/apps"


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> None:
    response = client.post(
        "/account/signin",
        data={"csrf_token": csrf(client, "/account/signin"), "email": email, "password": password},
    )
    assert response.status_code == 200 and response.url.path == "/account/", response.text


def create_app(client: TestClient, name: str = "my-app") -> str:
    response = client.post("/account/apps", data={"csrf_token": csrf(client, "/account/apps"), "name": name})
    assert response.status_code == 200, response.text
    return response.url.path.rsplit("/", 1)[1]


def issue_key(client: TestClient, app_id: str) -> tuple[str, str]:
    """(secret, first-call curl) from the page shown once."""
    page = client.post(
        f"/account/apps/{app_id}/keys", data={"csrf_token": csrf(client, "/account/apps")}
    ).text
    secret = re.search(r'id="api-key">([^<]+)<', page)
    assert secret, page
    curl = re.search(r'id="first-call">([^<]+)<', page)
    return secret.group(1), (curl.group(1) if curl else "")
