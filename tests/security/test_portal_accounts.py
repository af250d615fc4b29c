"""Issue 14, items 5, 11 and 12: portal accounts (API2:2023 Broken Authentication).

- Item 5: sign-up never changes an existing account (an operator-made one included): the owner is
  mailed a "someone tried" message with a reset link instead. An OpenID Provider's owner of an address
  takes over an unverified account without the password a stranger set on it. A confirmation link
  confirms once and then signs nobody in.
- Item 12: sign-up answers the same for a known and a new address.
- Item 11: sign-out ends the session server-side; a copied cookie stops working.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.testclient import TestClient

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer
from registry.models import Developer
from registry.services import accounts
from registry.unit_of_work import change
from tests.devportal.helpers import PASSWORD, csrf, last_link, mails, sign_in, sign_up

OWNER = "owner@agency.example.gov"
STRANGER_PASSWORD = "the stranger's passphrase"
BASE = "http://127.0.0.1:8002"


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "outbox"


@pytest.fixture
def portal(
    sessions: sessionmaker[Session], settings: Settings, seeded: dict[str, str], outbox: Path, tmp_path: Path
) -> Starlette:
    return create_portal_app(settings, sessions, site_dir=tmp_path / "site", mailer=OutboxMailer(outbox))


def _browser(portal: Starlette) -> TestClient:
    return TestClient(portal, base_url=BASE)


@pytest.fixture
def client(portal: Starlette) -> Iterator[TestClient]:
    with _browser(portal) as test_client:
        yield test_client


@pytest.fixture
def operator_made(sessions: sessionmaker[Session]) -> None:
    """An agency admin the operator added: verified, no password yet."""
    with change(sessions) as session:
        accounts.add_agency_admin(session, agency_slug="meteo", email=OWNER, actor="test")


def _developer(sessions: sessionmaker[Session], email: str) -> Developer:
    with sessions() as session:
        developer = session.scalar(select(Developer).where(Developer.email == email))
        assert developer is not None
        session.expunge(developer)
        return developer


def _signup(client: TestClient, email: str, password: str = STRANGER_PASSWORD) -> tuple[int, str]:
    answer = client.post(
        "/account/signup", data={"csrf_token": csrf(client), "email": email, "password": password}
    )
    return answer.status_code, answer.text.replace(email, "EMAIL")


def _reset_link(outbox: Path) -> tuple[str, str]:
    """(the reset page's path, its token) from the newest mail."""
    found = re.search(r"https?://\S+/account/reset/password\?token=\S+", mails(outbox)[-1].get_content())
    assert found, "no reset link in the mail"
    parts = urlsplit(found.group(0))
    return f"{parts.path}?{parts.query}", parse_qs(parts.query)["token"][0]


def _reset(browser: TestClient, outbox: Path, password: str) -> httpx.Response:
    page, token = _reset_link(outbox)
    assert browser.get(page).status_code == 200
    data = {"csrf_token": csrf(browser, page), "token": token, "password": password}
    return browser.post("/account/reset/password", data=data)


def _signin_status(client: TestClient, email: str, password: str) -> int:
    data = {"csrf_token": csrf(client, "/account/signin"), "email": email, "password": password}
    return client.post("/account/signin", data=data, follow_redirects=False).status_code


def test_sign_up_never_changes_an_existing_account(
    client: TestClient, outbox: Path, sessions: sessionmaker[Session], operator_made: None
) -> None:
    before = _developer(sessions, OWNER)
    status, _ = _signup(client, OWNER)
    assert status == 200
    after = _developer(sessions, OWNER)
    assert after.password_hash is None and after.email_verified_at == before.email_verified_at
    message = mails(outbox)[-1]
    assert message["To"] == OWNER and "Someone tried to sign up" in str(message["Subject"])
    assert "/account/reset/password?token=" in message.get_content()
    assert _signin_status(client, OWNER, STRANGER_PASSWORD) == 401


@pytest.mark.parametrize("known", ["demo@agora.example", OWNER])  # with a password (was 409), without
def test_sign_up_answers_alike_for_a_known_and_a_new_address(
    portal: Starlette, operator_made: None, known: str
) -> None:
    with _browser(portal) as first, _browser(portal) as second:
        answer_known = _signup(first, known)
        answer_new = _signup(second, "someone.new@example.org")
    assert answer_known == answer_new


def test_the_owner_sets_a_password_from_the_mail_once(
    client: TestClient, outbox: Path, portal: Starlette, operator_made: None
) -> None:
    _signup(client, OWNER)
    with _browser(portal) as owner:
        done = _reset(owner, outbox, PASSWORD)
        assert done.status_code == 200 and done.url.path == "/account/", done.text
        again = _reset(owner, outbox, "another passphrase")
        assert again.status_code == 422 and "already been used" in again.text
    assert _signin_status(client, OWNER, PASSWORD) == 303


def test_oidc_link_drops_a_password_nobody_proved(
    sessions: sessionmaker[Session], client: TestClient
) -> None:
    _signup(client, "taken-early@example.org")  # a stranger registers the address first, never confirms
    with change(sessions) as session:
        accounts.link_identity(
            session,
            issuer="https://op.example",
            subject="owner",
            email="taken-early@example.org",
            email_verified=True,
        )
    assert _developer(sessions, "taken-early@example.org").password_hash is None
    assert _signin_status(client, "taken-early@example.org", STRANGER_PASSWORD) == 401


def test_a_confirmation_link_signs_in_once(client: TestClient, outbox: Path, portal: Starlette) -> None:
    sign_up(client, outbox, "once@example.org")  # opens the link: confirmed and signed in
    link = last_link(outbox).replace(BASE, "")
    with _browser(portal) as other:
        answer = other.get(link)
        assert answer.status_code == 200 and "already" in answer.text
        assert other.get("/account/apps", follow_redirects=False).status_code == 303  # to sign in


def test_sign_out_ends_the_session_server_side(client: TestClient, outbox: Path, portal: Starlette) -> None:
    sign_up(client, outbox, "leaver@example.org")
    copied = dict(client.cookies)
    assert client.get("/account/apps", follow_redirects=False).status_code == 200
    client.post("/account/signout", data={"csrf_token": csrf(client, "/account/apps")})
    with _browser(portal) as thief:
        thief.cookies.update(copied)
        assert thief.get("/account/apps", follow_redirects=False).status_code == 303


def test_a_password_reset_signs_out_every_session(
    client: TestClient, outbox: Path, portal: Starlette
) -> None:
    sign_up(client, outbox, "reset@example.org")
    with _browser(portal) as other:
        sign_in(other, "reset@example.org")
        asked = {"csrf_token": csrf(other, "/account/reset"), "email": "reset@example.org"}
        other.post("/account/reset", data=asked)
        assert _reset(other, outbox, "a brand new passphrase").url.path == "/account/"
    assert client.get("/account/apps", follow_redirects=False).status_code == 303


def test_the_reset_form_answers_alike_and_mails_only_an_owner(
    portal: Starlette, outbox: Path, operator_made: None
) -> None:
    answers = []
    for email in (OWNER, "nobody.here@example.org"):
        with _browser(portal) as browser:
            asked = browser.post(
                "/account/reset", data={"csrf_token": csrf(browser, "/account/reset"), "email": email}
            )
            answers.append((asked.status_code, asked.text))
    assert answers[0] == answers[1] and answers[0][0] == 200
    assert [m["To"] for m in mails(outbox)] == [OWNER]
