"""Sign-up with email verification, sign-in and sign-out, sessions and CSRF."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer
from registry.models import Developer
from tests.devportal.helpers import PASSWORD, csrf, last_link, mails, sign_in, sign_up


def test_sign_up_sends_a_link_that_verifies_and_signs_in(
    client: TestClient, outbox: Path, sessions: sessionmaker[Session]
) -> None:
    sign_up(client, outbox, "New.Dev@Example.org")
    message = mails(outbox)[-1]
    assert message["To"] == "new.dev@example.org"
    assert "Confirm your email" in str(message["Subject"])
    with sessions() as session:
        developer = session.scalar(select(Developer).where(Developer.email == "new.dev@example.org"))
        assert developer is not None and developer.email_verified_at is not None
        assert developer.password_hash is not None and developer.password_hash.startswith("$argon2id$")
    assert "Signed in as <strong>new.dev@example.org</strong>" in client.get("/account/apps").text


def test_unverified_account_cannot_sign_in(client: TestClient, outbox: Path) -> None:
    token = csrf(client)
    client.post("/account/signup", data={"csrf_token": token, "email": "a@example.org", "password": PASSWORD})
    response = client.post(
        "/account/signin",
        data={"csrf_token": csrf(client, "/account/signin"), "email": "a@example.org", "password": PASSWORD},
    )
    assert response.status_code == 403
    assert "confirm your email" in response.text


def test_wrong_password_and_unknown_email_answer_alike(client: TestClient, outbox: Path) -> None:
    sign_up(client, outbox, "b@example.org")
    client.cookies.clear()
    answers = []
    for email, password in (("b@example.org", "not the password"), ("nobody@example.org", PASSWORD)):
        token = csrf(client, "/account/signin")
        response = client.post(
            "/account/signin", data={"csrf_token": token, "email": email, "password": password}
        )
        answers.append((response.status_code, "wrong email or password" in response.text))
    assert answers == [(401, True), (401, True)]
    sign_in(client, "b@example.org")


def test_sign_up_refuses_short_password_and_mails_the_owner_of_a_taken_email(
    client: TestClient, outbox: Path
) -> None:
    short = client.post(
        "/account/signup", data={"csrf_token": csrf(client), "email": "c@example.org", "password": "short"}
    )
    assert short.status_code == 422 and "at least 10 characters" in short.text
    sign_up(client, outbox, "c@example.org")
    again = client.post(
        "/account/signup", data={"csrf_token": csrf(client), "email": "c@example.org", "password": PASSWORD}
    )
    assert again.status_code == 200  # as for a new address (tests/security/test_portal_accounts.py)
    assert "Someone tried to sign up" in str(mails(outbox)[-1]["Subject"])


def test_tampered_verification_link_is_refused(client: TestClient, outbox: Path) -> None:
    client.post(
        "/account/signup", data={"csrf_token": csrf(client), "email": "d@example.org", "password": PASSWORD}
    )
    link = last_link(outbox).replace("http://127.0.0.1:8002", "")
    response = client.get(link[:-3] + "xyz")
    assert response.status_code == 422 and "not valid" in response.text


def test_post_without_the_session_csrf_token_is_refused(client: TestClient) -> None:
    response = client.post(
        "/account/signup", data={"csrf_token": "forged", "email": "e@example.org", "password": PASSWORD}
    )
    assert response.status_code == 403
    assert not mails(Path("/nonexistent"))


def test_session_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    header = client.get("/account/signup").headers.get("set-cookie", "").lower()
    assert "httponly" in header and "samesite=lax" in header
    assert "secure" not in header  # plain http here


def test_session_cookie_is_secure_behind_tls(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    tls = dataclasses.replace(settings, portal_url="https://portal.example")
    app = create_portal_app(tls, sessions, site_dir=tmp_path, mailer=OutboxMailer(tmp_path / "out"))
    with TestClient(app, base_url="https://portal.example") as secure_client:
        header = secure_client.get("/account/signup").headers.get("set-cookie", "").lower()
    assert "; secure" in header and "httponly" in header


def test_sign_in_redirects_only_to_local_paths(client: TestClient, outbox: Path) -> None:
    sign_up(client, outbox, "f@example.org")
    client.post("/account/signout", data={"csrf_token": csrf(client, "/account/apps")})
    response = client.post(
        "/account/signin",
        data={
            "csrf_token": csrf(client, "/account/signin"),
            "email": "f@example.org",
            "password": PASSWORD,
            "next": "//evil.example/",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/account/"


def test_signed_out_browser_is_sent_to_sign_in(client: TestClient) -> None:
    response = client.get("/account/apps", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/signin?next=/account/apps"
