"""The citizens' demo identity federation (examples/identity), started the way `agora run` starts it: its
people are the register's, and a person signs in with the demo password and is handed to the portal
with their NIR in the `national_id` claim."""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from agora.cli.serve import _start_citizen_identity
from examples import citizens
from examples.upstreams.benefits import BENEFICIARIES
from tests.gateway.integration.gateway_harness import free_port, stop, wait_for

PORTAL = "http://127.0.0.1:8002"
CALLBACK = PORTAL + "/my-data/callback"
VERIFIER = "a-code-verifier-of-at-least-forty-three-characters-for-pkce"


def test_its_people_are_the_registers_beneficiaries() -> None:
    people = {citizen.national_id: citizen for citizen in citizens.citizens()}
    assert len({c.login for c in people.values()}) == len(people) == len(BENEFICIARIES)
    for beneficiary in BENEFICIARIES:
        citizen = people[beneficiary.nir]
        assert (citizen.family_name, citizen.given_name, citizen.birthdate) == (
            beneficiary.family_name,
            beneficiary.given_names,
            beneficiary.birth_date.isoformat(),
        )
        assert re.fullmatch(r"[a-z]+", citizen.login)
    readme = (citizens.IDENTITY_DIR / "README.md").read_text()
    assert f"**`{citizens.demo_password()}`**" in readme
    assert all(f"| `{c.login}` |" in readme and f"`{c.national_id}`" in readme for c in people.values())


def test_run_leaves_an_operators_own_provider_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_CITIZEN_OIDC_ISSUER", "https://identity.example.gov")
    children: list[subprocess.Popen[bytes]] = []
    assert _start_citizen_identity(children, {}, portal_url=PORTAL, port=free_port()) == {}
    assert children == []


def test_run_without_node_says_so_and_goes_on(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AGORA_CITIZEN_OIDC_ISSUER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no node on it
    children: list[subprocess.Popen[bytes]] = []
    urls: dict[str, str] = {}
    assert _start_citizen_identity(children, urls, portal_url=PORTAL, port=free_port()) == {}
    assert children == [] and urls == {}
    out = " ".join(capsys.readouterr().out.split())
    assert "citizen sign-in (/my-data/) is off" in out and "node is not installed" in out


@dataclass(frozen=True)
class Provider:
    issuer: str
    secret: str


@pytest.fixture(scope="module")
def provider() -> Iterator[Provider]:
    if not (citizens.IDENTITY_DIR / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=citizens.IDENTITY_DIR, check=True, timeout=300,
        )  # fmt: skip
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("AGORA_CITIZEN_OIDC_ISSUER", raising=False)
        children: list[subprocess.Popen[bytes]] = []
        urls: dict[str, str] = {}
        port = free_port()
        env = _start_citizen_identity(children, urls, portal_url=PORTAL, port=port)
    (process,) = children
    try:
        issuer = f"http://127.0.0.1:{port}"
        assert env == {
            "AGORA_CITIZEN_OIDC_ISSUER": issuer,
            "AGORA_CITIZEN_OIDC_CLIENT_ID": "agora-citizens",
            "AGORA_CITIZEN_OIDC_CLIENT_SECRET": env["AGORA_CITIZEN_OIDC_CLIENT_SECRET"],
            "AGORA_CITIZEN_OIDC_SUBJECT_CLAIM": "national_id",
        }
        assert len(env["AGORA_CITIZEN_OIDC_CLIENT_SECRET"]) >= 40 and urls["identity"].startswith(issuer)
        wait_for(issuer + "/.well-known/openid-configuration", process)
        yield Provider(issuer, env["AGORA_CITIZEN_OIDC_CLIENT_SECRET"])
    finally:
        stop(process)


def test_discovery_announces_the_national_id_claim(provider: Provider) -> None:
    metadata = httpx.get(provider.issuer + "/.well-known/openid-configuration").json()
    assert metadata["issuer"] == provider.issuer
    assert "national_id" in metadata["claims_supported"]
    assert {"openid", "profile"} <= set(metadata["scopes_supported"])
    assert "code" in metadata["response_types_supported"]


def _authorize(browser: httpx.Client, provider: Provider, redirect_uri: str = CALLBACK) -> httpx.Response:
    challenge = base64.urlsafe_b64encode(hashlib.sha256(VERIFIER.encode()).digest()).rstrip(b"=").decode()
    return browser.get(
        provider.issuer + "/auth",
        params={
            "client_id": citizens.CLIENT_ID,
            "response_type": "code",
            "scope": "openid profile",
            "redirect_uri": redirect_uri,
            "state": "state-1",
            "nonce": "nonce-1",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )


def _follow(browser: httpx.Client, response: httpx.Response, stop_at: str) -> httpx.Response | str:
    """Follow the provider's redirects as a browser would; the URL reached on `stop_at`, or the page."""
    for _ in range(10):
        if response.status_code not in (302, 303):
            return response
        location = urljoin(str(response.url), response.headers["location"])
        if location.startswith(stop_at):
            return location
        response = browser.get(location)
    raise AssertionError("too many redirects")


def _login_page(browser: httpx.Client, provider: Provider) -> tuple[str, str]:
    page = _follow(browser, _authorize(browser, provider), CALLBACK)
    assert isinstance(page, httpx.Response) and page.status_code == 200
    action = re.search(r'<form method="post" action="([^"]+)"', page.text)
    assert action is not None
    return page.text, urljoin(str(page.url), action.group(1))


def test_a_citizen_signs_in_and_the_portal_gets_their_nir(provider: Provider) -> None:
    marie = next(c for c in citizens.citizens() if c.login == "marie")
    with httpx.Client(timeout=10) as browser:
        page, action = _login_page(browser, provider)
        assert f"<code>{citizens.demo_password()}</code>" in page and "national identification number" in page

        refused = browser.post(action, data={"login": "marie", "password": "not-the-password"})
        assert refused.status_code == 400 and "The login or the password is not right." in refused.text
        assert 'value="marie"' in refused.text  # the login is kept

        signed_in = browser.post(action, data={"login": " Marie ", "password": citizens.demo_password()})
        arrived = _follow(browser, signed_in, CALLBACK)
    assert isinstance(arrived, str), "no consent page for the platform's own portal"
    query = parse_qs(urlsplit(arrived).query)
    assert query["state"] == ["state-1"] and query["iss"] == [provider.issuer]

    tokens = httpx.post(
        provider.issuer + "/token",
        auth=(citizens.CLIENT_ID, provider.secret),
        data={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": CALLBACK,
            "code_verifier": VERIFIER,
        },
    )
    assert tokens.status_code == 200, tokens.text
    keys = KeySet.import_key_set(httpx.get(provider.issuer + "/jwks").json())
    claims = jwt.decode(tokens.json()["id_token"], keys).claims
    assert (claims["iss"], claims["aud"], claims["nonce"]) == (provider.issuer, citizens.CLIENT_ID, "nonce-1")
    assert claims["sub"] == "marie" and claims["national_id"] == marie.national_id == "285057505612338"
    userinfo = httpx.get(
        provider.issuer + "/me", headers={"Authorization": f"Bearer {tokens.json()['access_token']}"}
    ).json()
    assert userinfo["national_id"] == marie.national_id
    assert userinfo["name"] == "Marie Claire Dupont" and userinfo["birthdate"] == "1985-05-14"


def test_the_client_secret_is_checked(provider: Provider) -> None:
    response = httpx.post(
        provider.issuer + "/token",
        auth=(citizens.CLIENT_ID, "not-the-secret"),
        data={"grant_type": "authorization_code", "code": "x", "redirect_uri": CALLBACK},
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


def test_an_unknown_login_is_refused(provider: Provider) -> None:
    with httpx.Client(timeout=10) as browser:
        _, action = _login_page(browser, provider)
        refused = browser.post(action, data={"login": "mallory", "password": citizens.demo_password()})
    assert refused.status_code == 400 and "The login or the password is not right." in refused.text


def test_redirects_go_to_the_portals_origin_only(provider: Provider) -> None:
    with httpx.Client(timeout=10) as browser:
        elsewhere = _authorize(browser, provider, "http://127.0.0.1:9999/my-data/callback")
        assert elsewhere.status_code == 400 and "location" not in elsewhere.headers
        another_page = _authorize(browser, provider, PORTAL + "/my-data/other-callback")
        assert another_page.status_code == 303
        assert urlsplit(another_page.headers["location"]).path.startswith("/interaction/")


def test_cancelling_goes_back_to_the_portal_with_access_denied(provider: Provider) -> None:
    with httpx.Client(timeout=10) as browser:
        _, action = _login_page(browser, provider)
        back = _follow(browser, browser.get(action.removesuffix("/login") + "/abort"), CALLBACK)
    assert isinstance(back, str)
    assert parse_qs(urlsplit(back).query)["error"] == ["access_denied"]
