"""The citizens' identity federation in tests: a real OpenID Provider (oidc/citizen_provider.mjs) and a
person signing in through it, driven over HTTP (its development login and consent forms), so a test
can sign a citizen in to a portal, in-process (TestClient) or served (httpx.Client).

    with citizen_provider(portal + "/my-data/callback") as issuer:
        portal = create_portal_app(..., citizen=citizen_oidc_from_env(citizen_env(issuer)))
        sign_in_citizen(client, "alice")      # alice's national_id is ALICE of tests/registry/access_rows

The developers' provider (oidc/portal_provider.mjs, `developer_provider`) is driven the same way
(`provider_sign_in`).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from tests.devportal.browser.stack import REPO, free_port, wait_for

PROVIDER_SCRIPT = Path(__file__).resolve().parent / "oidc" / "citizen_provider.mjs"
DEVELOPER_PROVIDER_SCRIPT = Path(__file__).resolve().parent / "oidc" / "portal_provider.mjs"
PROVIDER_PACKAGE = REPO / "tests" / "oidc_provider"
CLIENT_ID = "agora-citizens"
CLIENT_SECRET = "agora-citizens-test-secret"  # the test provider's client, on loopback only
_ACTION = re.compile(r'<form[^>]*action="([^"]+)"')


def citizen_env(issuer: str, *, claim: str = "national_id") -> dict[str, str]:
    """The portal's settings for the test provider (subject taken from `claim`)."""
    return {
        "AGORA_CITIZEN_OIDC_ISSUER": issuer,
        "AGORA_CITIZEN_OIDC_CLIENT_ID": CLIENT_ID,
        "AGORA_CITIZEN_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "AGORA_CITIZEN_OIDC_SUBJECT_CLAIM": claim,
        "AGORA_CITIZEN_OIDC_SCOPE": "openid national_id",
    }


def _install() -> None:
    if not (PROVIDER_PACKAGE / "node_modules" / "oidc-provider").is_dir():
        subprocess.run(
            ["npm", "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=PROVIDER_PACKAGE, check=True, timeout=300,
        )  # fmt: skip


@contextmanager
def _provider(script: Path, redirect_uris: tuple[str, ...], env: dict[str, str]) -> Iterator[str]:
    _install()
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        ["node", str(script), str(port), *redirect_uris],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    try:
        wait_for(issuer + "/.well-known/openid-configuration", process)
        yield issuer
    finally:
        process.terminate()
        process.wait(timeout=10)


@contextmanager
def citizen_provider(*redirect_uris: str, people: dict[str, dict[str, str]] | None = None) -> Iterator[str]:
    """The provider running on a free loopback port, accepting these redirect URIs; yields its issuer.
    `people`: login -> claims (`national_id`, `name`) instead of the script's alice, bob, carol and
    mallory."""
    env = {"CITIZEN_PEOPLE": json.dumps(people)} if people is not None else {}
    with _provider(PROVIDER_SCRIPT, redirect_uris, env) as issuer:
        yield issuer


@contextmanager
def developer_provider(redirect_uri: str) -> Iterator[str]:
    """The developers' provider (any login; `<login>@oidc.example`, verified; mallory's userinfo answers
    for alice), client `agora-portal` / `agora-portal-test-secret`; yields its issuer."""
    with _provider(DEVELOPER_PROVIDER_SCRIPT, (redirect_uri,), {}) as issuer:
        yield issuer


def provider_sign_in(authorize_url: str, login: str) -> str:
    """What a person does at the provider: sign in as `login`, consent. Returns the URL the provider
    sends the browser back to (the portal's callback, with the code, state and issuer)."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(authorize_url))
    with httpx.Client(timeout=10.0) as browser:
        response = browser.get(authorize_url)
        for _ in range(10):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if not target.startswith(origin):
                    return target  # back to the relying party
                response = browser.get(target)
                continue
            assert response.status_code == 200, response.text
            action = _ACTION.search(response.text)
            assert action, response.text
            fields = (
                {"prompt": "login", "login": login, "password": "any"}
                if 'name="login"' in response.text
                else {"prompt": "consent"}
            )
            response = browser.post(urljoin(str(response.url), action.group(1)), data=fields)
    raise AssertionError("the provider never sent the browser back")


def sign_in_citizen(client: httpx.Client, login: str) -> httpx.Response:
    """The whole sign-in on a portal client (TestClient or httpx.Client): /my-data/signin, the provider,
    the callback. Returns the callback's answer (303 to /my-data/ when signed in); the client then
    holds the citizen's cookie."""
    started = client.get("/my-data/signin", follow_redirects=False)
    assert started.status_code == 303, started.text
    back = provider_sign_in(started.headers["location"], login)
    return client.get(back, follow_redirects=False)
