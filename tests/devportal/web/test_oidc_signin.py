"""Developers' sign-in through a real OpenID Provider (oidc/portal_provider.mjs), in-process: an account
is linked to the provider's subject with its verified email, and the answers a careful relying party
refuses are refused exactly as on the citizens' sign-in (devportal/web/oidc_client.py, shared): an
answer for another browser, a provider's error in a crafted link, an `iss` naming another provider
(RFC 9207), a userinfo answer about another subject, metadata naming another issuer."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from agora.settings import Settings
from devportal.web.app import create_portal_app
from devportal.web.mailer import OutboxMailer
from devportal.web.routes_oidc import oidc_client_from_env
from registry.models import Developer, ExternalIdentity
from tests.devportal.citizen_oidc import developer_provider, provider_sign_in

PORTAL = "http://127.0.0.1:8002"
JSON = {"Accept": "application/json"}  # failures as problem documents, whose detail a test can read


@pytest.fixture(scope="module")
def issuer() -> Iterator[str]:
    with developer_provider(PORTAL + "/account/oidc/callback") as started:
        yield started


def _env(issuer: str) -> dict[str, str]:
    return {
        "AGORA_OIDC_ISSUER": issuer,
        "AGORA_OIDC_CLIENT_ID": "agora-portal",
        "AGORA_OIDC_CLIENT_SECRET": "agora-portal-test-secret",
    }


def _portal(settings: Settings, sessions: sessionmaker[Session], tmp_path: Path, issuer: str) -> TestClient:
    app = create_portal_app(
        settings,
        sessions,
        site_dir=tmp_path / "site",
        mailer=OutboxMailer(tmp_path / "outbox"),
        oidc=oidc_client_from_env(_env(issuer)),
    )
    return TestClient(app, base_url=PORTAL)


@pytest.fixture
def portal(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path, issuer: str
) -> Iterator[TestClient]:
    with _portal(settings, sessions, tmp_path, issuer) as client:
        yield client


def _started(client: TestClient) -> str:
    """Starts a sign-in; the provider's authorization URL."""
    answer = client.get("/account/oidc/login", follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {**dict(parse_qsl(parts.query)), **changes}
    return urlunsplit(parts._replace(query=urlencode(query)))


def _refused(client: TestClient, url: str) -> str:
    answer = client.get(url, headers=JSON, follow_redirects=False)
    assert answer.status_code == 401, answer.text
    detail: str = answer.json()["detail"]
    return detail


def _identities(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(ExternalIdentity)) or 0


def test_a_developer_signs_in_and_the_account_is_linked(
    portal: TestClient, sessions: sessionmaker[Session], issuer: str
) -> None:
    location = _started(portal)
    assert location.startswith(issuer) and "code_challenge_method=S256" in location and "nonce=" in location
    back = portal.get(provider_sign_in(location, "alice"), follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == "/account/"
    home = portal.get("/account/")
    assert "Signed in through your identity provider" in home.text and "alice@oidc.example" in home.text
    with sessions() as session:
        identity = session.scalars(select(ExternalIdentity)).one()
        assert (identity.issuer, identity.subject) == (issuer, "alice")
        developer = session.get(Developer, identity.developer_id)
        assert developer is not None and developer.email == "alice@oidc.example"
    # The sign-in under way serves once: the same answer again is refused.
    assert "start again" in _refused(portal, "/account/oidc/callback?code=x&state=y")


def test_answers_that_cannot_be_trusted_sign_nobody_in(
    portal: TestClient, sessions: sessionmaker[Session], issuer: str
) -> None:
    # No sign-in under way in this browser.
    assert "start again" in _refused(portal, "/account/oidc/callback?code=x&state=y")
    # An answer meant for another sign-in (another browser, or an attacker's own): refused.
    mine = _started(portal)
    assert "does not belong" in _refused(portal, provider_sign_in(mine.replace("state=", "state=x"), "bob"))
    # A crafted link carrying a provider's "error": its text is never shown without this sign-in's state.
    _started(portal)
    lure = "/account/oidc/callback?error=access_denied&error_description=Call+0800+000+000&state=forged"
    detail = _refused(portal, lure)
    assert "0800" not in detail and "does not belong" in detail
    location = _started(portal)
    state = dict(parse_qsl(urlsplit(location).query))["state"]
    detail = _refused(
        portal, f"/account/oidc/callback?error=access_denied&error_description=aborted&state={state}"
    )
    assert detail == "the identity provider did not sign you in: aborted"
    # The answer says it comes from another provider (RFC 9207 `iss`): a mix-up, refused.
    back = provider_sign_in(_started(portal), "alice")
    assert dict(parse_qsl(urlsplit(back).query))["iss"] == issuer
    assert "another identity provider" in _refused(portal, _with_query(back, iss="https://attacker.example"))
    # The userinfo endpoint (where the email comes from) answers for another subject: refused.
    swapped = provider_sign_in(_started(portal), "mallory")
    assert "userinfo endpoint answered for another person" in _refused(portal, swapped)
    assert _identities(sessions) == 0
    with sessions() as session:
        assert session.scalar(select(Developer).where(Developer.email.like("%@oidc.example"))) is None


def test_metadata_naming_another_issuer_stops_the_sign_in(
    settings: Settings, sessions: sessionmaker[Session], tmp_path: Path, issuer: str, portal: TestClient
) -> None:
    """The portal asks localhost; the provider's metadata says 127.0.0.1: authlib would check the ID
    token's `iss` against the metadata's, so nothing that provider says is trusted."""
    with _portal(settings, sessions, tmp_path, issuer.replace("127.0.0.1", "localhost")) as misled:
        starting = misled.get("/account/oidc/login", headers=JSON, follow_redirects=False)
        assert starting.status_code == 503 and "names another issuer" in starting.json()["detail"]
        # An answer to a sign-in started where the metadata was right is not finished here either.
        back = provider_sign_in(_started(portal), "alice")
        misled.cookies.set("agora_portal", portal.cookies["agora_portal"])
        answered = misled.get(back, headers=JSON, follow_redirects=False)
        assert answered.status_code == 503 and "names another issuer" in answered.json()["detail"]
    assert _identities(sessions) == 0
